"""Rubric versions and round bindings over HTTP (thin: rules live in service.py)."""

from __future__ import annotations

from fastapi import APIRouter

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.kit.params import IdPath
from services.scoring.deps import RoundCode
from services.scoring.rubrics import access, service
from services.scoring.rubrics.schemas import (
    RoundRubricBind,
    RoundRubricRead,
    RubricDraftCreate,
    RubricDraftUpdate,
    RubricPublish,
    RubricRead,
    RubricSummary,
)

TAG = "scoring.rubrics"
router = APIRouter(tags=[TAG])


@router.get("/rubrics", response_model=Page[RubricSummary], **allow(*access.READERS))
async def list_rubrics(session: SessionDep, page: PageDep) -> Page[RubricSummary]:
    """List rubric versions, drafts and published."""
    return await service.list_rubrics(session, page=page)


@router.get("/rubrics/{rubric_id}", response_model=RubricRead, **allow(*access.READERS))
async def get_rubric(rubric_id: IdPath, session: SessionDep) -> RubricRead:
    """Read one rubric version with its whole document."""
    return service.rubric_read(await service.get_rubric(session, rubric_id))


@router.post(
    "/rubrics", response_model=RubricRead, status_code=201, responses=errors(409), **allow(*access.EDITORS)
)
async def create_rubric_draft(
    body: RubricDraftCreate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Draft a new rubric version as a copy of an existing one."""
    access.require_editor(principal, "Drafting a rubric version")
    rubric = await service.create_draft(
        session,
        version=body.version,
        name=body.name,
        based_on_id=body.based_on_id,
        actor=principal.sub,
        now=clock.now(),
    )
    return service.rubric_read(rubric)


@router.put(
    "/rubrics/{rubric_id}", response_model=RubricRead, responses=errors(409), **allow(*access.EDITORS)
)
async def update_rubric_draft(
    rubric_id: IdPath, body: RubricDraftUpdate, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Replace a draft's items, points and weights."""
    access.require_editor(principal, "Editing a rubric version")
    rubric = await service.get_rubric(session, rubric_id)
    return service.rubric_read(
        await service.update_draft(session, rubric=rubric, definition=body.definition, now=clock.now())
    )


@router.post(
    "/rubrics/{rubric_id}/publish",
    response_model=RubricRead,
    responses=errors(409),
    **allow(*access.EDITORS),
)
async def publish_rubric(
    rubric_id: IdPath, body: RubricPublish, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> RubricRead:
    """Validate a draft and publish it, frozen from then on."""
    access.require_editor(principal, "Publishing a rubric version")
    rubric = await service.get_rubric(session, rubric_id)
    return service.rubric_read(
        await service.publish_rubric(
            session, rubric=rubric, make_default=body.make_default, actor=principal.sub, now=clock.now()
        )
    )


@router.get("/rounds/{round_code}/rubric", response_model=RoundRubricRead, **allow(*access.READERS))
async def get_round_rubric(round_code: RoundCode, session: SessionDep) -> RoundRubricRead:
    """Show which rubric version a round is scored on."""
    return await service.round_rubric(session, round_code)


@router.put(
    "/rounds/{round_code}/rubric",
    response_model=RoundRubricRead,
    responses=errors(409),
    **allow(*access.EDITORS),
)
async def bind_round_rubric(
    round_code: RoundCode,
    body: RoundRubricBind,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> RoundRubricRead:
    """Bind a round to a published rubric version."""
    access.require_editor(principal, "Binding a round to a rubric version")
    await service.bind_round(
        session, round_code=round_code, rubric_id=body.rubric_id, actor=principal.sub, now=clock.now()
    )
    return await service.round_rubric(session, round_code)
