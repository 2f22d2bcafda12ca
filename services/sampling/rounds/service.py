"""Rules of rounds (督查批次): plans and follow-ups, the frozen frame, the draw and its record, the
reveal, publication and closing, and moving visits between teams.

Reads are shaped here too (a round with its current draw number, a draw's summary, pages of visits),
after ``access`` has said what the caller may see.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.kit.orgunit import district_unit
from services.kit.pagination import Page, PageParams, Sort
from services.kit.schema import utc_z
from services.sampling import algorithm as alg
from services.sampling import clients, errors, events
from services.sampling.enums import CommitmentMode, FollowUpSource, QuotaPer, RoundStatus
from services.sampling.importing import DISTRICT_TYPES, TOWN_TYPES
from services.sampling.inspectors import repository as inspectors_repository
from services.sampling.models import Assignment, Draw, Round, RoundFrame, Team, outbox_event
from services.sampling.rounds import access, repository
from services.sampling.rounds.frame import GROUPS, build_frame, quota_label
from services.sampling.rounds.schemas import (
    AssignmentRead,
    AssignmentUpdate,
    DrawRequest,
    DrawSummary,
    FrameRead,
    Plan,
    RoundCreate,
    RoundPlanUpdate,
    RoundRead,
    StratumSummary,
    TeamRead,
)
from services.sampling.sites import repository as sites_repository
from services.sampling.visits import service as visits

PLANNING, FROZEN, DRAWN = RoundStatus.PLANNING, RoundStatus.FRAME_FROZEN, RoundStatus.DRAWN
PUBLISHED, CLOSED = RoundStatus.PUBLISHED, RoundStatus.CLOSED
TEAM_NAMES = "一二三四五六七八九十"


def require_status(rnd: Round, *allowed: RoundStatus, action: str) -> None:
    if rnd.status not in allowed:
        if rnd.status == PLANNING and FROZEN in allowed:
            raise errors.FrameNotFrozen(
                f"Round {rnd.code} is still planning: freeze its frame before you {action}",
                zh=f"督查轮次 {rnd.code} 仍在计划中：请先冻结抽样框，再{errors.ROUND_ACTIONS_ZH.get(action, action)}",
            )
        raise errors.WrongRoundStatus(
            f"Cannot {action}: round {rnd.code} is {rnd.status} (needs {' or '.join(allowed)})",
            zh=f"无法{errors.ROUND_ACTIONS_ZH.get(action, action)}：督查轮次 {rnd.code} 当前为{errors.status_zh(rnd.status)}（需要{'或'.join(errors.status_zh(a) for a in allowed)}）",
            round_status=rnd.status,
            allowed=[str(a) for a in allowed],
        )


# Reads


async def round_read(session: AsyncSession, rnd: Round) -> RoundRead:
    """The round as the API shows it, with the number of its current draw."""
    number = None
    if rnd.current_draw_id is not None:
        draw = await repository.get_draw_by_id(session, rnd.current_draw_id)
        number = draw.number if draw else None
    return RoundRead.model_validate({**rnd.model_dump(), "current_draw_number": number})


async def list_rounds(
    session: AsyncSession, *, principal: Principal, status: RoundStatus | None, page: PageParams, sort: Sort
) -> Page[RoundRead]:
    """One page of rounds, each as this caller may see it."""
    rows, total = await repository.list_rounds(session, status=status, page=page, sort=sort)
    return Page.of([access.shown_to(principal, await round_read(session, r)) for r in rows], total, page)


def frame_read(rnd: Round, frame: dict[str, Any], *, with_codes: bool) -> FrameRead:
    assert rnd.frozen_at is not None and rnd.commitment is not None
    strata = [
        StratumSummary.model_validate({**s, "codes": s["codes"] if with_codes else None})
        for s in frame["strata"]
    ]
    return FrameRead(
        round_code=rnd.code,
        hash=frame["hash"],
        frozen_at=rnd.frozen_at,
        commitment=rnd.commitment,
        strata=strata,
        allocations=frame.get("allocations") or [],
        warnings=frame["warnings"],
    )


async def get_frame(session: AsyncSession, *, rnd: Round, with_codes: bool) -> FrameRead:
    """The frozen frame of a round (409 before the freeze)."""
    frame = await repository.get_frame(session, rnd.id) if rnd.id else None
    if frame is None:
        raise errors.FrameNotFrozen(
            f"Round {rnd.code} has no frozen frame yet", zh=f"督查轮次 {rnd.code} 尚无已冻结的抽样框"
        )
    return frame_read(rnd, frame.frame, with_codes=with_codes)


def draw_summary(rnd: Round, d: Draw) -> DrawSummary:
    return DrawSummary(
        number=d.number,
        algorithm=d.algorithm,
        public_value=d.public_value,
        reason=d.reason,
        record_sha256=d.record_sha256,
        created_by=d.created_by,
        created_at=d.created_at,
        current=rnd.current_draw_id == d.id,
        sites=sum(len(s["selected"]) for s in d.record["result"]["strata"]) + len(d.record["follow_ups"]),
        warnings=d.record["warnings"],
    )


async def list_draws(session: AsyncSession, *, rnd: Round) -> list[DrawSummary]:
    """Every draw of the round, redraws included, oldest first."""
    assert rnd.id is not None
    return [draw_summary(rnd, d) for d in await repository.list_draws(session, rnd.id)]


def export_record(rnd: Round, draw: Draw, frame: dict[str, Any]) -> dict[str, Any]:
    """The full, self-contained record: what `python -m services.sampling.verify` checks."""
    record = dict(draw.record)
    record["frame"] = {**record["frame"], "strata": frame["strata"]}
    record["seed"] = {**record["seed"], "secret": rnd.secret if rnd.revealed_at else None}
    record["record_sha256"] = draw.record_sha256
    record["current"] = rnd.current_draw_id == draw.id
    return record


async def draw_record(session: AsyncSession, *, rnd: Round, number: int) -> dict[str, Any]:
    """One draw's full record, as stored (its hash must keep matching, so it is not re-serialised)."""
    assert rnd.id is not None
    draw = await repository.get_draw(session, rnd.id, number)
    frame = await repository.get_frame(session, rnd.id)
    if draw is None or frame is None:
        raise errors.DrawNotFound(
            f"Round {rnd.code} has no draw {number}",
            zh=f"督查轮次 {rnd.code} 没有第 {number} 次抽签",
            round_code=rnd.code,
            number=number,
        )
    return export_record(rnd, draw, frame.frame)


