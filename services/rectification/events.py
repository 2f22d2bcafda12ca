"""The events rectification sends, in one place: their types, and the payload builders. To notify, the
event's own fields plus who should hear about it; to reporting, `rectification.problem.changed`, a full
snapshot of the problem after every change (:func:`problem_changed_fact`). docs/events.md documents them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from services.kit import orgunit
from services.kit.workdays import local_date
from services.rectification.countdown import days_left
from services.rectification.enums import MILESTONE_LABELS, SEVERITY_LABELS, MilestoneKind, Priority, TimerKind


class EventType(StrEnum):
    """Every event type rectification enqueues."""

    PROBLEM_CREATED = "rectification.problem.created"
    PROBLEM_ASSIGNED = "rectification.problem.assigned"
    PROBLEM_RETURNED = "rectification.problem.returned"
    PROBLEM_CLOSED = "rectification.problem.closed"
    PROBLEM_OVERDUE = "rectification.problem.overdue"
    PROBLEM_SUBMITTED = "rectification.problem.submitted"
    PROBLEM_WITHDRAWN = "rectification.problem.withdrawn"
    PROBLEM_MERGED = "rectification.problem.merged"
    EXTENSION_REQUESTED = "rectification.extension.requested"
    EXTENSION_DECIDED = "rectification.extension.decided"
    DEADLINE_DUE = "rectification.deadline.due"
    MILESTONE_REMINDER = "rectification.milestone.reminder"


# Where every event goes: notify's intake (the relay batches them to /events/batch, see main.py).
TARGET = "notify"
PATH = "/events"

# The fact event: a snapshot of a problem after every change, for reporting's read model (no
# recipients; not an `EventType`, which are notify's). Batched to reporting's /events/batch.
PROBLEM_CHANGED = "rectification.problem.changed"
FACT_TARGET = "reporting"
FACT_PATH = "/events"

# The public base of rectification's API at the gateway (settings' `calendar_base_url`, which the
# calendar feed's links use too): a person's link to a problem is `<base>/problems/<id>`.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000/api/v1/rectification"
_public_base_url = DEFAULT_PUBLIC_BASE_URL


def configure_links(base_url: str) -> None:
    """Set the public base URL the events' links start with (once per process, from settings)."""
    global _public_base_url
    _public_base_url = base_url.rstrip("/")


def problem_link(problem_id: int | None) -> str:
    """The problem's URL at the gateway."""
    return f"{_public_base_url}/problems/{problem_id}"


TITLE_MAX = 40


class ProblemFacts(Protocol):
    """What a payload reads from a problem: an ORM row, or the scheduler's plain row."""

    id: int | None
    round_code: str | None
    site_code: str
    site_name: str
    site_type: str | None
    org_unit: str
    district: str
    category: str
    severity: str
    level: str
    description: str
    item_code: str | None
    issued_by: str
    responsible_unit: str
    responsible_person_id: str | None
    responsible_person_name: str | None
    item_title: str | None
    status: str
    deadline_at: datetime


class ProblemSnapshot(ProblemFacts, Protocol):
    """What a fact snapshot reads besides: an ORM row, or the scheduler's plain row."""

    revision: int
    created_at: datetime
    closed_at: datetime | None
    closed_on_time: bool | None
    extension_count: int
    merged_into_id: int | None


def district_unit(problem: ProblemFacts) -> str:
    return orgunit.district_unit(problem.district)


def person(user_id: str) -> dict[str, Any]:
    return {"kind": "person", "user_id": user_id}


def role(name: str, org_unit: str) -> dict[str, Any]:
    return {"kind": "role", "role": name, "org_unit": org_unit}


def responsible_recipients(problem: ProblemFacts) -> list[dict[str, Any]]:
    """The responsible person, or, while nobody is assigned yet, the district's admins."""
    if problem.responsible_person_id:
        return [person(problem.responsible_person_id)]
    return [role("district_admin", district_unit(problem))]


def verifier_recipients(problem: ProblemFacts) -> list[dict[str, Any]]:
    return [person(problem.issued_by), role("district_admin", district_unit(problem))]


def superior_unit(unit: str) -> str | None:
    """The unit above `unit` (ningbo/yinzhou/dongwu/x -> ningbo/yinzhou/dongwu), None at district level or above."""
    parts = unit.strip("/").split("/")
    return "/".join(parts[:-1]) if len(parts) > 3 else None


def escalation_recipients(problem: ProblemFacts) -> list[dict[str, Any]]:
    """The responsible person, the unit above theirs, the district's admins and the city."""
    out = responsible_recipients(problem)
    above = superior_unit(problem.responsible_unit)
    if above:
        out.append({"kind": "org_unit", "org_unit": above})
    if not any(r.get("role") == "district_admin" for r in out):
        out.append(role("district_admin", district_unit(problem)))
    out.append(role("city_admin", orgunit.city_root()))
    return out


def verification_escalation_recipients(problem: ProblemFacts) -> list[dict[str, Any]]:
    """A submitted problem nobody verified in time: the verifiers, and the city above them."""
    return [*verifier_recipients(problem), role("city_admin", orgunit.city_root())]


