"""Extension requests (延期申请) of a problem (thin: rules live in extensions/service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.kit.params import INT64_MAX
from services.rectification.deps import PolicyDep, ValidProblem
from services.rectification.enums import ExtensionStatus
from services.rectification.extensions import access, service
from services.rectification.extensions.schemas import ExtensionCreate, ExtensionDecision, ExtensionRead
from services.rectification.roles import READERS

TAG = "rectification.extensions"
router = APIRouter(tags=[TAG])

ExtensionIdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="The extension request's id")]


@router.post(
    "/problems/{problem_id}/extensions",
    status_code=201,
    response_model=ExtensionRead,
    responses=errors(409),
    **allow(*access.REQUESTERS),
)
async def request_problem_extension(
    problem: ValidProblem,
    body: ExtensionCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ExtensionRead:
    """Ask the issuing authority for a later deadline (延期申请)."""
    ext = await service.request_extension(
        session, problem=problem, ext_in=body, principal=principal, now=clock.now(), policy=policy
    )
    return ExtensionRead.model_validate(ext)


@router.get("/problems/{problem_id}/extensions", response_model=Page[ExtensionRead], **allow(*READERS))
async def list_problem_extensions(
    problem: ValidProblem,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ExtensionStatus | None, Query(description="Only requests in this status")] = None,
) -> Page[ExtensionRead]:
    """List a problem's extension requests and their decisions, oldest first."""
    return await service.list_extensions(session, problem=problem, status=status, page=page)


@router.post(
    "/problems/{problem_id}/extensions/{extension_id}/decision",
    response_model=ExtensionRead,
    responses=errors(409),
    **allow(*access.DECIDERS),
)
async def decide_problem_extension(
    problem: ValidProblem,
    extension_id: ExtensionIdPath,
    body: ExtensionDecision,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ExtensionRead:
    """Approve or reject an extension request (issuing authority only)."""
    ext = await service.decide_extension(
        session,
        problem=problem,
        extension_id=extension_id,
        approve=body.approve,
        note=body.note,
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return ExtensionRead.model_validate(ext)
