"""Deliveries: one notification to one recipient on one channel; the dead-letter list, re-drives, statistics."""
