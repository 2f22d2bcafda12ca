"""Request dependencies: load what a path names or fail with the right problem."""

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from services.kit.db import SessionDep
from services.scoring import repository
from services.scoring.config import Settings
from services.scoring.errors import SheetNotFound
from services.scoring.models import ScoreSheet

RoundCode = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", examples=["2026Q1"])
]
IfMatch = Annotated[str | None, Header(description="The sheet's ETag as last read")]


async def valid_sheet(session: SessionDep, sheet_id: Annotated[str, Path(max_length=36)]) -> ScoreSheet:
    sheet = await repository.get_sheet(session, sheet_id)
    if sheet is None:
        raise SheetNotFound(f"No score sheet {sheet_id}", sheet_id=sheet_id)
    return sheet


async def sheet_for_update(session: SessionDep, sheet_id: Annotated[str, Path(max_length=36)]) -> ScoreSheet:
    """The sheet, row-locked until the request's transaction ends, so two writers with one ETag can't both win."""
    sheet = await repository.get_sheet(session, sheet_id, for_update=True)
    if sheet is None:
        raise SheetNotFound(f"No score sheet {sheet_id}", sheet_id=sheet_id)
    return sheet


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


ValidSheet = Annotated[ScoreSheet, Depends(valid_sheet)]
SheetForUpdate = Annotated[ScoreSheet, Depends(sheet_for_update)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
