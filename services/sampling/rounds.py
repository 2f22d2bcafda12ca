"""Rules of rounds (督查批次): plans, frame freezing, seeded draws, teams, publication."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.sampling import algorithm as alg
from services.sampling import clients, errors, events, repository
from services.sampling.importing import DISTRICT_TYPES, ORG_TYPES, TOWN_TYPES, VILLAGE_TYPES
from services.sampling.models import Assignment, Draw, Round, RoundFrame, Team, outbox_event
from services.sampling.schemas import DrawRequest, Plan, RoundCreate, RoundPlanUpdate

GROUPS: dict[str, tuple[str, ...]] = {
    "town_street": TOWN_TYPES,
    "village_community": VILLAGE_TYPES,
    "two_new": ("enterprise", "social_org"),
    "institution": ("institution",),
}
assert set(ORG_TYPES) == {"enterprise", "social_org", "institution"}
PLANNING, FROZEN, DRAWN, PUBLISHED, CLOSED = "planning", "frame_frozen", "drawn", "published", "closed"
TEAM_NAMES = "一二三四五六七八九十"


def canonical_json(doc: Any) -> bytes:
    """The bytes a record is hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


def team_name(number: int) -> str:
    return f"第{TEAM_NAMES[number - 1]}督查组" if number <= len(TEAM_NAMES) else f"第{number}督查组"


def _require_status(rnd: Round, *allowed: str, action: str) -> None:
    if rnd.status not in allowed:
        if rnd.status == PLANNING and FROZEN in allowed:
            raise errors.FrameNotFrozen(
                f"Round {rnd.code} is still planning: freeze its frame before you {action}"
            )
        raise errors.WrongRoundStatus(
            f"Cannot {action}: round {rnd.code} is {rnd.status} (needs {' or '.join(allowed)})",
            round_status=rnd.status,
        )


async def _check_plan(
    session: AsyncSession, principal: Principal, districts: list[str] | None, plan: Plan
) -> list[str]:
    known = await repository.district_slugs(session)
    chosen = sorted(known) if districts is None else districts
    errs = [
        field_error(["body", "districts", i], f"no district or zone {d!r} in the directory")
        for i, d in enumerate(chosen)
        if d not in known
    ]
    seen: dict[str, int] = {}
    for i, q in enumerate(plan.quotas):
        if q.group in seen:
            errs.append(
                field_error(
                    ["body", "plan", "quotas", i, "group"],
                    f"group {q.group} already has a quota (#{seen[q.group]})",
                )
            )
        seen[q.group] = i
    if errs:
        raise errors.InvalidPlan(f"{len(errs)} problem(s) in the round's plan", errors=errs)
    if not chosen:
        raise errors.InvalidPlan(
            "The directory has no districts yet", errors=[field_error(["body", "districts"], "empty")]
        )
    for d in chosen:
        principal.require_scope(f"ningbo/{d}")
    return chosen


async def _follow_ups(
    session: AsyncSession,
    http: httpx.AsyncClient,
    *,
    rectification_url: str,
    plan: Plan,
    districts: list[str],
) -> list[dict[str, Any]]:
    wanted: dict[str, str] = {c: "named" for c in plan.follow_up.site_codes}
    if plan.follow_up.from_rectification:
        for item in await clients.follow_up_sites(http, rectification_url=rectification_url):
            wanted.setdefault(item["site_code"], "overdue_problems")
    sites = await repository.sites_by_codes(session, wanted)
    errs = []
    out = []
    for i, (code, source) in enumerate(wanted.items()):
        s = sites.get(code)
        if s is None:
            if source == "named":
                errs.append(
                    field_error(
                        ["body", "plan", "follow_up", "site_codes", i], f"no site {code} in the directory"
                    )
                )
            continue
        if s.district not in districts or s.type in DISTRICT_TYPES:
            if source == "named":
                errs.append(
                    field_error(
                        ["body", "plan", "follow_up", "site_codes", i],
                        f"site {code} is outside the round's districts",
                    )
                )
            continue
        out.append({"code": code, "district": s.district, "source": source})
    if errs:
        raise errors.InvalidPlan("Some follow-up sites cannot be visited", errors=errs)
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
        raise errors.DuplicateCode(f"Round {round_in.code} already exists", code=round_in.code)
    districts = await _check_plan(session, principal, round_in.districts, round_in.plan)
    follow_ups = await _follow_ups(
        session, http, rectification_url=rectification_url, plan=round_in.plan, districts=districts
    )
    rnd = Round(
        code=round_in.code,
        title=round_in.title or f"{round_in.code[:4]}年第{round_in.code[5]}季度基层党建专项督查",
        status=PLANNING,
        districts=districts,
        plan=round_in.plan.model_dump(mode="json"),
        follow_ups=follow_ups,
        visit_start_on=round_in.visit_start_on,
        visit_days_per_district=round_in.visit_days_per_district,
        team_count=round_in.team_count,
        team_size=round_in.team_size,
        created_by=principal.sub,
        created_at=now,
    )
    session.add(rnd)
    await session.flush()
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
            f"Round {rnd.code} has a frozen frame ({rnd.frame_hash}); its plan can no longer change"
        )
    districts = await _check_plan(session, principal, plan_in.districts or rnd.districts, plan_in.plan)
    rnd.follow_ups = await _follow_ups(
        session, http, rectification_url=rectification_url, plan=plan_in.plan, districts=districts
    )
    rnd.districts = districts
    rnd.plan = plan_in.plan.model_dump(mode="json")
    for f in ("visit_start_on", "visit_days_per_district", "team_count", "team_size"):
        v = getattr(plan_in, f)
        if v is not None:
            setattr(rnd, f, v)
    session.add(rnd)
    await session.flush()
    return rnd


