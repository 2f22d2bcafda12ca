"""API shapes of problems: entering one, its lifecycle, and how it reads.

Request bodies inherit :class:`~services.kit.text.InputModel` (no unknown fields, no control
characters, 64-bit integers, bounded nesting); responses are :class:`~services.kit.schema.OutputModel`
(UTC ``Z`` datetimes). A person's unit and name, and a site's name and unit, are looked up in notify's
and sampling's directories: in a request they are named by id or code only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from services.kit.auth import ORG_UNIT_PATTERN
from services.kit.orgunit import OrgUnit
from services.kit.params import INT64_MAX
from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.rectification.enums import (
    EvidenceFlag,
    EvidenceKind,
    EvidenceStage,
    HistoryAction,
    Level,
    Light,
    MilestoneKind,
    Severity,
    SiteType,
    Status,
)

SHA256 = r"^[0-9a-f]{64}$"
ORG_UNIT = ORG_UNIT_PATTERN
# Sampling's site codes and notify's user ids (the same grammars those services accept).
SITE_CODE = r"^[A-Za-z0-9._\-]{1,64}$"
USER_ID = r"^[A-Za-z0-9._:\-]{1,100}$"
DISTRICT = r"^[a-z0-9_\-]{1,40}$"
CHECKED = (
    "Optional: taken from the directory; when given it must be the directory's value (else 422 naming it)"
)

HASH_EXAMPLE = "9f2c" * 16
FILE_ID = r"^[A-Za-z0-9._\-]{1,64}$"
FILE_ID_EXAMPLE = "0f8e2c1a-7b3d-4e59-9a61-2d4c8b7e5f30"
EVIDENCE_EXAMPLE: dict[str, Any] = {"file_id": FILE_ID_EXAMPLE, "note": "会议记录已补齐"}
EVIDENCE_READ_EXAMPLE: dict[str, Any] = {
    "file_id": FILE_ID_EXAMPLE,
    "name": "整改照片.jpg",
    "media_type": "image/jpeg",
    "kind": "image",
    "sha256": HASH_EXAMPLE,
    "size": 482113,
    "captured_at": "2026-04-10T02:15:00Z",
    "content_url": f"/api/v1/evidence/files/{FILE_ID_EXAMPLE}/content",
    "thumbnail_url": f"/api/v1/evidence/files/{FILE_ID_EXAMPLE}/thumbnail",
    "note": "会议记录已补齐",
    "stage": "completion",
    "added_by": "u-li-na",
    "added_at": "2026-04-12T01:00:00Z",
    "flags": [],
    "flag_labels": [],
}
SITE_EXAMPLE: dict[str, Any] = {
    "code": "330212001001",
    "name": "天童村",
    "type": "village",
    "org_unit": "ningbo/yinzhou/dongwu/tiantong",
    "district": "yinzhou",
}
PERSON_EXAMPLE: dict[str, Any] = {"user_id": "u-zhang-wei", "name": "张伟"}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# --- parts ------------------------------------------------------------------------------------


class SiteIn(InputModel):
    """The site of a problem entered by hand: its code in sampling's directory (名录库)."""

    model_config = _examples({"code": "330212001001"})

    code: str = Field(pattern=SITE_CODE)
    """The site's code in sampling's directory"""
    name: str | None = Field(default=None, max_length=200, description=CHECKED)
    type: SiteType | None = Field(default=None, description=CHECKED)
    org_unit: str | None = Field(default=None, max_length=400, description=CHECKED)
    district: str | None = Field(default=None, max_length=40, description=CHECKED)


class SiteRead(OutputModel):
    """The inspected site a problem was found at."""

    model_config = _examples(SITE_EXAMPLE)

    code: str
    """The site's code in sampling's directory (administrative division or credit code)"""
    name: str
    """The site's name"""
    type: SiteType | None = None
    """The site's type"""
    org_unit: str
    """The site's org unit (a path such as ningbo/yinzhou/dongwu/tiantong)"""
    district: str
    """The district or functional zone the site lies in"""