def decider_recipients(problem: ProblemFacts) -> list[dict[str, Any]]:
    """Who decides an extension (extensions/access.py): the issuer and the city's admins."""
    return [person(problem.issued_by), role("city_admin", orgunit.city_root())]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def title_of(problem: ProblemFacts) -> str:
    """What a person reads as the problem's title: the rubric item's title, else its description's start."""
    if problem.item_title and problem.item_title.strip():
        return problem.item_title.strip()
    text = " ".join(problem.description.split())
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def problem_fields(problem: ProblemFacts) -> dict[str, Any]:
    return {
        "problem_id": problem.id,
        "title": title_of(problem),
        "link": problem_link(problem.id),
        "round_code": problem.round_code,
        "site": {
            "code": problem.site_code,
            "name": problem.site_name,
            "type": problem.site_type,
            "org_unit": problem.org_unit,
            "district": problem.district,
        },
        "org_unit": problem.org_unit,
        "district": problem.district,
        "category": problem.category,
        "severity": problem.severity,
        "severity_label": SEVERITY_LABELS.get(problem.severity, problem.severity),
        "level": problem.level,
        "description": problem.description,
        "item_code": problem.item_code,
        "responsible_unit": problem.responsible_unit,
        "responsible_person": (
            {"user_id": problem.responsible_person_id, "name": problem.responsible_person_name}
            if problem.responsible_person_id
            else None
        ),
        "status": problem.status,
        "deadline_at": _iso(problem.deadline_at),
        "deadline_on": local_date(problem.deadline_at).isoformat(),
        "deadline": local_date(problem.deadline_at).isoformat(),
    }


def build(
    event_type: EventType,
    problem: ProblemFacts,
    recipients: list[dict[str, Any]],
    *,
    priority: Priority = Priority.NORMAL,
    **extra: Any,
) -> dict[str, Any]:
    data = problem_fields(problem)
    data.update({k: (_iso(v) if isinstance(v, datetime) else v) for k, v in extra.items()})
    data["recipients"] = recipients
    data["priority"] = str(priority)
    return data


def timer_payload(
    problem: ProblemFacts,
    *,
    kind: str,
    milestone: str,
    due_at: datetime,
    offset_days: int,
    sequence: int,
    timer_id: int,
    now: datetime,
) -> tuple[EventType, dict[str, Any]]:
    """The event a fired timer sends: a milestone reminder, the due moment, or an escalation."""
    common = {
        "timer_id": timer_id,
        "milestone": milestone,
        "milestone_label": MILESTONE_LABELS.get(milestone, milestone),
        "due_at": due_at,
        "due_on": local_date(due_at).isoformat(),
        "days_left": days_left(due_at, now),
    }
    if kind == TimerKind.ESCALATION:
        return EventType.PROBLEM_OVERDUE, build(
            EventType.PROBLEM_OVERDUE,
            problem,
            verification_escalation_recipients(problem)
            if milestone == MilestoneKind.VERIFICATION
            else escalation_recipients(problem),
            priority=Priority.URGENT,
            escalation=sequence,
            days_overdue=-days_left(due_at, now),
            **common,
        )
    recipients = (
        verifier_recipients(problem)
        if milestone == MilestoneKind.VERIFICATION
        else responsible_recipients(problem)
    )
    if kind == TimerKind.DUE:
        return EventType.DEADLINE_DUE, build(
            EventType.DEADLINE_DUE, problem, recipients, priority=Priority.URGENT, **common
        )
    return EventType.MILESTONE_REMINDER, build(
        EventType.MILESTONE_REMINDER,
        problem,
        recipients,
        priority=Priority.URGENT if offset_days <= 1 else Priority.NORMAL,
        days_before=offset_days,
        **common,
    )


def submitted_payload(problem: ProblemFacts, *, note: str, now: datetime) -> dict[str, Any]:
    """`rectification.problem.submitted`: the verifier is asked to verify (and close or return) it."""
    return build(
        EventType.PROBLEM_SUBMITTED,
        problem,
        verifier_recipients(problem),
        note=note,
        submitted_at=now,
        on_time=now <= problem.deadline_at,
    )


def extension_requested_payload(
    problem: ProblemFacts,
    *,
    extension_id: int | None,
    requested_by: str,
    reason: str,
    new_deadline_at: datetime,
) -> dict[str, Any]:
    """`rectification.extension.requested`: whoever decides is asked to approve or reject it."""
    return build(
        EventType.EXTENSION_REQUESTED,
        problem,
        decider_recipients(problem),
        extension_id=extension_id,
        requested_by=requested_by,
        reason=reason,
        requested_deadline_at=new_deadline_at,
        new_deadline=local_date(new_deadline_at).isoformat(),
    )


