from __future__ import annotations

from services.kit.schema import OutputModel


class RebuildResult(OutputModel):
    """What a rebuild replayed, and how fast."""

    events: int
    """Events replayed (the whole store)."""
    seconds: float
    """How long the replay took."""
    events_per_second: float
    """events / seconds."""