def team_read(t: Team) -> TeamRead:
    assert t.id is not None
    return TeamRead(
        id=t.id,
        number=t.number,
        name=t.name,
        leader_user_id=t.leader_user_id,
        member_user_ids=list(t.member_user_ids),
        districts=list(t.districts),
    )


async def list_teams(session: AsyncSession, *, rnd: Round, principal: Principal) -> list[TeamRead]:
    """The teams of the current draw the caller may see."""
    return [team_read(t) for t in await access.visible_teams(session, rnd, principal)]


def assignment_read(rnd: Round, team: Team, a: Assignment) -> AssignmentRead:
    return AssignmentRead.model_validate(
        {
            "round_code": rnd.code,
            "status": rnd.status,
            "site": {
                "code": a.site_code,
                "name": a.site_name,
                "type": a.site_type,
                "org_unit": a.org_unit,
                "district": a.district,
            },
            "team": {
                "id": team.id,
                "name": team.name,
                "leader_user_id": team.leader_user_id,
                "member_user_ids": team.member_user_ids,
            },
            "visit_from": a.visit_from,
            "visit_to": a.visit_to,
            "visit_on": a.visit_on,
            "follow_up": a.follow_up,
            "stratum": a.stratum,
            "changed_at": a.changed_at,
            "change_reason": a.change_reason,
        }
    )


async def list_assignments(
    session: AsyncSession,
    *,
    rnd: Round,
    principal: Principal,
    team_id: int | None,
    district: str | None,
    page: PageParams,
) -> Page[AssignmentRead]:
    """The visits of the current draw inside the caller's scope, of the teams it may see."""
    teams = {t.id: t for t in await access.visible_teams(session, rnd, principal)}
    if rnd.current_draw_id is None or not teams:
        return Page.of([], 0, page)
    ids = [i for i in teams if i is not None and (team_id is None or i == team_id)]
    rows, total = await repository.list_assignments(
        session, rnd.current_draw_id, team_ids=ids, district=district, visible_to=principal, page=page
    )
    return Page.of([assignment_read(rnd, teams[a.team_id], a) for a in rows], total, page)


