"""Path and query parameters with the bounds the databases hold.

An id or offset of 2^63 or more overflows PostgreSQL's BIGINT and SQLite's INTEGER: validated here it
is a 422 naming the parameter instead of a 500 from the driver.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT64_MAX = 2**63 - 1
MAX_OFFSET = 10_000_000

IdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The object's id")]
"""An integer id in a path."""

OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip")]


def limit_query(default: int = 50, maximum: int = 500) -> object:
    """A ``limit`` query parameter with its default and maximum."""
    return Query(default, ge=1, le=maximum, description=f"Items per page (1-{maximum})")
