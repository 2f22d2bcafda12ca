"""A round's results: district composites and rankings, site rankings, problems by item, trend, exports, publication."""
