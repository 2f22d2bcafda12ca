"""Problems (问题清单): entering, listing, the lifecycle, the bulletin and statistics.

Thin: each route parses, checks the role (``allow``), calls problems/service.py and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.kit.auth import PrincipalDep, allow, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep, PageParams, SearchQuery, Sort, page_params, sort_param
from services.rectification.deps import DirectoryDep, EvidenceDep, PolicyDep, ValidProblem
from services.rectification.enums import Light, Severity, Status
from services.rectification.problems import service
from services.rectification.problems.filters import SORT_FIELDS, ProblemFilter
from services.rectification.problems.schemas import (
    AssignBatchIn,
    AssignBatchRead,
    AssignIn,
    BulletinItem,
    CloseIn,
    DistrictStats,
    FollowUpSite,
    HistoryRead,
    MergeIn,
    ProblemCreate,
    ProblemRead,
    ProgressIn,
    ReturnIn,
    StartIn,
    SubmitIn,
    WithdrawIn,
)
from services.rectification.roles import ADMINS, ISSUERS, OVERSEERS, READERS

TAG = "rectification.problems"
router = APIRouter(tags=[TAG])

# Free-text filters: bounded, and no control characters (a NUL would reach the database driver).
_NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
DistrictQuery = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[a-z0-9_\-]+$", description="Only this district or zone, e.g. yinzhou"),
]
RoundQuery = Annotated[
    str | None,
    Query(
        max_length=64, pattern=_NO_CONTROL, description="Only problems of this inspection round, e.g. 2026Q1"
    ),
]
SortDep = Annotated[Sort, Depends(sort_param(SORT_FIELDS, "-id"))]
# Sampling asks for every follow-up site at once (up to 500).
FollowUpPageDep = Annotated[PageParams, Depends(page_params(default=500))]
TRANSITION_ERRORS = errors(409)


def _text_query(description: str, max_length: int = 100) -> object:
    return Query(max_length=max_length, pattern=_NO_CONTROL, description=description)


@router.post("/problems", status_code=201, response_model=ProblemRead, **allow(*ADMINS))
async def create_problem(
    problem_in: ProblemCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    directory: DirectoryDep,
    files: EvidenceDep,
) -> ProblemRead:
    """Enter a problem by hand, with its countdown schedule."""
    problem = await service.create_problem(
        session,
        principal=principal,
        problem_in=problem_in,
        directory=directory,
        files=files,
        now=clock.now(),
        policy=policy,
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.get("/problems", response_model=Page[ProblemRead], **allow(*READERS))
async def list_problems(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    page: PageDep,
    sort: SortDep,
    q: SearchQuery = None,
    district: DistrictQuery = None,
    site_code: Annotated[str | None, _text_query("Only problems at this site (its code)", 64)] = None,
    category: Annotated[str | None, _text_query("Only this category, e.g. 三会一课")] = None,
    severity: Annotated[Severity | None, Query(description="Only this severity")] = None,
    status: Annotated[Status | None, Query(description="Only problems in this status")] = None,
    light: Annotated[Light | None, Query(description="Only problems whose light is this now")] = None,
    responsible_person_id: Annotated[
        str | None, _text_query("Only problems this person (user id) is responsible for")
    ] = None,
    round_code: RoundQuery = None,
    sheet_id: Annotated[str | None, _text_query("Only problems from this score sheet", 64)] = None,
    unassigned: Annotated[
        bool | None,
        Query(description="true: only problems nobody is responsible for yet; false: only assigned"),
    ] = None,
) -> Page[ProblemRead]:
    """List problems (问题清单) you may see, filtered, searched (`q`: title, description, site) and sorted."""
    f = ProblemFilter(
        district=district,
        site_code=site_code,
        category=category,
        severity=severity,
        status=status,
        responsible_person_id=responsible_person_id,
        round_code=round_code,
        sheet_id=sheet_id,
        unassigned=unassigned,
        q=q,
    )
    return await service.list_problems(
        session,
        principal=principal,
        problem_filter=f,
        light=light,
        page=page,
        sort=sort,
        now=clock.now(),
        policy=policy,
    )


@router.get("/my/problems", response_model=Page[ProblemRead], **allow(*READERS))
async def list_my_problems(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    page: PageDep,
    include_closed: Annotated[
        bool,
        Query(description="Also list finished problems: closed, withdrawn, merged (after the open ones)"),
    ] = False,
) -> Page[ProblemRead]:
    """List the problems you are responsible for, most urgent first."""
    return await service.list_my_problems(
        session, principal=principal, include_closed=include_closed, page=page, now=clock.now(), policy=policy
    )


@router.get("/problems/{problem_id}", response_model=ProblemRead, **allow(*READERS))
async def get_problem(
    problem: ValidProblem, session: SessionDep, clock: ClockDep, policy: PolicyDep
) -> ProblemRead:
    """Read one problem with its milestones, days left and light."""
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.get("/problems/{problem_id}/history", response_model=Page[HistoryRead], **allow(*READERS))
async def get_problem_history(problem: ValidProblem, session: SessionDep, page: PageDep) -> Page[HistoryRead]:
    """Read every transition and change of a problem, oldest first."""
    return await service.history(session, problem, page)


# --- lifecycle -------------------------------------------------------------------------------


@router.post("/problems/assign-batch", response_model=AssignBatchRead, **allow(*ADMINS))
async def assign_problems_batch(
    body: AssignBatchIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    directory: DirectoryDep,
) -> AssignBatchRead:
    """Assign responsible people (责任人) to many problems at once, all or none: each item follows the
    rules of one assignment, and the refused ones are listed by index."""
    problems, assigned, unchanged = await service.assign_batch(
        session, batch=body, principal=principal, directory=directory, now=clock.now(), policy=policy
    )
    return AssignBatchRead(
        problems=await service.read_many(session, problems, now=clock.now(), policy=policy),
        assigned=assigned,
        unchanged=unchanged,
    )


@router.post(
    "/problems/{problem_id}/assign", response_model=ProblemRead, responses=TRANSITION_ERRORS, **allow(*ADMINS)
)
async def assign_problem(
    problem: ValidProblem,
    body: AssignIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    directory: DirectoryDep,
) -> ProblemRead:
    """Assign or reassign the responsible person (责任人), a person of notify's directory."""
    await service.assign(
        session,
        problem=problem,
        assign_in=body,
        principal=principal,
        directory=directory,
        now=clock.now(),
        policy=policy,
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/start",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow("responsible", *ADMINS),
)
async def start_problem(
    problem: ValidProblem,
    body: StartIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Start the rectification with its plan (open or returned → in progress)."""
    await service.start(
        session, problem=problem, plan=body.plan, principal=principal, now=clock.now(), policy=policy
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/progress",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow("responsible", *ADMINS),
)
async def report_problem_progress(
    problem: ValidProblem,
    body: ProgressIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    files: EvidenceDep,
) -> ProblemRead:
    """Report progress (the first report meets the mid-term milestone)."""
    await service.report_progress(
        session,
        problem=problem,
        note=body.note,
        evidence=body.evidence,
        files=files,
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/submit",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow("responsible", *ADMINS),
)
async def submit_problem(
    problem: ValidProblem,
    body: SubmitIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    files: EvidenceDep,
) -> ProblemRead:
    """Submit the rectification for verification, with evidence."""
    await service.submit(
        session,
        problem=problem,
        note=body.note,
        evidence=body.evidence,
        files=files,
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/close",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow(*ISSUERS, *ADMINS),
)
async def close_problem(
    problem: ValidProblem,
    body: CloseIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Verify and close the problem (销号)."""
    await service.close(
        session, problem=problem, note=body.note, principal=principal, now=clock.now(), policy=policy
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/return",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow(*ISSUERS, *ADMINS),
)
async def return_problem(
    problem: ValidProblem,
    body: ReturnIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Return a submitted rectification for rework, with a reason (the countdown continues)."""
    await service.return_for_rework(
        session, problem=problem, reason=body.reason, principal=principal, now=clock.now(), policy=policy
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/withdraw",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow(*ADMINS),
)
async def withdraw_problem(
    problem: ValidProblem,
    body: WithdrawIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Withdraw a duplicate or mistaken problem (撤销), with a reason: the issuing side's admin, from any
    state but closed, withdrawn or merged; its reminders stop and it leaves every count."""
    await service.withdraw(
        session, problem=problem, reason=body.reason, principal=principal, now=clock.now(), policy=policy
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


@router.post(
    "/problems/{problem_id}/merge",
    response_model=ProblemRead,
    responses=TRANSITION_ERRORS,
    **allow(*ADMINS),
)
async def merge_problem(
    problem: ValidProblem,
    body: MergeIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Merge a duplicate into another problem of the same site and round (合并): this one becomes merged,
    the other keeps its deadline and gains this one's evidence; answers this (merged) problem."""
    await service.merge(
        session,
        problem=problem,
        into=body.into,
        reason=body.reason,
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return await service.read(session, problem, now=clock.now(), policy=policy)


# --- statistics, bulletin, follow-up ---------------------------------------------------------


@router.get("/stats/districts", response_model=Page[DistrictStats], **allow(*OVERSEERS))
async def get_district_stats(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    page: PageDep,
    round_code: RoundQuery = None,
) -> Page[DistrictStats]:
    """Count open, overdue and closed (on time / late) problems per district, by category and severity."""
    return await service.district_stats(
        session, principal=principal, round_code=round_code, page=page, now=clock.now()
    )


@router.get("/bulletin/overdue", response_model=Page[BulletinItem], **allow(*OVERSEERS))
async def get_overdue_bulletin(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    page: PageDep,
    district: DistrictQuery = None,
    round_code: RoundQuery = None,
) -> Page[BulletinItem]:
    """List overdue problems for the bulletin (问题通报), by district, most overdue first."""
    return await service.overdue_bulletin(
        session, principal=principal, district=district, round_code=round_code, page=page, now=clock.now()
    )


@router.get("/follow-up-sites", response_model=Page[FollowUpSite], **internal())
async def list_follow_up_sites(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    page: FollowUpPageDep,
    round_code: RoundQuery = None,
    district: DistrictQuery = None,
) -> Page[FollowUpSite]:
    """List sites with overdue problems, for the follow-up visit (回头看; the services' own principal only)."""
    return await service.follow_up_sites(
        session, principal=principal, round_code=round_code, district=district, page=page, now=clock.now()
    )
