"""Published results: immutable, hashed versions of a round's results, and their publication."""
