"""Helpers shared by the API convention tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# A datetime as JSON carries it: a date, `T`, a time, maybe an offset.
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def datetimes(value: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) for every string in a JSON value that is a datetime (``.items[0].created_at``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from datetimes(v, f"{at}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from datetimes(v, f"{at}[{i}]")
    elif isinstance(value, str) and ISO_DATETIME.match(value):
        yield at, value
