from __future__ import annotations

from pydantic import ConfigDict

from services.kit.schema import OutputModel


class RebuildResult(OutputModel):
    """What a rebuild replayed, and how fast."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"events": 30512, "seconds": 4.87, "events_per_second": 6265.3}]}
    )

    events: int
    """Events replayed (the whole store)."""
    seconds: float
    """How long the replay took."""
    events_per_second: float
    """events / seconds."""