async def get_assignment(
    session: AsyncSession, *, rnd: Round, site_code: str, principal: Principal
) -> AssignmentRead:
    """Whether a site the caller may see was drawn in the round, by which team and when."""
    team, a = await access.visible_assignment(session, rnd, site_code, principal)
    return assignment_read(rnd, team, a)


async def assignments_of_user(
    session: AsyncSession, *, principal: Principal, round_code: str | None = None
) -> list[AssignmentRead]:
    """Visits inside the principal's scope of every published round (or `round_code`) in which it sits on a team."""
    user_id = principal.sub
    out = []
    for rnd in await repository.published_rounds(session, code=round_code):
        assert rnd.current_draw_id is not None
        mine = [
            t
            for t in await repository.teams_of_draw(session, rnd.current_draw_id)
            if user_id == t.leader_user_id or user_id in t.member_user_ids
        ]
        if not mine:
            continue
        by_id = {t.id: t for t in mine if t.id is not None}
        rows, _ = await repository.list_assignments(
            session, rnd.current_draw_id, team_ids=list(by_id), visible_to=principal
        )
        out += [assignment_read(rnd, by_id[a.team_id], a) for a in rows]
    return out


# Planning


async def _check_plan(
    session: AsyncSession, principal: Principal, districts: list[str] | None, plan: Plan
) -> list[str]:
    known = await sites_repository.district_slugs(session)
    chosen = sorted(known) if districts is None else districts
    errs = [
        field_error(
            ["body", "districts", i],
            f"no district or zone {d!r} in the directory",
            zh=f"名录库中没有区县市或功能区 {d!r}",
        )
        for i, d in enumerate(chosen)
        if d not in known
    ]
    seen: dict[tuple[str, str | None], int] = {}
    for i, q in enumerate(plan.quotas):
        at: list[str | int] = ["body", "plan", "quotas", i]
        label = quota_label(q.group, q.subtype)
        if (q.group, q.subtype) in seen:
            errs.append(
                field_error(
                    [*at, "subtype" if q.subtype else "group"],
                    f"{'subtype' if q.subtype else 'group'} {label} already has a quota "
                    f"(#{seen[(q.group, q.subtype)]})",
                    zh=f"{'子类型' if q.subtype else '类别'} {label} 已有配额（第 {seen[(q.group, q.subtype)]} 项）",
                )
            )
        seen[(q.group, q.subtype)] = i
        if q.total is None:
            continue
        assert q.min is not None
        if q.per == QuotaPer.CITY:
            errs.append(
                field_error(
                    [*at, "per"],
                    "a total is spread over districts or towns: use per district or per town "
                    "(for one city-wide number give count)",
                    zh="总数要分配到各区县或各镇街：请使用按区县（district）或按镇街（town）；全市一个数请用 count",
                )
            )
        elif q.per == QuotaPer.DISTRICT and q.min * len(chosen) > q.total:
            errs.append(
                field_error(
                    [*at, "total"],
                    f"a floor (min) of {q.min} in each of the round's {len(chosen)} districts/zones is "
                    f"{q.min * len(chosen)} sites, more than the total of {q.total}",
                    zh=f"本轮 {len(chosen)} 个区县市/功能区各不少于 {q.min} 个，合计 {q.min * len(chosen)} 个单位，超过总数 {q.total}",
                )
            )
    if errs:
        raise errors.InvalidPlan(
            f"{len(errs)} problem(s) in the round's plan",
            zh=f"本轮抽样方案有 {len(errs)} 处问题",
            errors=errs,
        )
    if not chosen:
        raise errors.InvalidPlan(
            "The directory has no districts yet",
            zh="名录库中还没有区县市",
            errors=[field_error(["body", "districts"], "empty", zh="不能为空")],
        )
    for d in chosen:
        principal.require_scope(district_unit(d))
    return chosen


