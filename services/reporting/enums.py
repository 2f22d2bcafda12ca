"""The values reporting answers with a fixed set of (the values are the wire format)."""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    """A grade (等次), as scoring gives it: 好, 较好, 一般, 差."""

    GOOD = "好"
    FAIRLY_GOOD = "较好"
    AVERAGE = "一般"
    POOR = "差"
