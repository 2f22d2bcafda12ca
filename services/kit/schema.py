"""Response models: one datetime format, descriptions from attribute docstrings.

Every response schema derives from :class:`OutputModel`. A field is documented by the docstring
under it (``use_attribute_docstrings``) or by ``Field(description=...)``, so the OpenAPI document
carries a description for every property. Datetimes leave every service in one format, UTC with
``Z`` (``2026-10-09T01:30:00Z``): pydantic writes ``Z`` for a UTC datetime, and every datetime an
``OutputModel`` holds is moved to UTC when the model is built (a naive one is taken to be UTC, as
SQLite returns them). A value meant as a Beijing calendar day is a ``date``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive value is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_z(value: datetime) -> str:
    """``value`` as ISO 8601 in UTC with ``Z``: the one format every API answer uses."""
    return to_utc(value).isoformat().replace("+00:00", "Z")


Instant = Annotated[datetime, AfterValidator(to_utc)]
"""A point in time, held and serialised in UTC (``Z``); for models that are not ``OutputModel``."""


def _utc_all(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, list):
        return [_utc_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _utc_all(v) for k, v in value.items()}
    return value


class OutputModel(BaseModel):
    """Base of response bodies: attribute docstrings become descriptions; datetimes are UTC ``Z``."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _datetimes_in_utc(cls, value: Any) -> Any:
        return _utc_all(value)