async def _check_plan_in_directory(
    session: AsyncSession, *, districts: list[str], plan: Plan, follow_ups: list[dict[str, Any]]
) -> None:
    """Refuse a plan with totals or subtypes the directory cannot meet (422 naming the quota's field).

    Only quotas of the newer shapes are checked here: a count or range quota too big for its
    stratum has always been refused at freeze (and still is, for every quota, after exclusions).
    """
    checked = [i for i, q in enumerate(plan.quotas) if q.total is not None or q.subtype is not None]
    if not checked:
        return
    types = sorted({t for q in plan.quotas for t in GROUPS[q.group]} | set(TOWN_TYPES))
    groups = await sites_repository.frame_groups(session, districts=districts, types=types)
    errs = []
    no_sites = set()
    for i in checked:
        q = plan.quotas[i]
        if q.subtype is not None and not any(
            g.subtype == q.subtype and g.type in GROUPS[q.group] for g in groups
        ):
            no_sites.add(i)
            errs.append(
                field_error(
                    ["body", "plan", "quotas", i, "subtype"],
                    f"no active {q.group} site of subtype {q.subtype} in the round's districts",
                    zh=f"本轮区县中没有子类型为 {q.subtype} 的在用 {q.group} 单位",
                )
            )
    try:
        await asyncio.to_thread(
            build_frame,
            groups=groups,
            districts=districts,
            plan=plan,
            excluded=set(),
            follow_up_codes={f["code"] for f in follow_ups},
            excluded_rounds=[],
        )
    except errors.QuotaExceedsStratum as exc:
        for e in exc.extensions.get("errors", []):
            qi = e["loc"][2]
            if qi in checked and qi not in no_sites:
                errs.append({**e, "loc": ["body", *e["loc"]]})
    if errs:
        raise errors.InvalidPlan(
            f"{len(errs)} quota(s) of the round's plan cannot be met by the directory",
            zh=f"本轮抽样方案有 {len(errs)} 项配额无法由名录库满足",
            errors=errs,
        )


async def _follow_ups(
    session: AsyncSession,
    http: httpx.AsyncClient,
    *,
    rectification_url: str,
    plan: Plan,
    districts: list[str],
) -> list[dict[str, Any]]:
    wanted: dict[str, FollowUpSource] = {c: FollowUpSource.NAMED for c in plan.follow_up.site_codes}
    if plan.follow_up.from_rectification:
        for item in await clients.follow_up_sites(http, rectification_url=rectification_url):
            wanted.setdefault(item["site_code"], FollowUpSource.OVERDUE_PROBLEMS)
    sites = await sites_repository.sites_by_codes(session, wanted)
    errs = []
    out = []
    for i, (code, source) in enumerate(wanted.items()):
        s = sites.get(code)
        named = source == FollowUpSource.NAMED
        if s is None:
            if named:
                errs.append(
                    field_error(
                        ["body", "plan", "follow_up", "site_codes", i],
                        f"no site {code} in the directory",
                        zh=f"名录库中没有单位 {code}",
                    )
                )
            continue
        if s.district not in districts or s.type in DISTRICT_TYPES:
            if named:
                errs.append(
                    field_error(
                        ["body", "plan", "follow_up", "site_codes", i],
                        f"site {code} is outside the round's districts",
                        zh=f"单位 {code} 不在本轮的区县范围内",
                    )
                )
            continue
        out.append({"code": code, "district": s.district, "source": source.value})
    if errs:
        raise errors.InvalidPlan(
            "Some follow-up sites cannot be visited", zh="部分回头看单位无法安排督查", errors=errs
        )
    return sorted(out, key=lambda f: f["code"])


async def create_round(
    session: AsyncSession,
    *,
    http: httpx.AsyncClient,
    rectification_url: str,
    principal: Principal,
    round_in: RoundCreate,
    now: datetime,
) -> Round:
    """Open a round in planning; follow-up sites from rectification are fetched now, or the call fails."""
    if await repository.get_round_by_code(session, round_in.code):
        raise errors.DuplicateCode(
            f"Round {round_in.code} already exists", zh=f"督查轮次 {round_in.code} 已存在", code=round_in.code
        )
    districts = await _check_plan(session, principal, round_in.districts, round_in.plan)
    follow_ups = await _follow_ups(
        session, http, rectification_url=rectification_url, plan=round_in.plan, districts=districts
    )
    await _check_plan_in_directory(session, districts=districts, plan=round_in.plan, follow_ups=follow_ups)
    rnd = Round(
        code=round_in.code,
        title=round_in.title or f"{round_in.code[:4]}年第{round_in.code[5]}季度基层党建专项督查",
        status=PLANNING,
        districts=districts,
        plan=round_in.plan.model_dump(mode="json"),
        follow_ups=follow_ups,
        visit_start_on=round_in.visit_start_on,
        visit_days_per_district=round_in.visit_days_per_district,
        max_visits_per_day=round_in.max_visits_per_day,
        team_count=round_in.team_count,
        team_size=round_in.team_size,
        created_by=principal.sub,
        created_at=now,
    )
    await repository.save(session, rnd)
    return rnd