class EvidenceIn(InputModel):
    """A file uploaded to the evidence service, named by its id there (it must lie in the caller's scope)."""

    model_config = _examples(EVIDENCE_EXAMPLE)

    file_id: str = Field(pattern=FILE_ID)
    """The file's id at the evidence service (``POST /api/v1/evidence/files`` answers it)"""
    note: str | None = Field(default=None, max_length=1000)
    """What the file shows"""


class EvidenceRead(OutputModel):
    """A piece of evidence on a problem: the file as the evidence service described it when attached.

    Evidence given before files were named by id carries its SHA-256 and name only (``file_id`` null).
    """

    model_config = _examples(EVIDENCE_READ_EXAMPLE)

    file_id: str | None = None
    """The file's id at the evidence service (null: evidence given by hash, before files had ids)"""
    name: str
    """The file's name"""
    media_type: str | None = None
    """Its media type, from its content (image/jpeg, application/pdf, …)"""
    kind: EvidenceKind | None = None
    """image, pdf, document, spreadsheet or video (null: not told)"""
    sha256: str
    """SHA-256 of the file, lowercase hex"""
    size: int | None = None
    """Its size in bytes"""
    captured_at: datetime | None = None
    """When a photo was taken (EXIF), if known"""
    content_url: str | None = None
    """Where the file can be fetched"""
    thumbnail_url: str | None = None
    """Its thumbnail (images only)"""
    note: str | None = None
    """What the file shows"""
    stage: EvidenceStage | None = None
    """Given with the finding, a progress report or the submission"""
    added_by: str | None = None
    """Who attached it"""
    added_at: datetime | None = None
    """When it was attached"""
    merged_from: int | None = None
    """The problem it was given on, when that problem was merged into this one"""
    flags: list[EvidenceFlag] = Field(default_factory=list)
    """For the verifier (核查): a rectification photo taken before the problem was issued or after the
    rectification was submitted"""
    flag_labels: list[str] = Field(default_factory=list)
    """The flags in Chinese, in the same order"""

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        # Rows written before evidence had ids hold {file_hash, name, url, note, stage}: read them as is.
        if isinstance(data, dict) and "file_hash" in data and "sha256" not in data:
            data = {**data, "sha256": data["file_hash"], "content_url": data.get("url")}
            data.pop("file_hash", None)
            data.pop("url", None)
        return data


class PersonIn(InputModel):
    """A responsible person (责任人), named by their user id in notify's directory."""

    model_config = _examples({"user_id": "u-zhang-wei"})

    user_id: str = Field(pattern=USER_ID)
    """The person's user id in notify's directory"""
    name: str | None = Field(default=None, max_length=100, description=CHECKED)
    org_unit: str | None = Field(default=None, max_length=400, description=CHECKED)


class PersonRead(OutputModel):
    """A person, by user id and name."""

    model_config = _examples(PERSON_EXAMPLE)

    user_id: str
    """The person's user id"""
    name: str | None = None
    """The person's name, from notify's directory"""


class WithdrawalRead(OutputModel):
    """Who withdrew a problem (撤销), when and why."""

    model_config = _examples({"at": "2026-01-08T02:00:00Z", "by": "u-city-admin", "reason": "重复录入"})

    at: datetime
    """When it was withdrawn"""
    by: str
    """Who withdrew it"""
    reason: str
    """Why"""


class MergeRead(OutputModel):
    """The problem a problem was merged into (合并), who merged it, when and why."""

    model_config = _examples(
        {"problem_id": 41, "at": "2026-01-08T02:00:00Z", "by": "u-city-admin", "reason": "与41号问题重复"}
    )

    problem_id: int
    """The problem it was merged into (which carries on, with its own deadline)"""
    at: datetime
    """When it was merged"""
    by: str
    """Who merged it"""
    reason: str
    """Why"""


# --- problems --------------------------------------------------------------------------------