def _stratum_of(
    per: str, group: str, district: str, town_code: str | None
) -> tuple[str, str | None, str | None]:
    if per == "city":
        return f"city:{group}", None, None
    if per == "town":
        return f"{district}/{town_code or '-'}:{group}", district, town_code
    return f"{district}:{group}", district, None


def build_frame(
    *,
    groups: list[Any],
    districts: list[str],
    plan: Plan,
    excluded: set[str],
    follow_up_codes: set[str],
    excluded_rounds: list[str],
) -> dict[str, Any]:
    """Group eligible sites into strata, apply exclusions (relaxing them when a stratum would be too small).

    `groups` are the active sites as ``(type, district, town_code, codes)`` rows, one per combination.
    """
    by_group: dict[str, list[Any]] = defaultdict(list)
    group_of = {t: g for g, ts in GROUPS.items() for t in ts}
    for g in groups:
        by_group[group_of[g.type]].append(g)
    towns_by_district: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        if g.type in TOWN_TYPES:
            towns_by_district[g.district].update(g.codes)
    strata: list[dict[str, Any]] = []
    warnings: list[str] = []
    problems: list[dict[str, Any]] = []
    n_rounds = plan.exclude_last_rounds
    for qi, q in enumerate(plan.quotas):
        members: dict[str, list[str]] = defaultdict(list)
        meta: dict[str, tuple[str | None, str | None]] = {}
        # Every district (or town) in scope gets its stratum, even an empty one, so a quota it cannot
        # meet is reported rather than silently skipped.
        if q.per == "district":
            for d in districts:
                key, dd, tt = _stratum_of("district", q.group, d, None)
                members[key]
                meta[key] = (dd, tt)
        elif q.per == "city":
            members[f"city:{q.group}"]
            meta[f"city:{q.group}"] = (None, None)
        else:
            for d in districts:
                for t in towns_by_district[d]:
                    key, dd, tt = _stratum_of("town", q.group, d, t)
                    members[key]
                    meta[key] = (dd, tt)
        for g in by_group[q.group]:
            key, dd, tt = _stratum_of(q.per, q.group, g.district, g.town_code)
            members[key].extend(g.codes)
            meta.setdefault(key, (dd, tt))
        assert q.min is not None and q.max is not None
        for key, codes in members.items():
            candidates = [c for c in codes if c not in follow_up_codes]
            eligible = [c for c in candidates if c not in excluded]
            n_excluded = len(candidates) - len(eligible)
            if len(eligible) < q.min and n_excluded:
                warnings.append(
                    f"{key}: only {len(eligible)} sites not visited in the last {n_rounds} round(s), "
                    f"fewer than the quota of {q.min}; exclusion relaxed, all {len(candidates)} sites eligible"
                )
                eligible, n_excluded = candidates, 0
            if len(eligible) < q.min:
                problems.append(
                    field_error(
                        ["plan", "quotas", qi],
                        f"stratum {key} has {len(eligible)} eligible sites; the quota needs {q.min}",
                    )
                )
                continue
            if q.max > len(eligible) and q.max != q.min:
                warnings.append(
                    f"{key}: quota range {q.min}-{q.max} capped at the {len(eligible)} eligible sites"
                )
            codes_sorted = alg.sort_codes(eligible)
            strata.append(
                {
                    "key": key,
                    "group": q.group,
                    "district": meta[key][0],
                    "town_code": meta[key][1],
                    "quota": {"min": q.min, "max": q.max},
                    "size": len(codes_sorted),
                    "excluded": n_excluded,
                    "codes": codes_sorted,
                    "hash": alg.stratum_hash(codes_sorted),
                }
            )
    if problems:
        raise errors.QuotaExceedsStratum(
            f"{len(problems)} stratum/strata are smaller than their quota; nothing was frozen",
            errors=problems,
        )
    strata.sort(key=lambda s: s["key"].encode("utf-8"))
    return {
        "algorithm": alg.ALGORITHM,
        "strata": strata,
        "hash": alg.frame_hash({s["key"]: s["hash"] for s in strata}),
        "warnings": warnings,
        "exclude_last_rounds": n_rounds,
        "excluded_rounds": excluded_rounds,
    }