async def update_plan(
    session: AsyncSession,
    *,
    http: httpx.AsyncClient,
    rectification_url: str,
    principal: Principal,
    rnd: Round,
    plan_in: RoundPlanUpdate,
) -> Round:
    """Change a round's plan while it is still planning; a frozen frame never changes."""
    if rnd.status != PLANNING:
        raise errors.FrameFrozen(
            f"Round {rnd.code} has a frozen frame ({rnd.frame_hash}); its plan can no longer change",
            zh=f"督查轮次 {rnd.code} 的抽样框已冻结（{rnd.frame_hash}），抽样方案不能再修改",
        )
    districts = await _check_plan(session, principal, plan_in.districts or rnd.districts, plan_in.plan)
    rnd.follow_ups = await _follow_ups(
        session, http, rectification_url=rectification_url, plan=plan_in.plan, districts=districts
    )
    await _check_plan_in_directory(session, districts=districts, plan=plan_in.plan, follow_ups=rnd.follow_ups)
    rnd.districts = districts
    rnd.plan = plan_in.plan.model_dump(mode="json")
    for f in ("visit_start_on", "visit_days_per_district", "max_visits_per_day", "team_count", "team_size"):
        v = getattr(plan_in, f)
        if v is not None:
            setattr(rnd, f, v)
    await repository.save(session, rnd)
    return rnd


async def freeze_round(
    session: AsyncSession, *, rnd: Round, commitment: str | None, now: datetime
) -> FrameRead:
    """Fix the frame (sorted eligible codes and hashes per stratum) and record the seed commitment."""
    if rnd.status != PLANNING:
        raise errors.FrameFrozen(
            f"Round {rnd.code}'s frame is already frozen ({rnd.frame_hash})",
            zh=f"督查轮次 {rnd.code} 的抽样框已冻结（{rnd.frame_hash}）",
            frame_hash=rnd.frame_hash,
        )
    plan = Plan.model_validate(rnd.plan)
    types = sorted({t for q in plan.quotas for t in GROUPS[q.group]} | set(TOWN_TYPES))
    groups = await sites_repository.frame_groups(session, districts=rnd.districts, types=types)
    excluded_rounds, excluded = await repository.recently_drawn_codes(
        session, before_code=rnd.code, rounds=plan.exclude_last_rounds
    )
    follow_up_codes = {f["code"] for f in rnd.follow_ups}
    frame = await asyncio.to_thread(
        build_frame,
        groups=groups,
        districts=rnd.districts,
        plan=plan,
        excluded=excluded,
        follow_up_codes=follow_up_codes,
        excluded_rounds=excluded_rounds,
    )
    assert rnd.id is not None
    if commitment is None:
        rnd.secret = secrets.token_hex(32)
        rnd.commitment = alg.commitment_of(rnd.secret)
        rnd.commitment_mode = CommitmentMode.SERVER
    else:
        rnd.commitment = commitment
        rnd.commitment_mode = CommitmentMode.EXTERNAL
    rnd.frame_hash = frame["hash"]
    rnd.frozen_at = now
    rnd.status = FROZEN
    await repository.save(session, RoundFrame(round_id=rnd.id, frame=frame), rnd)
    return frame_read(rnd, frame, with_codes=False)


# The draw


