"""Rectification's HTTP API (thin: rules live in service.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from services.kit import outbox
from services.kit.auth import PrincipalDep, allow, internal, public
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import ServiceUnavailable
from services.kit.params import IdPath, OffsetQuery
from services.rectification import access, calendars, extensions, ical, repository, service
from services.rectification.deps import DirectoryDep, PolicyDep, ValidProblem
from services.rectification.errors import CalendarFeedNotFound
from services.rectification.models import Problem, idempotency_key
from services.rectification.schedule import SEVERITY_LABELS, light_bounds
from services.rectification.schemas import (
    AssignIn,
    Bulletin,
    BulletinItem,
    CalendarTokenRead,
    CalendarYearIn,
    CalendarYearRead,
    CloseIn,
    Counts,
    DistrictStats,
    DistrictStatsList,
    ExtensionCreate,
    ExtensionDecision,
    ExtensionList,
    ExtensionRead,
    FindingEnvelope,
    FollowUpSite,
    FollowUpSites,
    HistoryList,
    HistoryRead,
    Light,
    PersonRead,
    ProblemCreate,
    ProblemList,
    ProblemRead,
    ProgressIn,
    ReturnIn,
    Severity,
    StartIn,
    Status,
    SubmitIn,
    TemplateIn,
    TemplateList,
    TemplateRead,
)
from services.rectification.workdays import local_date

router = APIRouter(tags=["rectification"])
public_router = APIRouter(tags=["rectification-calendar"])

# Roles say what a caller may do; every route also keeps it inside its scope (access.py).
READERS = ("city_admin", "district_admin", "responsible", "leader", "system", "team_leader", "inspector")
ADMINS = ("city_admin", "district_admin")
OVERSEERS = access.OVERSEERS
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = OffsetQuery
# Free-text filters: bounded, and no control characters (a NUL would reach the database driver).
_NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
CodeQuery = Annotated[str | None, Query(max_length=64, pattern=_NO_CONTROL)]
TextQuery = Annotated[str | None, Query(max_length=100, pattern=_NO_CONTROL)]
DistrictQuery = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_\-]+$")]


async def _read(session: SessionDep, problem: Problem, clock: ClockDep, policy: PolicyDep) -> ProblemRead:
    assert problem.id is not None
    milestones = (await repository.milestones_of(session, [problem.id]))[problem.id]
    return service.to_read(
        problem, milestones, now=clock.now(), calendar=await calendars.load_calendar(session), policy=policy
    )


async def _read_many(
    session: SessionDep, problems: list[Problem], clock: ClockDep, policy: PolicyDep
) -> list[ProblemRead]:
    milestones = await repository.milestones_of(session, [p.id for p in problems if p.id is not None])
    calendar = await calendars.load_calendar(session)
    now = clock.now()
    return [
        service.to_read(p, milestones[p.id], now=now, calendar=calendar, policy=policy)
        for p in problems
        if p.id is not None
    ]


# --- intake ----------------------------------------------------------------------------------


@router.post("/findings", status_code=201, **internal())
async def receive_finding(
    envelope: FindingEnvelope,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    idempotency_key_header: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> Response:
    """Turn a scoring finding into a problem (idempotent by event id; the services' own principal only)."""
    body_hash = outbox.request_hash(await request.body())
    replay = await outbox.idempotent_replay(
        session, idempotency_key, key=idempotency_key_header, body_hash=body_hash
    )
    if replay is not None:
        status_code, stored = replay
        return JSONResponse(stored, status_code=status_code, headers={"idempotent-replay": "true"})
    try:
        problem, created = await service.create_problem_from_finding(
            session, envelope=envelope, now=clock.now(), policy=policy
        )
        answer = {"problem_id": problem.id, "created": created}
        status_code = 201 if created else 200
        await outbox.remember_response(
            session,
            idempotency_key,
            key=idempotency_key_header,
            body_hash=body_hash,
            status_code=status_code,
            response=answer,
            now=clock.now(),
        )
    except IntegrityError as exc:
        # A twin delivery of the same event committed first: ask the sender to retry, and the retry
        # gets the stored answer (a 409 would make the relay give up on the event).
        raise ServiceUnavailable(
            "The same finding is being recorded by a concurrent delivery; retry", headers={"retry-after": "1"}
        ) from exc
    return JSONResponse(answer, status_code=status_code)


@router.post("/problems", status_code=201, response_model=ProblemRead, **allow(*ADMINS))
async def create_problem(
    problem_in: ProblemCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    directory: DirectoryDep,
) -> ProblemRead:
    """Enter a problem by hand, with its countdown schedule."""
    problem = await service.create_problem(
        session,
        principal=principal,
        problem_in=problem_in,
        directory=directory,
        now=clock.now(),
        policy=policy,
    )
    return await _read(session, problem, clock, policy)


# --- lists and reads -------------------------------------------------------------------------


@router.get("/problems", response_model=ProblemList, **allow(*READERS))
async def list_problems(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    district: DistrictQuery = None,
    site_code: CodeQuery = None,
    category: TextQuery = None,
    severity: Severity | None = None,
    status: Status | None = None,
    light: Light | None = None,
    responsible_person_id: TextQuery = None,
    round_code: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProblemList:
    """List problems (问题清单) you may see, filtered."""
    f = repository.ProblemFilter(
        district=district,
        site_code=site_code,
        category=category,
        severity=severity,
        status=status,
        responsible_person_id=responsible_person_id,
        round_code=round_code,
        light_range=(
            light_bounds(light, clock.now(), yellow_days=policy.yellow_days, red_days=policy.red_days)
            if light
            else None
        ),
    )
    problems, total = await repository.list_problems(
        session, access.visibility_filter(principal, f), limit=limit, offset=offset
    )
    return ProblemList(
        items=await _read_many(session, problems, clock, policy), total=total, limit=limit, offset=offset
    )


@router.get("/my/problems", response_model=ProblemList, **allow(*READERS))
async def list_my_problems(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
    include_closed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProblemList:
    """List the problems you are responsible for, most urgent first."""
    f = repository.ProblemFilter(
        responsible_person_id=principal.sub,
        visible=repository.Visibility(principal=principal, own_person_id=principal.sub),
    )
    if not include_closed:
        f.light_range = (None, None)
    problems, total = await repository.list_problems(session, f, limit=limit, offset=offset, by_urgency=True)
    return ProblemList(
        items=await _read_many(session, problems, clock, policy), total=total, limit=limit, offset=offset
    )


@router.get("/problems/{problem_id}", response_model=ProblemRead, **allow(*READERS))
async def get_problem(
    problem: ValidProblem, session: SessionDep, clock: ClockDep, policy: PolicyDep
) -> ProblemRead:
    """Read one problem with its milestones, days left and light."""
    return await _read(session, problem, clock, policy)


@router.get("/problems/{problem_id}/history", response_model=HistoryList, **allow(*READERS))
async def get_problem_history(problem: ValidProblem, session: SessionDep) -> HistoryList:
    """Read every transition and change of a problem."""
    assert problem.id is not None
    rows = await repository.history_of(session, problem.id)
    return HistoryList(items=[HistoryRead.model_validate(h) for h in rows])


# --- lifecycle -------------------------------------------------------------------------------


@router.post("/problems/{problem_id}/assign", response_model=ProblemRead, **allow(*ADMINS))
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
    return await _read(session, problem, clock, policy)


@router.post("/problems/{problem_id}/start", response_model=ProblemRead, **allow("responsible", *ADMINS))
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
    return await _read(session, problem, clock, policy)


@router.post("/problems/{problem_id}/progress", response_model=ProblemRead, **allow("responsible", *ADMINS))
async def report_problem_progress(
    problem: ValidProblem,
    body: ProgressIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Report progress (the first report meets the mid-term milestone)."""
    await service.report_progress(
        session,
        problem=problem,
        note=body.note,
        evidence=[e.model_dump() for e in body.evidence],
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return await _read(session, problem, clock, policy)


@router.post("/problems/{problem_id}/submit", response_model=ProblemRead, **allow("responsible", *ADMINS))
async def submit_problem(
    problem: ValidProblem,
    body: SubmitIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ProblemRead:
    """Submit the rectification for verification, with evidence."""
    await service.submit(
        session,
        problem=problem,
        note=body.note,
        evidence=[e.model_dump() for e in body.evidence],
        principal=principal,
        now=clock.now(),
        policy=policy,
    )
    return await _read(session, problem, clock, policy)


@router.post(
    "/problems/{problem_id}/close", response_model=ProblemRead, **allow("team_leader", "inspector", *ADMINS)
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
    return await _read(session, problem, clock, policy)


@router.post(
    "/problems/{problem_id}/return", response_model=ProblemRead, **allow("team_leader", "inspector", *ADMINS)
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
    return await _read(session, problem, clock, policy)


@router.post(
    "/problems/{problem_id}/extensions",
    status_code=201,
    response_model=ExtensionRead,
    **allow("responsible", *ADMINS),
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
    ext = await extensions.request_extension(
        session, problem=problem, ext_in=body, principal=principal, now=clock.now(), policy=policy
    )
    return ExtensionRead.model_validate(ext)


@router.get("/problems/{problem_id}/extensions", response_model=ExtensionList, **allow(*READERS))
async def list_problem_extensions(problem: ValidProblem, session: SessionDep) -> ExtensionList:
    """List a problem's extension requests and their decisions."""
    assert problem.id is not None
    return ExtensionList(
        items=[ExtensionRead.model_validate(e) for e in await repository.extensions_of(session, problem.id)]
    )


@router.post(
    "/problems/{problem_id}/extensions/{extension_id}/decision",
    response_model=ExtensionRead,
    **allow("city_admin", "team_leader", "inspector", "district_admin"),
)
async def decide_problem_extension(
    problem: ValidProblem,
    extension_id: IdPath,
    body: ExtensionDecision,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> ExtensionRead:
    """Approve or reject an extension request (issuing authority only)."""
    ext = await extensions.decide_extension(
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


# --- statistics, bulletin, follow-up ---------------------------------------------------------


@router.get("/stats/districts", response_model=DistrictStatsList, **allow(*OVERSEERS))
async def get_district_stats(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep, round_code: CodeQuery = None
) -> DistrictStatsList:
    """Count open, overdue and closed (on time / late) problems per district, by category and severity."""
    f = access.visibility_filter(principal, repository.ProblemFilter(round_code=round_code))
    rows = await repository.district_stats_rows(session, f, now=clock.now())
    totals: dict[str, dict[str, Any]] = {}
    keys = ("open", "overdue", "closed_on_time", "closed_late")
    for r in rows:
        d = totals.setdefault(
            r["district"],
            {
                "counts": dict.fromkeys(keys, 0),
                "close_days": 0.0,
                "cat": defaultdict(Counts),
                "sev": defaultdict(Counts),
            },
        )
        for k in keys:
            n = int(r[k] or 0)
            d["counts"][k] += n
            setattr(d["cat"][r["category"]], k, getattr(d["cat"][r["category"]], k) + n)
            setattr(d["sev"][r["severity"]], k, getattr(d["sev"][r["severity"]], k) + n)
        d["close_days"] += float(r["close_days"] or 0.0)
    items = []
    for district, d in sorted(totals.items()):
        closed = d["counts"]["closed_on_time"] + d["counts"]["closed_late"]
        items.append(
            DistrictStats(
                district=district,
                **d["counts"],
                average_days_to_close=round(d["close_days"] / closed, 2) if closed else None,
                by_category=dict(d["cat"]),
                by_severity=dict(d["sev"]),
            )
        )
    return DistrictStatsList(items=items)


@router.get("/bulletin/overdue", response_model=Bulletin, **allow(*OVERSEERS))
async def get_overdue_bulletin(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    district: DistrictQuery = None,
    round_code: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Bulletin:
    """List overdue problems for the bulletin (问题通报), by district, most overdue first."""
    now = clock.now()
    f = access.visibility_filter(
        principal, repository.ProblemFilter(district=district, round_code=round_code)
    )
    problems, total = await repository.overdue_problems(session, f, now=now, limit=limit, offset=offset)
    items = [
        BulletinItem(
            problem_id=p.id or 0,
            district=p.district,
            site_code=p.site_code,
            site_name=p.site_name,
            org_unit=p.org_unit,
            category=p.category,
            severity=p.severity,
            severity_label=SEVERITY_LABELS.get(p.severity, p.severity),
            description=p.description,
            responsible_unit=p.responsible_unit,
            responsible_person=(
                PersonRead(user_id=p.responsible_person_id, name=p.responsible_person_name)
                if p.responsible_person_id
                else None
            ),
            deadline_at=p.deadline_at,
            days_overdue=(local_date(now) - local_date(p.deadline_at)).days,
            status=p.status,
        )
        for p in problems
    ]
    return Bulletin(items=items, total=total, limit=limit, offset=offset)


@router.get("/follow-up-sites", response_model=FollowUpSites, **internal())
async def list_follow_up_sites(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    round_code: CodeQuery = None,
    district: DistrictQuery = None,
) -> FollowUpSites:
    """List sites with overdue problems, for the follow-up visit (回头看; the services' own principal only)."""
    rows = await repository.follow_up_sites(
        session,
        now=clock.now(),
        round_code=round_code,
        district=district,
        visible=access.visibility(principal),
    )
    return FollowUpSites(items=[FollowUpSite(**r) for r in rows])


# --- templates and the working-day calendar --------------------------------------------------


def _template_read(severity: str, t: Any, customised: bool) -> TemplateRead:
    return TemplateRead(
        severity=severity, severity_label=SEVERITY_LABELS[severity], customised=customised, **t.as_dict()
    )


@router.get("/schedule-templates", response_model=TemplateList, **allow(*READERS))
async def list_schedule_templates(session: SessionDep) -> TemplateList:
    """List the countdown templates per severity."""
    return TemplateList(
        items=[_template_read(s, t, c) for s, t, c in await calendars.list_templates(session)]
    )


@router.put("/schedule-templates/{severity}", response_model=TemplateRead, **allow("city_admin"))
async def put_schedule_template(
    severity: Severity, body: TemplateIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> TemplateRead:
    """Replace the countdown template of one severity (for problems created from now on)."""
    access.require_city_wide(principal, "the countdown templates")
    t = await calendars.put_template(
        session, severity=severity, template_in=body, principal=principal, now=clock.now()
    )
    return _template_read(severity, t, True)


@router.put("/holiday-calendar/{year}", response_model=CalendarYearRead, **allow("city_admin"))
async def put_holiday_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: CalendarYearIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> CalendarYearRead:
    """Enter a year's official holidays and 调休 working days; provisional schedules are recomputed."""
    access.require_city_wide(principal, "the holiday calendar")
    recomputed = await calendars.enter_calendar_year(
        session, year=year, year_in=body, principal=principal, now=clock.now(), policy=policy
    )
    return CalendarYearRead(
        year=year,
        source="entered",
        holidays=sorted(set(body.holidays)),
        workdays=sorted(set(body.workdays)),
        recomputed_problems=recomputed,
    )


@router.get("/holiday-calendar/{year}", response_model=CalendarYearRead, **allow(*READERS))
async def get_holiday_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)], session: SessionDep
) -> CalendarYearRead:
    """Show where a year's working days come from (entered, the package, or the Mon-Fri fallback)."""
    calendar = await calendars.load_calendar(session)
    entered = calendar.entered.get(year)
    if entered is not None:
        return CalendarYearRead(
            year=year, source="entered", holidays=sorted(entered.holidays), workdays=sorted(entered.workdays)
        )
    if not calendar.knows_year(year):
        return CalendarYearRead(year=year, source="fallback", holidays=[], workdays=[])
    import chinese_calendar

    holidays = sorted(d for d in chinese_calendar.holidays if d.year == year)
    workdays = sorted(d for d in chinese_calendar.workdays if d.year == year)
    return CalendarYearRead(year=year, source="package", holidays=holidays, workdays=workdays)


# --- the iCalendar feed ----------------------------------------------------------------------


@router.post("/calendar-token", response_model=CalendarTokenRead, **allow(*READERS))
async def create_calendar_token(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CalendarTokenRead:
    """Issue (or rotate) the secret URL of your milestone calendar feed."""
    token = await ical.issue_token(session, principal=principal, now=clock.now())
    base = request.app.state.settings.calendar_base_url.rstrip("/")
    return CalendarTokenRead(url=f"{base}/calendar/{token}.ics", token=token)


@public_router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "RFC 5545 feed"}},
    **public(),
)
async def get_calendar_feed(
    token: Annotated[str, Path(min_length=20, max_length=100)], session: SessionDep, clock: ClockDep
) -> Response:
    """Read a person's open milestones as iCalendar (the secret token is the credential)."""
    body = await ical.feed_for_token(session, token=token, now=clock.now())
    if body is None:
        raise CalendarFeedNotFound("No calendar feed for this token (it may have been rotated)")
    return Response(
        body, media_type="text/calendar; charset=utf-8", headers={"cache-control": "private, max-age=300"}
    )
