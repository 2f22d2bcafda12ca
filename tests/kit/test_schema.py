"""services.kit.schema: response models in one datetime format, described from docstrings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel

from services.kit.schema import Instant, OutputModel, to_utc, utc_z

BEIJING = timezone(timedelta(hours=8))


class Event(OutputModel):
    at: datetime
    """When it happened."""
    history: list[datetime] = []
    """Earlier times."""
    later: datetime | None = None


class Row:
    def __init__(self) -> None:
        self.at = datetime(2026, 10, 9, 9, 30, tzinfo=BEIJING)


def test_every_datetime_leaves_as_utc_with_z() -> None:
    e = Event(at=datetime(2026, 10, 9, 9, 30, tzinfo=BEIJING), history=[datetime(2026, 1, 1, 0, 0)])
    body = e.model_dump(mode="json")
    assert body["at"] == "2026-10-09T01:30:00Z"
    assert body["history"] == ["2026-01-01T00:00:00Z"]  # naive (SQLite) is taken as UTC
    assert body["later"] is None


def test_built_from_attributes() -> None:
    assert Event.model_validate(Row()).model_dump(mode="json")["at"] == "2026-10-09T01:30:00Z"


def test_attribute_docstrings_are_descriptions() -> None:
    props = Event.model_json_schema()["properties"]
    assert props["at"]["description"] == "When it happened."
    assert props["history"]["description"] == "Earlier times."


def test_helpers() -> None:
    assert to_utc(datetime(2026, 1, 1, 8, tzinfo=BEIJING)) == datetime(2026, 1, 1, 0, tzinfo=UTC)
    assert utc_z(datetime(2026, 1, 1, 8, tzinfo=BEIJING)) == "2026-01-01T00:00:00Z"

    class Other(BaseModel):
        when: Instant

    assert (
        Other(when=datetime(2026, 1, 1, 8, tzinfo=BEIJING)).model_dump_json()
        == '{"when":"2026-01-01T00:00:00Z"}'
    )