def canonical_json(doc: Any) -> bytes:
    """The bytes a record is hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


def team_name(number: int) -> str:
    return f"第{TEAM_NAMES[number - 1]}督查组" if number <= len(TEAM_NAMES) else f"第{number}督查组"


def _secret_for(rnd: Round, draw_in: DrawRequest) -> str:
    """The secret to draw with: the caller's (checked against its commitment) or the server's."""
    if rnd.commitment_mode == CommitmentMode.EXTERNAL:
        if draw_in.secret is None:
            raise UnprocessableEntity(
                "This round's commitment was given at freeze: send the secret it commits to",
                zh="本轮的承诺是在冻结时由您给出的：请发送与之对应的秘密值",
                errors=[
                    field_error(
                        ["body", "secret"], "required: the commitment was yours", zh="必填：承诺是由您给出的"
                    )
                ],
            )
        if alg.commitment_of(draw_in.secret) != rnd.commitment:
            raise errors.SeedMismatch(
                "SHA-256 of the secret does not equal the recorded commitment; nothing was drawn",
                zh="秘密值的 SHA-256 与记录的承诺不符；未进行抽签",
                errors=[
                    field_error(
                        ["body", "secret"], "does not match the commitment", "seed-mismatch", zh="与承诺不符"
                    )
                ],
                commitment=rnd.commitment,
            )
        return draw_in.secret
    if draw_in.secret is not None:
        raise UnprocessableEntity(
            "The server holds this round's secret; do not send one",
            zh="本轮的秘密值由服务器持有，请勿发送",
            errors=[
                field_error(
                    ["body", "secret"],
                    "not allowed: the server committed to its own secret",
                    zh="不允许：服务器已承诺使用自己的秘密值",
                )
            ],
        )
    assert rnd.secret is not None
    return rnd.secret


async def draw_round(
    session: AsyncSession, *, rnd: Round, draw_in: DrawRequest, principal: Principal, now: datetime
) -> DrawSummary:
    """Draw the sites and teams from the frozen frame; a redraw is a new, logged draw with a reason."""
    require_status(rnd, FROZEN, DRAWN, PUBLISHED, action="draw")
    assert rnd.id is not None and rnd.commitment is not None
    redraw = rnd.status != FROZEN
    if redraw and not (draw_in.reason and draw_in.reason.strip()):
        raise UnprocessableEntity(
            f"Round {rnd.code} was already drawn; a redraw needs a reason",
            zh=f"督查轮次 {rnd.code} 已抽签，重新抽签须说明理由",
            errors=[field_error(["body", "reason"], "required for a redraw", zh="重新抽签时必填")],
        )
    secret = _secret_for(rnd, draw_in)
    frame_row = await repository.get_frame(session, rnd.id)
    assert frame_row is not None
    frame = frame_row.frame
    plan = Plan.model_validate(rnd.plan)

    seed = alg.seed_bytes(secret, draw_in.public_value)
    # Allocations first (quotas with a total), then every stratum: one pure call, as verify runs it.
    drawn = await asyncio.to_thread(alg.draw_frame, seed, frame, plan.reserve)
    strata = drawn["strata"]
    chosen = {c: s["key"] for s in strata for c in s["selected"]}
    follow_up_codes = {f["code"] for f in rnd.follow_ups}
    sites = await sites_repository.sites_by_codes(session, set(chosen) | follow_up_codes)
    districts = sorted({sites[c].district for c in sites})
    pool = await inspectors_repository.all_inspectors(session)
    inspectors = [
        {"user_id": i.user_id, "home_district": i.home_district, "can_lead": i.can_lead}
        for _, i in sorted(pool.items())
        if i.active
    ]
    teams_input = {
        "districts": districts,
        "inspectors": inspectors,
        "count": rnd.team_count,
        "size": rnd.team_size,
    }
    try:
        teams = alg.form_teams(
            seed,
            districts=districts,
            inspectors=inspectors,
            team_count=rnd.team_count,
            team_size=rnd.team_size,
        )
    except alg.TeamsInfeasible as exc:
        raise errors.TeamsInfeasible(
            f"Teams cannot be drawn without someone inspecting their home district: {exc}; nothing was drawn",
            zh=f"组建督查组时无法避免有人督查本人所在区县（回避）：{'；'.join(exc.reasons_zh)}；未进行抽签",
            reasons=exc.reasons,
        ) from exc
    # Each site's working day (422 schedule-infeasible here, before anything is stored).
    slots = visits.schedule_draw(rnd, teams, sites)

    number = await repository.last_draw_number(session, rnd.id) + 1
    warnings = list(frame["warnings"])
    if redraw and rnd.revealed_at is not None:
        warnings.append(
            "redraw after the secret was revealed: only the public value is unpredictable in this draw"
        )
    algorithm = alg.algorithm_of(frame)
    recorded_frame: dict[str, Any] = {
        "hash": frame["hash"],
        "strata": [{k: v for k, v in s.items() if k != "codes"} for s in frame["strata"]],
        "excluded_rounds": frame["excluded_rounds"],
    }
    result: dict[str, Any] = {"strata": strata, "teams": teams}
    if "allocations" in drawn:
        recorded_frame["allocations"] = frame["allocations"]
        result["allocations"] = drawn["allocations"]
    record = {
        "algorithm": algorithm,
        "round_code": rnd.code,
        "draw_number": number,
        "previous_draw": number - 1 if number > 1 else None,
        "reason": draw_in.reason,
        "parameters": {
            "districts": rnd.districts,
            "plan": rnd.plan,
            "reserve": plan.reserve,
            "team_count": rnd.team_count,
            "team_size": rnd.team_size,
            "visit_start_on": rnd.visit_start_on.isoformat(),
            "visit_days_per_district": rnd.visit_days_per_district,
        },
        "frame": recorded_frame,
        "seed": {
            "commitment": rnd.commitment,
            "commitment_mode": rnd.commitment_mode,
            "public_value": draw_in.public_value,
        },
        "follow_ups": rnd.follow_ups,
        "teams_input": teams_input,
        "result": result,
        "warnings": warnings,
        "drawn_at": utc_z(now),
        "drawn_by": principal.sub,
    }
    draw = Draw(
        round_id=rnd.id,
        number=number,
        algorithm=algorithm,
        public_value=draw_in.public_value,
        reason=draw_in.reason,
        record=record,
        record_sha256=alg.sha256_hex(canonical_json(record)),
        created_by=principal.sub,
        created_at=now,
    )
    await repository.save(session, draw)
    assert draw.id is not None

    team_rows: dict[str, Team] = {}
    new_teams: list[Team] = []
    for t in teams:
        row = Team(
            round_id=rnd.id,
            draw_id=draw.id,
            number=t["number"],
            name=team_name(t["number"]),
            leader_user_id=t["leader"],
            member_user_ids=t["members"],
            districts=t["districts"],
        )
        new_teams.append(row)
        for d in t["districts"]:
            team_rows[d] = row
    await repository.save(session, *new_teams)
    rows = []
    for code, s in sorted(sites.items()):
        team, slot = team_rows[s.district], slots[code]
        rows.append(
            {
                "round_id": rnd.id,
                "draw_id": draw.id,
                "site_code": code,
                "site_name": s.name,
                "site_type": s.type,
                "org_unit": s.org_unit,
                "district": s.district,
                "stratum": chosen.get(code),
                "follow_up": code in follow_up_codes,
                "team_id": team.id,
                "visit_from": slot.visit_from,
                "visit_to": slot.visit_to,
                "visit_on": slot.visit_on,
            }
        )
    await repository.insert_assignments(session, rows)
    if redraw:
        await visits.withdraw_upcoming(session, rnd)
    if rnd.commitment_mode == CommitmentMode.EXTERNAL and rnd.revealed_at is None:
        # The caller disclosed the secret to draw with it: it is public from now on.
        rnd.secret = secret
        rnd.revealed_at = now
    rnd.current_draw_id = draw.id
    rnd.status = DRAWN
    await repository.save(session, rnd)
    await visits.send_round_fact(session, rnd, now)
    return draw_summary(rnd, draw)


async def reveal_seed(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Publish the secret behind the commitment, once, after the draw."""
    if rnd.revealed_at is not None:
        raise errors.AlreadyRevealed(
            f"Round {rnd.code}'s secret was revealed at {rnd.revealed_at.isoformat()}",
            zh=f"督查轮次 {rnd.code} 的秘密值已于 {rnd.revealed_at.isoformat()} 公开",
        )
    require_status(rnd, DRAWN, PUBLISHED, CLOSED, action="reveal the seed")
    rnd.revealed_at = now
    await repository.save(session, rnd)
    return rnd


