"""Evidence (佐证材料): photos and documents behind findings and rectifications, uploaded, stored once
per content hash, served with ranges and thumbnails, and re-checked by a scrub."""

__version__ = "0.1.0"
