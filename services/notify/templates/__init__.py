"""Templates: the words of each event type on each channel, versioned; the catalogue of event types."""
