"""Every status, kind and type rectification knows, each an enum (the same values in requests,
responses, the database and events), with the Chinese labels people read."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How serious a problem is; it picks the countdown template."""

    GENERAL = "general"
    SERIOUS = "serious"
    SEVERE = "severe"


class Level(StrEnum):
    """Down to what a problem is recorded: a village/community, a unit or an individual."""

    VILLAGE_COMMUNITY = "village_community"
    UNIT = "unit"
    INDIVIDUAL = "individual"


class Status(StrEnum):
    """Where a problem is in its rectification."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


# Statuses in which the responsible side still works on the problem (its deadline counts).
ACTIVE: tuple[Status, ...] = (Status.OPEN, Status.IN_PROGRESS, Status.RETURNED)
# Statuses a problem never leaves: verified and closed (销号), withdrawn, or merged into another.
TERMINAL: tuple[Status, ...] = (Status.CLOSED, Status.WITHDRAWN, Status.MERGED)
# Statuses a problem can still move from (withdraw and merge are allowed from each).
NOT_TERMINAL: tuple[Status, ...] = (Status.OPEN, Status.IN_PROGRESS, Status.SUBMITTED, Status.RETURNED)
# Problems that no longer count anywhere (statistics, bulletin, follow-up, feeds): a withdrawn one was
# a mistake or a duplicate, a merged one lives on in the problem it was merged into.
VOID: tuple[Status, ...] = (Status.WITHDRAWN, Status.MERGED)


class Light(StrEnum):
    """The countdown light: green, yellow and red by days left, overdue once past."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    OVERDUE = "overdue"


class MilestoneKind(StrEnum):
    """A node of the countdown schedule (倒排时间表), in order."""

    PLAN = "plan"
    MIDTERM = "midterm"
    COMPLETION = "completion"
    VERIFICATION = "verification"


class EvidenceKind(StrEnum):
    """What an evidence file is, as the evidence service tells it from the content's magic bytes."""

    IMAGE = "image"
    PDF = "pdf"
    DOCUMENT = "document"
    SPREADSHEET = "spreadsheet"
    VIDEO = "video"


def evidence_kind(value: str | None) -> EvidenceKind | None:
    """The kind evidence answered, or None for one this service does not know (read as a plain file)."""
    known = {k.value: k for k in EvidenceKind}
    return known.get(value) if value is not None else None


class EvidenceStage(StrEnum):
    """When a piece of evidence was given: with the finding, a progress report or the submission."""

    FINDING = "finding"
    PROGRESS = "progress"
    COMPLETION = "completion"


class EvidenceFlag(StrEnum):
    """What a verifier (核查) should look at in a photo: taken before the problem was issued, or after the
    rectification was submitted (its EXIF capture time)."""

    CAPTURED_BEFORE_ISSUE = "captured_before_issue"
    CAPTURED_AFTER_SUBMISSION = "captured_after_submission"


class HistoryAction(StrEnum):
    """What happened to a problem, as its history records it."""

    CREATED = "created"
    START = "start"
    PROGRESS = "progress"
    SUBMIT = "submit"
    CLOSE = "close"
    RETURN = "return"
    ASSIGN = "assign"
    REASSIGN = "reassign"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REJECTED = "extension_rejected"
    SCHEDULE_RECOMPUTED = "schedule_recomputed"
    WITHDRAW = "withdraw"
    # On the problem merged away (→ merged) and on the problem it was merged into (status unchanged).
    MERGE = "merge"
    MERGE_RECEIVED = "merge_received"


class ExtensionStatus(StrEnum):
    """Where an extension request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class SiteType(StrEnum):
    """A site's type, as sampling's directory (名录库) records it."""

    DISTRICT = "district"
    ZONE = "zone"
    TOWN = "town"
    STREET = "street"
    VILLAGE = "village"
    COMMUNITY = "community"
    ENTERPRISE = "enterprise"
    SOCIAL_ORG = "social_org"
    INSTITUTION = "institution"


class CalendarSource(StrEnum):
    """Where a year's working days come from."""

    ENTERED = "entered"
    PACKAGE = "package"
    FALLBACK = "fallback"


class TimerKind(StrEnum):
    """What a durable timer sends when it fires."""

    REMINDER = "reminder"
    DUE = "due"
    ESCALATION = "escalation"


class TimerStatus(StrEnum):
    """A timer's state: pending until it fires, is skipped (stale) or is cancelled (rescheduled)."""

    PENDING = "pending"
    FIRED = "fired"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    """How urgently notify should deliver an event."""

    NORMAL = "normal"
    URGENT = "urgent"


SEVERITY_LABELS: dict[str, str] = {
    Severity.GENERAL: "一般",
    Severity.SERIOUS: "较重",
    Severity.SEVERE: "严重",
}
EVIDENCE_FLAG_LABELS: dict[str, str] = {
    EvidenceFlag.CAPTURED_BEFORE_ISSUE: "拍摄时间早于问题下发",
    EvidenceFlag.CAPTURED_AFTER_SUBMISSION: "拍摄时间晚于整改提交",
}
MILESTONE_LABELS: dict[str, str] = {
    MilestoneKind.PLAN: "制定整改方案",
    MilestoneKind.MIDTERM: "中期进展报告",
    MilestoneKind.COMPLETION: "整改完成",
    MilestoneKind.VERIFICATION: "验收销号",
}
