"""Apply stored events to the read model, in sequence order, a batch at a time.

Every consumed event is a full snapshot of its entity with a `revision`; a snapshot is applied only
when its revision is >= the one held, so a redelivery or a late, older snapshot changes nothing, and a
replay of the store from scratch gives the same read model whatever order the events arrived in.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.projection import repository

DRAWN = "sampling.round.drawn"
SHEET = "scoring.sheet.changed"
RESULTS = "scoring.results.recorded"
PROBLEM = "rectification.problem.changed"
CONSUMED: frozenset[str] = frozenset({DRAWN, SHEET, RESULTS, PROBLEM})
"""The event types the read model is built from; any other type is stored and ignored."""

REPLAY_PAGE = 2000

Event = Mapping[str, Any]
"""A stored event: seq, id, type, occurred_at, round_code, data."""


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _site(site: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "site_code": site["code"],
        "site_name": site["name"],
        "site_type": site.get("type"),
        "org_unit": site["org_unit"],
        "district": site["district"],
    }


def _newest(events: Sequence[Event], key: str) -> list[Event]:
    """One event per entity: the highest revision, the later one of equal revisions."""
    best: dict[Any, Event] = {}
    for e in events:
        k = e["data"][key]
        held = best.get(k)
        if held is None or (e["data"]["revision"], e["seq"]) >= (held["data"]["revision"], held["seq"]):
            best[k] = e
    return list(best.values())


def _sheet_row(e: Event) -> dict[str, Any]:
    d = e["data"]
    return {
        "sheet_id": d["sheet_id"],
        "round_code": d["round_code"],
        "revision": d["revision"],
        **_site(d["site"]),
        "team_id": d.get("team_id"),
        "team_name": d.get("team_name"),
        "status": d["status"],
        "score": d.get("score"),
        "grade": d.get("grade"),
        "veto_items": list(d.get("veto_items") or []),
        "deductions": list(d.get("deductions") or []),
        "changed_at": _dt(d["changed_at"]),
        "locked_at": _dt(d.get("locked_at")),
    }


def _problem_row(e: Event) -> dict[str, Any]:
    d = e["data"]
    return {
        "problem_id": d["problem_id"],
        "revision": d["revision"],
        "round_code": d.get("round_code"),
        **_site(d["site"]),
        "responsible_unit": d["responsible_unit"],
        "responsible_person": d.get("responsible_person"),
        "item_code": d.get("item_code"),
        "item_title": d.get("item_title"),
        "category": d["category"],
        "severity": d["severity"],
        "level": d["level"],
        "title": d["title"],
        "description": d["description"],
        "status": d["status"],
        "created_at": _dt(d["created_at"]),
        "deadline_at": _dt(d["deadline_at"]),
        "closed_at": _dt(d.get("closed_at")),
        "closed_on_time": d.get("closed_on_time"),
        "extensions": d.get("extensions") or 0,
        "merged_into": d.get("merged_into"),
        "changed_at": _dt(d["changed_at"]),
    }


def _results_row(e: Event) -> dict[str, Any]:
    d = e["data"]
    return {
        "round_code": d["round_code"],
        "version": d["version"],
        "published_at": _dt(d["published_at"]),
        "content_sha256": d["content_sha256"],
        "complete": d["complete"],
        "districts": list(d["districts"]),
    }


def round_of(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The round an event concerns (None for a problem found outside a round, or an unused type)."""
    code = data.get("round_code")
    return code if isinstance(code, str) and code else None


async def _apply_draws(session: AsyncSession, draws: Sequence[Event]) -> None:
    newest: dict[str, Event] = {}
    for e in draws:
        code = e["data"]["round_code"]
        held = newest.get(code)
        if held is None or (e["data"]["revision"], e["seq"]) >= (held["data"]["revision"], held["seq"]):
            newest[code] = e
    if not newest:
        return
    held_revisions = await repository.draw_revisions(session, list(newest))
    for code, e in sorted(newest.items()):
        d = e["data"]
        held_revision = held_revisions.get(code)
        if held_revision is not None and d["revision"] < held_revision:
            continue
        await repository.apply_draw(
            session,
            code,
            {
                "name": d["name"],
                "year": d.get("year"),
                "quarter": d.get("quarter"),
                "drawn_at": _dt(d.get("drawn_at")),
                "revision": d["revision"],
                "district_names": {x["code"]: x["name"] for x in d.get("districts") or []},
            },
            _visit_rows(code, d.get("visits") or []),
        )


def _visit_rows(code: str, visits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for v in visits:
        site = v["site"]
        # A site drawn twice in one round (a follow-up visit beside the regular one) is one site.
        held = rows.get(site["code"])
        rows[site["code"]] = {
            "round_code": code,
            **_site(site),
            "team_id": v.get("team_id"),
            "team_name": v.get("team_name"),
            "visit_on": _date(v.get("visit_on")),
            "follow_up": bool(v.get("follow_up")) and (held is None or held["follow_up"]),
        }
    return list(rows.values())


async def apply(session: AsyncSession, events: Sequence[Event]) -> int:
    """Project `events` (newly stored, any order) in this transaction; returns how many it used."""
    used = [e for e in events if e["type"] in CONSUMED]
    if not used:
        return 0
    rounds: dict[str, tuple[int, datetime]] = {}
    for e in used:
        code = round_of(e["type"], e["data"])
        if code is None:
            continue
        seq, at = rounds.get(code, (0, e["occurred_at"]))
        rounds[code] = (max(seq, e["seq"]), max(at, e["occurred_at"]))
    # Rows are locked in one order by every transaction (rounds, then sheets, then problems, each by
    # key), so two batches applied at once on PostgreSQL wait for each other instead of deadlocking.
    await repository.ensure_rounds(session, list(rounds))
    for code, (seq, at) in sorted(rounds.items()):
        await repository.touch_round(session, code, seq=seq, occurred_at=at)
    by_type: dict[str, list[Event]] = {t: [] for t in CONSUMED}
    for e in used:
        by_type[e["type"]].append(e)
    await _apply_draws(session, by_type[DRAWN])
    sheets = sorted(_newest(by_type[SHEET], "sheet_id"), key=lambda e: e["data"]["sheet_id"])
    await repository.upsert_sheets(session, [_sheet_row(e) for e in sheets])
    problems = sorted(_newest(by_type[PROBLEM], "problem_id"), key=lambda e: e["data"]["problem_id"])
    await repository.upsert_problems(session, [_problem_row(e) for e in problems])
    await repository.insert_results(session, [_results_row(e) for e in by_type[RESULTS]])
    return len(used)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return round(self.events / self.seconds, 1) if self.seconds > 0 else 0.0


async def rebuild(session: AsyncSession, *, page: int = REPLAY_PAGE) -> Rebuilt:
    """Drop the read model and replay the whole store in sequence order, in this transaction."""
    started = time.perf_counter()
    await repository.lock_store(session)
    await repository.clear(session)
    after, total = 0, 0
    while True:
        events = await repository.stored_events(session, after=after, limit=page)
        if not events:
            break
        await apply(session, events)
        total += len(events)
        after = events[-1]["seq"]
    return Rebuilt(events=total, seconds=time.perf_counter() - started)
