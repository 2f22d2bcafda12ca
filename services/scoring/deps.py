"""Request dependencies: load what a path names or fail with the right problem."""

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.scoring import repository, service
from services.scoring.config import Settings
from services.scoring.errors import sheet_not_found
from services.scoring.models import ScoreSheet

RoundCode = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", examples=["2026Q1"])
]
# Sheet ids are UUIDs; the pattern keeps NUL and other bytes a database refuses out of every query.
SheetId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=36,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The score sheet's id (a UUID)",
        examples=["3f0c9a52-6d1e-4f55-9a43-2f7d3c1e8b10"],
    ),
]
DistrictQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A district or zone slug, e.g. yinzhou",
    ),
]
IfMatch = Annotated[str | None, Header(max_length=200, description="The sheet's ETag as last read")]


async def valid_sheet(session: SessionDep, principal: PrincipalDep, sheet_id: SheetId) -> ScoreSheet:
    """The sheet, or 404 when it is missing or the caller may not see it (the same answer)."""
    sheet = await repository.get_sheet(session, sheet_id)
    if sheet is None or not service.can_read(sheet, principal):
        raise sheet_not_found(sheet_id)
    return sheet


async def sheet_for_update(session: SessionDep, principal: PrincipalDep, sheet_id: SheetId) -> ScoreSheet:
    """The sheet, row-locked until the request's transaction ends, so two writers with one ETag can't both win."""
    sheet = await repository.get_sheet(session, sheet_id, for_update=True)
    if sheet is None or not service.can_read(sheet, principal):
        raise sheet_not_found(sheet_id)
    return sheet


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


ValidSheet = Annotated[ScoreSheet, Depends(valid_sheet)]
SheetForUpdate = Annotated[ScoreSheet, Depends(sheet_for_update)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