class ProblemCreate(InputModel):
    """A problem entered by hand by a city or district admin."""

    model_config = _examples(
        {
            "site": {"code": "330212001001"},
            "round_code": "2026Q1",
            "level": "village_community",
            "category": "三会一课",
            "severity": "general",
            "description": "支部委员会会议记录不全",
            "responsible_person": {"user_id": "u-zhang-wei"},
            "deadline_on": "2026-02-28",
        }
    )

    site: SiteIn
    """The site the problem was found at"""
    round_code: str | None = Field(default=None, max_length=40)
    """The inspection round (督查批次) it was found in"""
    sheet_id: str | None = Field(default=None, max_length=64)
    """The score sheet it comes from, if any"""
    item_code: str | None = Field(default=None, max_length=20)
    """The rubric item it concerns"""
    item_title: str | None = Field(default=None, max_length=200)
    """The rubric item's title"""
    level: Level
    """Recorded down to a village/community, a unit or an individual"""
    category: str = Field(min_length=1, max_length=100)
    """The kind of problem, e.g. 三会一课"""
    severity: Severity
    """How serious it is; picks the countdown template"""
    description: str = Field(min_length=1, max_length=5000)
    """What is wrong"""
    concerns: str | None = Field(default=None, max_length=400)
    """Who or what it concerns, when narrower than the site"""
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    """Files found on the spot"""
    responsible_unit: OrgUnit | None = Field(
        default=None, description="Defaults to the person's unit, else the site's; inside the site's district"
    )
    responsible_person: PersonIn | None = None
    """Who must rectify it (责任人); may be assigned later"""
    deadline_on: date | None = Field(
        default=None, description="The deadline as a date: ends 23:59:59 Asia/Shanghai"
    )
    deadline_at: AwareDatetime | None = None
    """The deadline as a moment (give it or deadline_on, or neither for the template's)"""
    plan_due_on: date | None = None
    """When the plan is due, instead of the template's"""
    midterm_due_on: date | None = None
    """When the mid-term report is due, instead of the template's"""


class MilestoneRead(OutputModel):
    """One node of the countdown schedule (倒排时间表)."""

    model_config = _examples(
        {
            "kind": "plan",
            "label": "制定整改方案",
            "due_at": "2026-01-12T15:59:59Z",
            "due_on": "2026-01-12",
            "original_due_at": "2026-01-12T15:59:59Z",
            "done_at": None,
            "provisional": False,
            "days_left": 7,
            "working_days_left": 5,
        }
    )

    kind: MilestoneKind
    """Which milestone"""
    label: str
    """Its name in Chinese"""
    due_at: datetime
    """When it is due"""
    due_on: date
    """The day it is due, in Beijing time"""
    original_due_at: datetime
    """When it was first due (before any extension)"""
    done_at: datetime | None = None
    """When it was met"""
    provisional: bool
    """Whether the date was computed across a year whose holidays are not known yet"""
    days_left: int
    """Calendar days to the due day (negative once past)"""
    working_days_left: int
    """Working days to the due day (negative once past)"""


