"""The draw itself: sites and teams from the frozen frame, the record, the reveal."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.sampling import algorithm as alg
from services.sampling import errors, repository
from services.sampling.models import Draw, Round, Team
from services.sampling.rounds import CLOSED, DRAWN, FROZEN, PUBLISHED, require_status
from services.sampling.schemas import DrawRequest, Plan

TEAM_NAMES = "一二三四五六七八九十"


def canonical_json(doc: Any) -> bytes:
    """The bytes a record is hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


def team_name(number: int) -> str:
    return f"第{TEAM_NAMES[number - 1]}督查组" if number <= len(TEAM_NAMES) else f"第{number}督查组"


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
    require_status(rnd, FROZEN, DRAWN, PUBLISHED, action="draw")
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
    require_status(rnd, DRAWN, PUBLISHED, CLOSED, action="reveal the seed")
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