# Publication


async def publish_round(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Publish the current draw: each team gets its visit list, each district only its visit window."""
    require_status(rnd, DRAWN, action="publish")
    if rnd.revealed_at is None:
        raise errors.NotRevealed(
            f"Reveal round {rnd.code}'s seed before publishing, so anyone can verify the draw",
            zh=f"发布前请先公开督查轮次 {rnd.code} 的种子，以便任何人核验抽签",
        )
    assert rnd.current_draw_id is not None
    await visits.check_schedule(session, rnd)
    teams = await repository.teams_of_draw(session, rnd.current_draw_id)
    assignments, _ = await repository.list_assignments(session, rnd.current_draw_id)
    by_team: dict[int, list[Assignment]] = defaultdict(list)
    windows: dict[str, list[date]] = defaultdict(list)
    for a in assignments:
        by_team[a.team_id].append(a)
        windows[a.district] += [a.visit_from, a.visit_to]
    for t in teams:
        assert t.id is not None
        await _notify(session, events.PUBLISHED, events.published_to_team(rnd, t, by_team[t.id]), now)
    for d, dates in sorted(windows.items()):
        await _notify(
            session, events.PUBLISHED, events.published_to_district(rnd, d, min(dates), max(dates)), now
        )
    await visits.sync_upcoming(session, rnd, now)
    rnd.status = PUBLISHED
    rnd.published_at = now
    await repository.save(session, rnd)
    await visits.send_round_fact(session, rnd, now)
    return rnd


async def close_round(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Close a published round."""
    require_status(rnd, PUBLISHED, action="close")
    await visits.withdraw_upcoming(session, rnd)
    rnd.status = CLOSED
    rnd.closed_at = now
    await repository.save(session, rnd)
    return rnd


async def _notify(session: AsyncSession, event_type: str, payload: dict[str, Any], now: datetime) -> None:
    """Queue an event for notify in this transaction (sent after commit by the outbox relay)."""
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=event_type,
        target="notify",
        path="/events",
        payload=payload,
        now=now,
    )


