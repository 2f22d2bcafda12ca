"""API shapes of intake: event envelopes, batches and their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.kit.text import InputModel

_ENVELOPE_EXAMPLE: JsonDict = {
    "id": "0b6f3c1e-2a8e-4a43-9d0e-5b1c2f3a4d5e",
    "type": "scoring.sheet.changed",
    "source": "scoring",
    "occurred_at": "2026-03-02T08:00:00Z",
    "version": 1,
    "data": {"round_code": "2026Q1", "sheet_id": "101", "revision": 3, "status": "locked"},
}


class EventEnvelope(InputModel):
    """The outbox envelope every service POSTs to `/events`."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENVELOPE_EXAMPLE]})

    id: str = Field(min_length=1, max_length=64)
    """The event id (also its Idempotency-Key): a second event with this id is absorbed."""
    type: str = Field(min_length=1, max_length=100)
    """The event type (the kit's catalogue, docs/events.md)."""
    source: str = Field(min_length=1, max_length=100)
    """The service that sent it."""
    occurred_at: datetime
    """When it happened (the dashboard's `as_of` is the newest of these)."""
    version: int | None = Field(default=None, ge=1, le=1000)
    """The version of the event type's schema `data` follows; none: the newest."""
    data: dict[str, Any]
    """The entity's snapshot, exactly as the type's schema describes it."""


class EventBatch(BaseModel):
    """Several envelopes at once (the outbox relay's batch mode); each is accepted or refused on its own."""

    model_config = ConfigDict(
        use_attribute_docstrings=True, json_schema_extra={"examples": [{"events": [_ENVELOPE_EXAMPLE]}]}
    )

    events: list[dict[str, JsonValue]] = Field(min_length=1, max_length=500)
    """The envelopes (each as POST /events takes it)."""


class EventAccepted(OutputModel):
    """An event taken in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ENVELOPE_EXAMPLE["id"],
                    "type": "scoring.sheet.changed",
                    "seq": 42,
                    "status": "applied",
                }
            ]
        }
    )

    id: str
    """The event id."""
    type: str
    """The event type."""
    seq: int | None
    """Its place in the event store (null for a duplicate: the first one's place is kept)."""
    status: Literal["applied", "ignored", "duplicate"]
    """applied: projected into the read model; ignored: stored, a type reporting does not use;
    duplicate: an event with this id was already stored (nothing changed)."""


class EventResult(OutputModel):
    """What became of one event of a batch."""

    id: str | None = None
    """The event id (null when the event had no usable id)."""
    status: int = Field(description="What POST /events would have answered for this event.")
    body: dict[str, JsonValue]
    """What POST /events would have answered: the acceptance, or a problem document."""


class EventBatchResults(OutputModel):
    """One result per event, in the order sent."""

    results: list[EventResult]
    """One per event, in the order sent."""
