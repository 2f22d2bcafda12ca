"""Every status, kind and grade scoring stores or answers, as enums (the values are the wire format)."""

from __future__ import annotations

from enum import StrEnum


class RubricStatus(StrEnum):
    """A rubric version's state: a draft may change; a published version is frozen."""

    DRAFT = "draft"
    PUBLISHED = "published"


class SheetStatus(StrEnum):
    """Where a score sheet is in its lifecycle (草稿 → 已提交 → 已审核 → 已锁定; 已退回 for rework)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    RETURNED = "returned"
    LOCKED = "locked"


EDITABLE = frozenset({SheetStatus.DRAFT, SheetStatus.RETURNED})
RETURNABLE = frozenset({SheetStatus.SUBMITTED, SheetStatus.REVIEWED})
LOCKED_ONLY = (SheetStatus.LOCKED,)
# Results previews also count reviewed sheets (marked as preview).
WITH_PREVIEW = (SheetStatus.LOCKED, SheetStatus.REVIEWED)


class SheetAction(StrEnum):
    """What one entry of a sheet's history records."""

    CREATED = "created"
    UPDATED = "updated"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    RETURNED = "returned"
    LOCKED = "locked"


class SiteType(StrEnum):
    """The kinds of site scored (区县市, 功能区, 镇乡, 街道, 村, 社区, 非公企业, 社会组织, 机关事业单位)."""

    DISTRICT = "district"
    ZONE = "zone"
    TOWN = "town"
    STREET = "street"
    VILLAGE = "village"
    COMMUNITY = "community"
    ENTERPRISE = "enterprise"
    SOCIAL_ORG = "social_org"
    INSTITUTION = "institution"


class ScoringType(StrEnum):
    """How an item is scored: deduct per finding, a grade, a rate, or met / not met."""

    DEDUCTION = "deduction"
    GRADED = "graded"
    RATE = "rate"
    CHECK = "check"


class Grade(StrEnum):
    """A grade (等级): of a graded item, of a sheet's score, of a district's composite."""

    GOOD = "好"
    FAIRLY_GOOD = "较好"
    FAIR = "一般"
    POOR = "差"


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


class Method(StrEnum):
    """An evidence method (看问访核查谈): look, ask, visit, verify, inspect, talk."""

    LOOK = "看"
    ASK = "问"
    VISIT = "访"
    VERIFY = "核"
    INSPECT = "查"
    TALK = "谈"


class Severity(StrEnum):
    """How serious a finding is: 一般 general · 较重 serious · 严重 severe."""

    GENERAL = "general"
    SERIOUS = "serious"
    SEVERE = "severe"


class FindingLevel(StrEnum):
    """Whom a finding concerns: a village/community, a unit, or a person."""

    VILLAGE_COMMUNITY = "village_community"
    UNIT = "unit"
    INDIVIDUAL = "individual"


class ExportTable(StrEnum):
    """The tables a round's results export as CSV."""

    DISTRICTS = "districts"
    SITES = "sites"
    ITEMS = "items"
