"""What scoring tells other services, as outbox payloads (the relay wraps them in the event envelope).

Notify hears of steps people act on; rectification gets the findings of a locked sheet; reporting gets
the fact events, full snapshots for its read model: every change of a sheet (:func:`sheet_changed_fact`)
and every published results version (:func:`results_recorded_fact`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit, outbox
from services.scoring.models import ResultsVersion, ScoreSheet, outbox_event

SUBMITTED = "scoring.sheet.submitted"
RETURNED = "scoring.sheet.returned"
LOCKED = "scoring.sheet.locked"
RESULTS_PUBLISHED = "scoring.results.published"
FINDING_CREATED = "scoring.finding.created"
# Fact events, to reporting's /events (batched to /events/batch): snapshots, no recipients.
SHEET_CHANGED = "scoring.sheet.changed"
RESULTS_RECORDED = "scoring.results.recorded"
FACT_TARGET = "reporting"
FACT_PATH = "/events"

# Namespace for finding event ids: the same finding on the same sheet always has the same event id,
# so rectification sees it once (findings are handed over when the sheet is locked).
FINDING_NAMESPACE = uuid.UUID("6c1f4f0e-5b7a-4d0e-9a43-2f7d3c1e8b10")


async def to_notify(
    session: AsyncSession, *, event_type: str, payload: dict[str, Any], now: datetime
) -> None:
    """Queue an event for notify, in the caller's transaction (the relay sends it after commit)."""
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=event_type,
        target="notify",
        path="/events",
        payload=payload,
        now=now,
    )


async def to_rectification(
    session: AsyncSession, *, payload: dict[str, Any], event_id: str, now: datetime
) -> None:
    """Queue a finding for rectification's intake; its id makes the hand-over happen once."""
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=FINDING_CREATED,
        target="rectification",
        path="/findings",
        payload=payload,
        now=now,
        event_id=event_id,
    )


async def to_reporting(
    session: AsyncSession, *, event_type: str, payloads: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Queue fact snapshots for reporting, in the caller's transaction (one INSERT however many)."""
    await outbox.enqueue_many(
        session,
        outbox_event,
        [
            outbox.OutboxMessage(event_type=event_type, target=FACT_TARGET, path=FACT_PATH, payload=p)
            for p in payloads
        ],
        now=now,
    )


def finding_event_id(sheet_id: str, finding_id: str) -> str:
    """The event id of a finding: the same for the same finding on the same sheet, always."""
    return str(uuid.uuid5(FINDING_NAMESPACE, f"{sheet_id}/{finding_id}"))


def site_of(sheet: ScoreSheet) -> dict[str, str]:
    """The sheet's site as events carry it."""
    return {
        "code": sheet.site_code,
        "name": sheet.site_name,
        "type": sheet.site_type,
        "org_unit": sheet.org_unit,
        "district": sheet.district,
    }


def _district_unit(sheet: ScoreSheet) -> str:
    return orgunit.district_unit(sheet.district)


def _base(sheet: ScoreSheet) -> dict[str, Any]:
    return {
        "round_code": sheet.round_code,
        "sheet_id": sheet.id,
        "site": site_of(sheet),
        "org_unit": sheet.org_unit,
        "district": sheet.district,
        "team_id": sheet.team_id,
        "status": sheet.status,
        "score": sheet.score,
        "grade": sheet.grade,
    }


def sheet_submitted(sheet: ScoreSheet) -> dict[str, Any]:
    """Tell the team leader a sheet waits for review."""
    return {
        **_base(sheet),
        "recipients": [{"kind": "person", "user_id": sheet.team_leader_user_id}],
        "priority": "normal",
        "submitted_by": sheet.submitted_by,
    }


def sheet_returned(sheet: ScoreSheet, *, returned_by: str) -> dict[str, Any]:
    """Tell the author and the leader a sheet came back, and why."""
    people = sorted({sheet.submitted_by or sheet.created_by, sheet.team_leader_user_id} - {returned_by})
    return {
        **_base(sheet),
        "recipients": [{"kind": "person", "user_id": u} for u in people],
        "priority": "normal",
        "reason": sheet.return_reason,
        "returned_by": returned_by,
    }


def sheet_locked(sheet: ScoreSheet) -> dict[str, Any]:
    """Tell the team leader and the district's admins a sheet is final."""
    return {
        **_base(sheet),
        "recipients": [
            {"kind": "person", "user_id": sheet.team_leader_user_id},
            {"kind": "role", "role": "district_admin", "org_unit": _district_unit(sheet)},
        ],
        "priority": "normal",
        "locked_by": sheet.locked_by,
        "total": sheet.score,  # notify's template names the score `total`
        "content_sha256": sheet.content_sha256,
    }


def _ranking_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank": r["rank"],
        "district": r["district"],
        "district_name": r.get("district_name"),
        "composite": r["composite"],
        "grade": r["grade"],
    }


