"""Path and header parameters the documents' routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path

RoundCodePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The round's code, e.g. 2026Q1",
        examples=["2026Q1"],
    ),
]
ReportId = Annotated[int, Path(ge=1, le=2**53, description="The special report's id", examples=[3])]
IfMatch = Annotated[str | None, Header(max_length=200, description="The report's ETag as last read")]