def extension_decided_payload(
    problem: ProblemFacts,
    *,
    requested_by: str,
    approved: bool,
    previous_deadline_at: datetime,
    requested_deadline_at: datetime,
    note: str | None,
) -> dict[str, Any]:
    """`rectification.extension.decided`: the requester hears the decision (and the deadline now)."""
    return build(
        EventType.EXTENSION_DECIDED,
        problem,
        [person(requested_by)],
        approved=approved,
        previous_deadline_at=previous_deadline_at,
        requested_deadline_at=requested_deadline_at,
        new_deadline=local_date(requested_deadline_at).isoformat(),
        note=note,
    )


def created_payload(problem: ProblemFacts) -> dict[str, Any]:
    """`rectification.problem.created`: the responsible side (and the district's admins) hear of it."""
    recipients = responsible_recipients(problem)
    if problem.responsible_person_id:
        recipients.append(role("district_admin", district_unit(problem)))
    return build(EventType.PROBLEM_CREATED, problem, recipients)


def assigned_payload(problem: ProblemFacts, *, previous: str | None) -> dict[str, Any]:
    """`rectification.problem.assigned`: the (new) responsible person hears of it."""
    assert problem.responsible_person_id is not None
    return build(
        EventType.PROBLEM_ASSIGNED,
        problem,
        [person(problem.responsible_person_id)],
        previous_responsible_person_id=previous,
    )


def closed_payload(problem: ProblemFacts, *, closed_on_time: bool | None, note: str | None) -> dict[str, Any]:
    """`rectification.problem.closed` (销号): the responsible side and the district's admins, with the
    SHA-256 of every evidence file of the problem (what the closing rests on)."""
    recipients = [*responsible_recipients(problem), role("district_admin", district_unit(problem))]
    # An ORM row has its evidence (current entries name `sha256`, older ones `file_hash`); a plain row has none.
    evidence: list[dict[str, Any]] = getattr(problem, "evidence", None) or []
    hashes = [str(h) for e in evidence if (h := e.get("sha256") or e.get("file_hash"))]
    return build(
        EventType.PROBLEM_CLOSED,
        problem,
        recipients,
        closed_on_time=closed_on_time,
        note=note,
        evidence_sha256=list(dict.fromkeys(hashes)),
    )


def returned_payload(problem: ProblemFacts, *, reason: str) -> dict[str, Any]:
    """`rectification.problem.returned`: the responsible side reworks it, with the reason."""
    return build(EventType.PROBLEM_RETURNED, problem, responsible_recipients(problem), reason=reason)


def _with_district_admins(problem: ProblemFacts) -> list[dict[str, Any]]:
    """The responsible side and the district's admins, each once."""
    recipients = responsible_recipients(problem)
    admins = role("district_admin", district_unit(problem))
    return recipients if admins in recipients else [*recipients, admins]


def withdrawn_payload(problem: ProblemFacts, *, reason: str, withdrawn_by: str) -> dict[str, Any]:
    """`rectification.problem.withdrawn` (撤销): the responsible side and the district's admins stop work."""
    return build(
        EventType.PROBLEM_WITHDRAWN,
        problem,
        _with_district_admins(problem),
        reason=reason,
        withdrawn_by=withdrawn_by,
    )


def merged_payload(
    problem: ProblemFacts, *, into: ProblemFacts, reason: str, merged_by: str
) -> dict[str, Any]:
    """`rectification.problem.merged` (合并): the merged-away problem's responsible side and the district's
    admins learn which problem carries on."""
    return build(
        EventType.PROBLEM_MERGED,
        problem,
        _with_district_admins(problem),
        reason=reason,
        merged_by=merged_by,
        merged_into={"problem_id": into.id, "title": title_of(into), "link": problem_link(into.id)},
    )


def problem_changed_fact(problem: ProblemSnapshot, *, changed_at: datetime) -> dict[str, Any]:
    """`rectification.problem.changed`: the problem as it stands after a change (state transfer).

    `problem.revision` must already count this change (it grows with every one): the receiver keeps the
    snapshot with the highest revision, so redelivery and reordering are harmless.
    """
    return {
        "problem_id": problem.id,
        "revision": problem.revision,
        "round_code": problem.round_code,
        "site": {
            "code": problem.site_code,
            "name": problem.site_name,
            "type": problem.site_type,
            "org_unit": problem.org_unit,
            "district": problem.district,
        },
        "responsible_unit": problem.responsible_unit,
        "responsible_person": (
            {"user_id": problem.responsible_person_id, "name": problem.responsible_person_name}
            if problem.responsible_person_id
            else None
        ),
        "item_code": problem.item_code,
        "item_title": problem.item_title.strip()
        if problem.item_title and problem.item_title.strip()
        else None,
        "category": problem.category,
        "severity": problem.severity,
        "level": problem.level,
        "title": title_of(problem),
        "description": problem.description,
        "status": problem.status,
        "created_at": problem.created_at.isoformat(),
        "deadline_at": problem.deadline_at.isoformat(),
        "closed_at": _iso(problem.closed_at),
        "closed_on_time": problem.closed_on_time,
        "extensions": problem.extension_count,
        "merged_into": problem.merged_into_id,
        "changed_at": changed_at.isoformat(),
    }
