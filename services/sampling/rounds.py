"""Rules of rounds (督查批次): plans, follow-ups, the frozen frame, publication and closing."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.orgunit import district_unit
from services.sampling import algorithm as alg
from services.sampling import clients, errors, events, repository
from services.sampling.importing import DISTRICT_TYPES, ORG_TYPES, TOWN_TYPES, VILLAGE_TYPES
from services.sampling.models import Assignment, Round, RoundFrame, outbox_event
from services.sampling.schemas import Plan, RoundCreate, RoundPlanUpdate

GROUPS: dict[str, tuple[str, ...]] = {
    # The district or zone itself: its section-A (county-level) sheet needs it drawn and assigned.
    "district_zone": DISTRICT_TYPES,
    "town_street": TOWN_TYPES,
    "village_community": VILLAGE_TYPES,
    "two_new": ("enterprise", "social_org"),
    "institution": ("institution",),
}
assert set(ORG_TYPES) == {"enterprise", "social_org", "institution"}
PLANNING, FROZEN, DRAWN, PUBLISHED, CLOSED = "planning", "frame_frozen", "drawn", "published", "closed"


def require_status(rnd: Round, *allowed: str, action: str) -> None:
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
        principal.require_scope(district_unit(d))
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


async def publish_round(session: AsyncSession, *, rnd: Round, now: datetime) -> Round:
    """Publish the current draw: each team gets its visit list, each district only its visit window."""
    require_status(rnd, DRAWN, action="publish")
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
    require_status(rnd, PUBLISHED, action="close")
    rnd.status = CLOSED
    rnd.closed_at = now
    session.add(rnd)
    await session.flush()
    return rnd