class ProblemRead(OutputModel):
    """A problem (问题) with its countdown: milestones, days left and light."""

    model_config = _examples(
        {
            "id": 42,
            "source_event_id": None,
            "round_code": "2026Q1",
            "sheet_id": None,
            "item_code": "C-07",
            "item_title": "组织生活制度落实",
            "title": "组织生活制度落实",
            "site": SITE_EXAMPLE,
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "district": "yinzhou",
            "level": "village_community",
            "category": "三会一课",
            "severity": "general",
            "severity_label": "一般",
            "description": "支部委员会会议记录不全",
            "concerns": None,
            "deduction_points": 1.5,
            "evidence": [],
            "issued_by": "u-team-leader",
            "issuing_unit": "ningbo",
            "responsible_unit": "ningbo/yinzhou/dongwu/tiantong",
            "responsible_person": PERSON_EXAMPLE,
            "status": "in_progress",
            "created_at": "2026-01-05T01:00:00Z",
            "deadline_at": "2026-02-04T15:59:59Z",
            "deadline_on": "2026-02-04",
            "days_left": 30,
            "working_days_left": 22,
            "light": "green",
            "provisional": False,
            "submitted_at": None,
            "closed_at": None,
            "closed_on_time": None,
            "extension_count": 0,
            "milestones": [],
            "withdrawal": None,
            "merged_into": None,
            "merged_from": [],
        }
    )

    id: int
    """The problem's id"""
    source_event_id: str | None = None
    """The scoring finding event it came from (None when entered by hand)"""
    round_code: str | None = None
    """The inspection round it was found in"""
    sheet_id: str | None = None
    """The score sheet it comes from"""
    finding_id: str | None = None
    """The finding on the score sheet it comes from (scoring's id; one problem per finding)"""
    item_code: str | None = None
    """The rubric item it concerns"""
    item_title: str | None = None
    """The rubric item's title"""
    title: str
    """What people read as its title, in messages too: the rubric item's title, else the description's start"""
    site: SiteRead
    """Where it was found"""
    org_unit: str
    """The site's org unit"""
    district: str
    """The site's district or zone"""
    level: Level
    """Recorded down to a village/community, a unit or an individual"""
    category: str
    """The kind of problem"""
    severity: Severity
    """How serious it is"""
    severity_label: str
    """The severity in Chinese"""
    description: str
    """What is wrong"""
    concerns: str | None = None
    """Who or what it concerns, when narrower than the site"""
    deduction_points: float | None = None
    """Points deducted on the score sheet"""
    evidence: list[EvidenceRead]
    """Every piece of evidence, in the order given"""
    issued_by: str
    """Who issued it (the inspector or admin)"""
    issuing_unit: str
    """The issuing authority's unit"""
    responsible_unit: str
    """The unit that must rectify it"""
    responsible_person: PersonRead | None = None
    """Who must rectify it (责任人); None until assigned"""
    status: Status
    """Where it is in its rectification"""
    created_at: datetime
    """When it was recorded"""
    deadline_at: datetime
    """The rectification deadline (限期整改)"""
    deadline_on: date
    """The deadline's day, in Beijing time"""
    days_left: int | None = None
    """Calendar days left to what it counts down to (None once closed, withdrawn or merged)"""
    working_days_left: int | None = None
    """Working days left (None once closed, withdrawn or merged)"""
    light: Light | None = None
    """The countdown light (None once closed, withdrawn or merged)"""
    provisional: bool
    """Whether a date was computed across a year whose holidays are not known yet"""
    submitted_at: datetime | None = None
    """When the rectification was submitted for verification"""
    closed_at: datetime | None = None
    """When it was verified and closed (销号)"""
    closed_on_time: bool | None = None
    """Whether it was submitted by the deadline (once closed)"""
    extension_count: int
    """How many extensions were approved"""
    milestones: list[MilestoneRead]
    """The countdown schedule"""
    withdrawal: WithdrawalRead | None = None
    """Who withdrew it, when and why (status withdrawn)"""
    merged_into: MergeRead | None = None
    """The problem it was merged into, who merged it, when and why (status merged)"""
    merged_from: list[int] = Field(default_factory=list)
    """The problems merged into this one, by id"""