# Visits


async def change_assignment(
    session: AsyncSession,
    *,
    rnd: Round,
    site_code: str,
    change: AssignmentUpdate,
    principal: Principal,
    now: datetime,
) -> AssignmentRead:
    """Move a visit to another team or window; recusal still holds, and a published round tells the teams."""
    _, assignment = await access.visible_assignment(session, rnd, site_code, principal)
    require_status(rnd, DRAWN, PUBLISHED, action="change an assignment")
    assert rnd.current_draw_id is not None
    teams = {t.id: t for t in await repository.teams_of_draw(session, rnd.current_draw_id)}
    old_team = teams[assignment.team_id]
    new_team = old_team
    if change.team_id is not None:
        if change.team_id not in teams:
            raise errors.TeamNotFound(
                f"No team {change.team_id} in round {rnd.code}'s current draw",
                zh=f"督查轮次 {rnd.code} 当前抽签结果中没有督查组 {change.team_id}",
                team_id=change.team_id,
            )
        new_team = teams[change.team_id]
        pool = await inspectors_repository.all_inspectors(session)
        clash = [
            u
            for u in [new_team.leader_user_id, *new_team.member_user_ids]
            if u in pool and pool[u].home_district == assignment.district
        ]
        if clash:
            raise errors.RecusalViolation(
                f"{new_team.name} cannot visit {assignment.site_code}: {', '.join(clash)} come(s) from {assignment.district} (回避)",
                zh=f"{new_team.name}不能督查 {assignment.site_code}：{'、'.join(clash)} 来自 {assignment.district}（回避）",
                members=clash,
            )
    vf = change.visit_from or assignment.visit_from
    vt = change.visit_to or assignment.visit_to
    if vf > vt:
        raise UnprocessableEntity(
            "visit_from is after visit_to",
            zh="visit_from 晚于 visit_to",
            errors=[field_error(["body", "visit_to"], "before visit_from", zh="早于 visit_from")],
        )
    old_window, old_day = (assignment.visit_from, assignment.visit_to), assignment.visit_on
    # The team, window and working day, within the team's daily cap (422/409 otherwise).
    await visits.move_visit(
        session,
        rnd=rnd,
        assignment=assignment,
        team=new_team,
        visit_from=vf,
        visit_to=vt,
        visit_on=change.visit_on,
    )
    assignment.changed_at = now
    assignment.change_reason = change.reason
    await repository.save(session, assignment)
    if rnd.status == PUBLISHED:
        await _notify(
            session,
            events.ASSIGNMENT_CHANGED,
            events.assignment_changed(rnd, assignment, old_team, new_team, old_window, old_day),
            now,
        )
        await visits.sync_upcoming(session, rnd, now)
    await visits.send_round_fact(session, rnd, now)
    return assignment_read(rnd, new_team, assignment)