async def freeze_round(
    session: AsyncSession, *, rnd: Round, commitment: str | None, now: datetime
) -> RoundFrame:
    """Fix the frame (sorted eligible codes and hashes per stratum) and record the seed commitment."""
    if rnd.status != PLANNING:
        raise errors.FrameFrozen(
            f"Round {rnd.code}'s frame is already frozen ({rnd.frame_hash})", frame_hash=rnd.frame_hash
        )
    plan = Plan.model_validate(rnd.plan)
    types = sorted({t for q in plan.quotas for t in GROUPS[q.group]} | set(TOWN_TYPES))
    groups = await repository.frame_groups(session, districts=rnd.districts, types=types)
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
    session.add(RoundFrame(round_id=rnd.id, frame=frame))
    if commitment is None:
        rnd.secret = secrets.token_hex(32)
        rnd.commitment = alg.commitment_of(rnd.secret)
        rnd.commitment_mode = "server"
    else:
        rnd.commitment = commitment
        rnd.commitment_mode = "external"
    rnd.frame_hash = frame["hash"]
    rnd.frozen_at = now
    rnd.status = FROZEN
    session.add(rnd)
    await session.flush()
    return RoundFrame(round_id=rnd.id, frame=frame)


def _windows(rnd: Round, team_districts: list[str]) -> dict[str, tuple[date, date]]:
    """Each team visits its districts one after another, `visit_days_per_district` days each."""
    days = rnd.visit_days_per_district
    out = {}
    for i, d in enumerate(team_districts):
        start = rnd.visit_start_on + timedelta(days=i * days)
        out[d] = (start, start + timedelta(days=days - 1))
    return out