class HistoryDetail(OutputModel):
    """What a history entry recorded; which members appear depends on the action."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [{"from": None, "to": "u-zhang-wei", "responsible_unit": "ningbo/yinzhou"}]
        },
    )

    deadline_at: datetime | None = None
    """The deadline after the change"""
    previous_deadline_at: datetime | None = None
    """The deadline before an extension"""
    requested_deadline_at: datetime | None = None
    """The deadline an extension request asks for"""
    provisional: bool | None = None
    """Whether the new schedule is provisional"""
    plan: str | None = None
    """The rectification plan (start)"""
    note: str | None = None
    """The note given"""
    reason: str | None = None
    """The reason given"""
    evidence: list[EvidenceRead] | None = None
    """Evidence given with the action"""
    evidence_sha256: list[str] | None = None
    """SHA-256 of every evidence file of the problem (close: the record that closes it)"""
    on_time: bool | None = None
    """Whether it happened by the deadline"""
    from_person_id: str | None = Field(default=None, alias="from")
    """The previous responsible person (assign)"""
    to_person_id: str | None = Field(default=None, alias="to")
    """The new responsible person (assign)"""
    responsible_unit: str | None = None
    """The new responsible unit (assign)"""
    extension_id: int | None = None
    """The extension request decided"""
    year: int | None = None
    """The calendar year whose holidays were entered (schedule recomputed)"""
    merged_into: int | None = None
    """The problem this one was merged into (merge)"""
    merged_from: int | None = None
    """The problem merged into this one (merge_received)"""


class HistoryRead(OutputModel):
    """One transition or change of a problem, with who did it."""

    model_config = _examples(
        {
            "at": "2026-01-06T02:00:00Z",
            "actor": "u-zhang-wei",
            "action": "start",
            "from_status": "open",
            "to_status": "in_progress",
            "detail": {"plan": "一周内补齐会议记录"},
        }
    )

    at: datetime
    """When it happened"""
    actor: str
    """Who did it"""
    action: HistoryAction
    """What happened"""
    from_status: Status | None = None
    """The status before"""
    to_status: Status | None = None
    """The status after"""
    detail: HistoryDetail
    """What was recorded with it"""


# --- transitions -----------------------------------------------------------------------------


class StartIn(InputModel):
    """Start the rectification with a plan."""

    model_config = _examples({"plan": "一周内补齐支部委员会会议记录，由支部书记负责"})

    plan: str = Field(min_length=1, max_length=5000)
    """The rectification plan (整改方案)"""


class ProgressIn(InputModel):
    """A progress report."""

    model_config = _examples({"note": "已补齐三次会议记录", "evidence": [EVIDENCE_EXAMPLE]})

    note: str = Field(min_length=1, max_length=5000)
    """What was done"""
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    """Files that show it"""


class SubmitIn(InputModel):
    """The rectification, submitted for verification."""

    model_config = _examples({"note": "整改完成，请验收", "evidence": [EVIDENCE_EXAMPLE]})

    note: str = Field(min_length=1, max_length=5000)
    """What was done"""
    evidence: list[EvidenceIn] = Field(min_length=1, max_length=50)
    """Files that prove it (at least one)"""


class CloseIn(InputModel):
    """Verification and closing (销号)."""

    model_config = _examples({"note": "现场核查通过"})

    note: str | None = Field(default=None, max_length=5000)
    """The verifier's note"""


class ReturnIn(InputModel):
    """A submitted rectification sent back for rework."""

    model_config = _examples({"reason": "佐证材料不全，缺少会议签到表"})

    reason: str = Field(min_length=1, max_length=5000)
    """Why it is returned"""


class WithdrawIn(InputModel):
    """A duplicate or mistaken problem, withdrawn (撤销)."""

    model_config = _examples({"reason": "同一问题重复录入"})

    reason: str = Field(min_length=1, max_length=5000)
    """Why it is withdrawn"""


class MergeIn(InputModel):
    """A duplicate merged into another problem of the same site and round (合并)."""

    model_config = _examples({"into": 41, "reason": "与41号问题为同一问题"})

    into: int = Field(ge=1, le=2**63 - 1)
    """The problem that carries on (same site and round, not closed, withdrawn or merged)"""
    reason: str = Field(min_length=1, max_length=5000)
    """Why they are one problem"""


class AssignIn(InputModel):
    """The responsible person to assign."""

    model_config = _examples({"responsible_person": {"user_id": "u-zhang-wei"}, "reason": "原责任人调岗"})

    responsible_person: PersonIn
    """Who must rectify it"""
    reason: str | None = Field(default=None, max_length=1000)
    """Why (on a reassignment)"""


# Enough for a round's problems in a few calls; each item costs a directory lookup per new person.
MAX_ASSIGN_BATCH = 500


class AssignBatchItem(InputModel):
    """One problem and the person to make responsible for it."""

    model_config = _examples({"problem_id": 42, "user_id": "u-zhang-wei"})

    problem_id: int = Field(ge=1, le=INT64_MAX)
    """The problem's id"""
    user_id: str = Field(pattern=USER_ID)
    """The responsible person's user id in notify's directory"""