def results_published_to_district(
    *, round_code: str, row: dict[str, Any], published_by: str, publication: dict[str, Any]
) -> dict[str, Any]:
    """What one district's admins are told: their own district's row, nothing about the others.

    ``districts`` keeps the city-wide event's shape (a list) with this district's row alone; its
    fields are also given at the top level for templates (``rank``, ``composite``, ``grade``).
    `publication` is the version's ``version``, ``content_sha256``, ``complete`` (every expected sheet
    of the round locked) and ``override_reason``; the district row's own completeness is
    ``district_complete``.
    """
    unit = orgunit.district_unit(row["district"])
    own = _ranking_row(row)
    return {
        "round_code": round_code,
        "org_unit": unit,
        "district": row["district"],
        "recipients": [{"kind": "role", "role": "district_admin", "org_unit": unit}],
        "priority": "normal",
        "published_by": published_by,
        "rank": own["rank"],
        "composite": own["composite"],
        "grade": own["grade"],
        "district_complete": row.get("complete"),
        "grassroots_count": row.get("grassroots_count"),
        "districts": [own],
        **_publication(publication),
    }


def _publication(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": p["version"],
        "content_sha256": p["content_sha256"],
        "complete": p["complete"],
        "override_reason": p["override_reason"],
    }


def results_published_to_city(
    *,
    round_code: str,
    ranking: list[dict[str, Any]],
    published_by: str,
    locked_sheets: int,
    publication: dict[str, Any],
) -> dict[str, Any]:
    """What the city's leaders and admins are told: the whole ranking."""
    city = orgunit.city_root()
    return {
        "round_code": round_code,
        "org_unit": city,
        "district": None,
        "recipients": [
            {"kind": "role", "role": "leader", "org_unit": city},
            {"kind": "role", "role": "city_admin", "org_unit": city},
        ],
        "priority": "normal",
        "published_by": published_by,
        "locked_sheets": locked_sheets,
        "districts": [_ranking_row(r) for r in ranking],
        **_publication(publication),
    }


def finding_created(
    sheet: ScoreSheet, *, item_code: str, item_title: str, deduction: dict[str, Any], finding: dict[str, Any]
) -> dict[str, Any]:
    """The contract rectification's POST /findings expects (see BRIEF: cross-service contracts)."""
    return {
        "round_code": sheet.round_code,
        "sheet_id": sheet.id,
        "finding_id": deduction["id"],
        "item_code": item_code,
        "item_title": item_title,
        "site": site_of(sheet),
        "deduction_points": deduction["points"],
        "reason": deduction["reason"],
        "category": finding["category"],
        "severity": finding["severity"],
        "level": finding["level"],
        "concerns": finding["concerns"],
        "issued_by": sheet.team_leader_user_id,
        "team_id": sheet.team_id,
    }


class ScoredItem(Protocol):
    """What a snapshot reads of an item row (`ItemScore`)."""

    item_code: str
    section_code: str
    detail: dict[str, Any]


def sheet_changed_fact(
    sheet: ScoreSheet, items: Iterable[ScoredItem], *, item_titles: Mapping[str, str], changed_at: datetime
) -> dict[str, Any]:
    """`scoring.sheet.changed`: the sheet as it stands after a change (state transfer).

    Its revision is the sheet's version, which every change increments (the ETag's number).
    `items` are the sheet's item rows (their deductions, in order), `item_titles` the rubric's titles by
    item code.
    """
    return {
        "round_code": sheet.round_code,
        "sheet_id": sheet.id,
        "revision": sheet.version,
        "site": site_of(sheet),
        "team_id": sheet.team_id or None,
        "team_name": sheet.team_name or None,
        "status": sheet.status,
        "score": sheet.score,
        "grade": sheet.grade,
        "veto_items": list(sheet.veto_items),
        "deductions": [
            {
                "item_code": i.item_code,
                "item_title": item_titles.get(i.item_code) or i.item_code,
                "section_code": i.section_code,
                "points": d["points"],
                "reason": d["reason"],
            }
            for i in items
            for d in i.detail.get("deductions") or []
        ],
        "changed_at": changed_at.isoformat(),
        "locked_at": sheet.locked_at.isoformat() if sheet.locked_at is not None else None,
    }


def results_recorded_fact(row: ResultsVersion, districts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`scoring.results.recorded`: a published version and its district ranking (the version's content
    `districts`, as `results.service.district_rows` gives them; ``section_a`` is the own sheet's score)."""
    return {
        "round_code": row.round_code,
        "version": row.version,
        "published_at": row.published_at.isoformat(),
        "content_sha256": row.content_sha256,
        "complete": row.complete,
        "districts": [
            {
                "rank": d.get("rank"),
                "district": d["district"],
                "composite": d.get("composite"),
                "grade": d.get("grade"),
                "section_a": d.get("own_score"),
                "grassroots_mean": d.get("grassroots_mean"),
                "grassroots_count": int(d.get("grassroots_count") or 0),
                "complete": d.get("complete"),
            }
            for d in districts
        ],
    }