async def draw_round(
    session: AsyncSession, *, rnd: Round, draw_in: DrawRequest, principal: Principal, now: datetime
) -> Draw:
    """Draw the sites and teams from the frozen frame; a redraw is a new, logged draw with a reason."""
    _require_status(rnd, FROZEN, DRAWN, PUBLISHED, action="draw")
    assert rnd.id is not None and rnd.commitment is not None
    redraw = rnd.status != FROZEN
    if redraw and not (draw_in.reason and draw_in.reason.strip()):
        raise UnprocessableEntity(
            f"Round {rnd.code} was already drawn; a redraw needs a reason",
            errors=[field_error(["body", "reason"], "required for a redraw")],
        )
    if rnd.commitment_mode == "external":
        if draw_in.secret is None:
            raise UnprocessableEntity(
                "This round's commitment was given at freeze: send the secret it commits to",
                errors=[field_error(["body", "secret"], "required: the commitment was yours")],
            )
        if alg.commitment_of(draw_in.secret) != rnd.commitment:
            raise errors.SeedMismatch(
                "SHA-256 of the secret does not equal the recorded commitment; nothing was drawn",
                errors=[field_error(["body", "secret"], "does not match the commitment", "seed-mismatch")],
                commitment=rnd.commitment,
            )
        secret = draw_in.secret
    else:
        if draw_in.secret is not None:
            raise UnprocessableEntity(
                "The server holds this round's secret; do not send one",
                errors=[
                    field_error(["body", "secret"], "not allowed: the server committed to its own secret")
                ],
            )
        assert rnd.secret is not None
        secret = rnd.secret
    frame_row = await repository.get_frame(session, rnd.id)
    assert frame_row is not None
    frame = frame_row.frame
    plan = Plan.model_validate(rnd.plan)

    seed = alg.seed_bytes(secret, draw_in.public_value)
    strata = await asyncio.to_thread(
        lambda: [
            alg.draw_stratum(seed, s["key"], s["codes"], s["quota"]["min"], s["quota"]["max"], plan.reserve)
            for s in frame["strata"]
        ]
    )
    chosen = {c: s["key"] for s in strata for c in s["selected"]}
    follow_up_codes = {f["code"] for f in rnd.follow_ups}
    sites = await repository.sites_by_codes(session, set(chosen) | follow_up_codes)
    districts = sorted({sites[c].district for c in sites})
    pool = await repository.all_inspectors(session)
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
            reasons=exc.reasons,
        ) from exc

    number = await repository.last_draw_number(session, rnd.id) + 1
    warnings = list(frame["warnings"])
    if redraw and rnd.revealed_at is not None:
        warnings.append(
            "redraw after the secret was revealed: only the public value is unpredictable in this draw"
        )
    record = {
        "algorithm": alg.ALGORITHM,
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
        "frame": {
            "hash": frame["hash"],
            "strata": [{k: v for k, v in s.items() if k != "codes"} for s in frame["strata"]],
            "excluded_rounds": frame["excluded_rounds"],
        },
        "seed": {
            "commitment": rnd.commitment,
            "commitment_mode": rnd.commitment_mode,
            "public_value": draw_in.public_value,
        },
        "follow_ups": rnd.follow_ups,
        "teams_input": teams_input,
        "result": {"strata": strata, "teams": teams},
        "warnings": warnings,
        "drawn_at": now.isoformat(),
        "drawn_by": principal.sub,
    }
    draw = Draw(
        round_id=rnd.id,
        number=number,
        algorithm=alg.ALGORITHM,
        public_value=draw_in.public_value,
        reason=draw_in.reason,
        record=record,
        record_sha256=alg.sha256_hex(canonical_json(record)),
        created_by=principal.sub,
        created_at=now,
    )
    session.add(draw)
    await session.flush()
    assert draw.id is not None

    team_rows: dict[str, tuple[Team, dict[str, tuple[date, date]]]] = {}
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
        session.add(row)
        for d in t["districts"]:
            team_rows[d] = (row, _windows(rnd, t["districts"]))
    await session.flush()
    rows = []
    for code, s in sorted(sites.items()):
        team, windows = team_rows[s.district]
        vf, vt = windows[s.district]
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
                "visit_from": vf,
                "visit_to": vt,
            }
        )
    await repository.insert_assignments(session, rows)
    if rnd.commitment_mode == "external" and rnd.revealed_at is None:
        # The caller disclosed the secret to draw with it: it is public from now on.
        rnd.secret = secret
        rnd.revealed_at = now
    rnd.current_draw_id = draw.id
    rnd.status = DRAWN
    session.add(rnd)
    await session.flush()
    return draw