class AssignBatchIn(InputModel):
    """Problems and their responsible people (责任人), assigned all together or not at all."""

    model_config = _examples(
        {
            "items": [
                {"problem_id": 42, "user_id": "u-zhang-wei"},
                {"problem_id": 43, "user_id": "u-li-na"},
            ],
            "reason": "按属地分派整改责任人",
        }
    )

    items: list[AssignBatchItem] = Field(min_length=1, max_length=MAX_ASSIGN_BATCH)
    """Each problem once, with its person"""
    reason: str | None = Field(default=None, max_length=1000)
    """Why (recorded on every reassignment, as with a single assignment)"""


# --- views -----------------------------------------------------------------------------------


class Counts(OutputModel):
    """Problems counted by where they stand (withdrawn and merged problems count nowhere)."""

    model_config = _examples({"open": 12, "overdue": 3, "closed_on_time": 20, "closed_late": 2})

    open: int = 0
    """Not closed yet (open, in progress, submitted or returned)"""
    overdue: int = 0
    """Active and past the deadline"""
    closed_on_time: int = 0
    """Closed, submitted by the deadline"""
    closed_late: int = 0
    """Closed, submitted after the deadline"""


class DistrictStats(Counts):
    """One district's problems counted, in all and by category and severity."""

    model_config = _examples(
        {
            "district": "yinzhou",
            "open": 12,
            "overdue": 3,
            "closed_on_time": 20,
            "closed_late": 2,
            "average_days_to_close": 18.5,
            "by_category": {"三会一课": {"open": 4, "overdue": 1, "closed_on_time": 6, "closed_late": 0}},
            "by_severity": {"general": {"open": 10, "overdue": 2, "closed_on_time": 18, "closed_late": 1}},
        }
    )

    district: str
    """The district or zone"""
    average_days_to_close: float | None = None
    """Average days from recording to closing (None when none closed)"""
    by_category: dict[str, Counts]
    """The counts per problem category"""
    by_severity: dict[str, Counts]
    """The counts per severity (general, serious, severe)"""


class BulletinItem(OutputModel):
    """An overdue problem as the bulletin (问题通报) names it."""

    model_config = _examples(
        {
            "problem_id": 42,
            "district": "yinzhou",
            "site_code": "330212001001",
            "site_name": "天童村",
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "category": "三会一课",
            "severity": "general",
            "severity_label": "一般",
            "description": "支部委员会会议记录不全",
            "responsible_unit": "ningbo/yinzhou/dongwu/tiantong",
            "responsible_person": PERSON_EXAMPLE,
            "deadline_at": "2026-02-04T15:59:59Z",
            "days_overdue": 6,
            "status": "in_progress",
        }
    )

    problem_id: int
    """The problem's id"""
    district: str
    """The site's district"""
    site_code: str
    """The site's code"""
    site_name: str
    """The site's name"""
    org_unit: str
    """The site's org unit"""
    category: str
    """The kind of problem"""
    severity: Severity
    """How serious it is"""
    severity_label: str
    """The severity in Chinese"""
    description: str
    """What is wrong"""
    responsible_unit: str
    """The unit that must rectify it"""
    responsible_person: PersonRead | None = None
    """Who must rectify it"""
    deadline_at: datetime
    """The missed deadline"""
    days_overdue: int
    """Days since the deadline, in Beijing time"""
    status: Status
    """Where it is in its rectification"""


class FollowUpSite(OutputModel):
    """A site with overdue problems, for the follow-up visit (回头看)."""

    model_config = _examples({"site_code": "330212001001", "district": "yinzhou", "overdue_count": 2})

    site_code: str
    """The site's code"""
    district: str
    """The site's district"""
    overdue_count: int
    """How many of its problems are overdue"""


class AssignBatchRead(OutputModel):
    """The problems of a batch as they read after it, and which of them it changed."""

    model_config = _examples(
        {
            "problems": ProblemRead.model_config["json_schema_extra"]["examples"],  # type: ignore[index]
            "assigned": [42],
            "unchanged": [],
        }
    )

    problems: list[ProblemRead]
    """Every problem of the batch, in the order of `items`"""
    assigned: list[int]
    """The problems given a (new) responsible person, each with its history entry and assigned event"""
    unchanged: list[int]
    """The problems that already had that person: left as they were (sending the batch again is harmless)"""