async def reveal_seed(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Publish the secret behind the commitment, once, after the draw."""
    if rnd.revealed_at is not None:
        raise errors.AlreadyRevealed(
            f"Round {rnd.code}'s secret was revealed at {rnd.revealed_at.isoformat()}"
        )
    _require_status(rnd, DRAWN, PUBLISHED, CLOSED, action="reveal the seed")
    rnd.revealed_at = now
    session.add(rnd)
    await session.flush()
    return rnd


def export_record(rnd: Round, draw: Draw, frame: dict[str, Any]) -> dict[str, Any]:
    """The full, self-contained record: what `python -m services.sampling.verify` checks."""
    record = dict(draw.record)
    record["frame"] = {**record["frame"], "strata": frame["strata"]}
    record["seed"] = {**record["seed"], "secret": rnd.secret if rnd.revealed_at else None}
    record["record_sha256"] = draw.record_sha256
    record["current"] = rnd.current_draw_id == draw.id
    return record


async def publish_round(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Publish the current draw: each team gets its visit list, each district only its visit window."""
    _require_status(rnd, DRAWN, action="publish")
    if rnd.revealed_at is None:
        raise errors.NotRevealed(
            f"Reveal round {rnd.code}'s seed before publishing, so anyone can verify the draw"
        )
    assert rnd.current_draw_id is not None
    teams = await repository.teams_of_draw(session, rnd.current_draw_id)
    assignments, _ = await repository.list_assignments(session, rnd.current_draw_id)
    by_team: dict[int, list[Assignment]] = defaultdict(list)
    windows: dict[str, list[date]] = defaultdict(list)
    for a in assignments:
        by_team[a.team_id].append(a)
        windows[a.district] += [a.visit_from, a.visit_to]
    for t in teams:
        assert t.id is not None
        await outbox.enqueue(
            session,
            outbox_event,
            event_type=events.PUBLISHED,
            target="notify",
            path="/events",
            payload=events.published_to_team(rnd, t, by_team[t.id]),
            now=now,
        )
    for d, dates in sorted(windows.items()):
        await outbox.enqueue(
            session,
            outbox_event,
            event_type=events.PUBLISHED,
            target="notify",
            path="/events",
            payload=events.published_to_district(rnd, d, min(dates), max(dates)),
            now=now,
        )
    rnd.status = PUBLISHED
    rnd.published_at = now
    session.add(rnd)
    await session.flush()
    return rnd


async def close_round(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Close a published round."""
    _require_status(rnd, PUBLISHED, action="close")
    rnd.status = CLOSED
    rnd.closed_at = now
    session.add(rnd)
    await session.flush()
    return rnd


async def change_assignment(
    session: AsyncSession,
    *,
    rnd: Round,
    assignment: Assignment,
    team_id: int | None,
    visit_from: date | None,
    visit_to: date | None,
    reason: str,
    now: datetime,
) -> Assignment:
    """Move a visit to another team or window; recusal still holds, and a published round tells the teams."""
    _require_status(rnd, DRAWN, PUBLISHED, action="change an assignment")
    assert rnd.current_draw_id is not None
    teams = {t.id: t for t in await repository.teams_of_draw(session, rnd.current_draw_id)}
    old_team = teams[assignment.team_id]
    new_team = old_team
    if team_id is not None:
        if team_id not in teams:
            raise errors.TeamNotFound(
                f"No team {team_id} in round {rnd.code}'s current draw", team_id=team_id
            )
        new_team = teams[team_id]
        pool = await repository.all_inspectors(session)
        clash = [
            u
            for u in [new_team.leader_user_id, *new_team.member_user_ids]
            if u in pool and pool[u].home_district == assignment.district
        ]
        if clash:
            raise errors.RecusalViolation(
                f"{new_team.name} cannot visit {assignment.site_code}: {', '.join(clash)} come(s) from {assignment.district} (回避)",
                members=clash,
            )
    vf = visit_from or assignment.visit_from
    vt = visit_to or assignment.visit_to
    if vf > vt:
        raise UnprocessableEntity(
            "visit_from is after visit_to", errors=[field_error(["body", "visit_to"], "before visit_from")]
        )
    old_window = (assignment.visit_from, assignment.visit_to)
    assignment.team_id = new_team.id  # type: ignore[assignment]
    assignment.visit_from, assignment.visit_to = vf, vt
    assignment.changed_at = now
    assignment.change_reason = reason
    session.add(assignment)
    if rnd.status == PUBLISHED:
        await outbox.enqueue(
            session,
            outbox_event,
            event_type=events.ASSIGNMENT_CHANGED,
            target="notify",
            path="/events",
            payload=events.assignment_changed(rnd, assignment, old_team, new_team, old_window),
            now=now,
        )
    await session.flush()
    return assignment


async def assignments_of_user(session: AsyncSession, *, user_id: str) -> list[tuple[Round, Team, Assignment]]:
    """Visits of every published round in which `user_id` sits on a team."""
    out = []
    for rnd in await repository.published_rounds(session):
        assert rnd.current_draw_id is not None
        mine = [
            t
            for t in await repository.teams_of_draw(session, rnd.current_draw_id)
            if user_id == t.leader_user_id or user_id in t.member_user_ids
        ]
        if not mine:
            continue
        by_id = {t.id: t for t in mine}
        rows, _ = await repository.list_assignments(session, rnd.current_draw_id, team_ids=list(by_id))  # type: ignore[arg-type]
        out += [(rnd, by_id[a.team_id], a) for a in rows]
    return out
