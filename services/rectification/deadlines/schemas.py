"""API shapes of the countdown templates and the holiday calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.rectification.enums import CalendarSource, MilestoneKind, Severity

_TEMPLATE_EXAMPLE: dict[str, Any] = {
    "plan_days": 5,
    "plan_working": True,
    "midterm_percent": 50,
    "completion_days": 30,
    "completion_working": False,
    "verification_days": 5,
    "verification_working": True,
}


class TemplateFields(BaseModel):
    """How many days each milestone of a new problem gets."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    plan_days: int = Field(ge=1, le=365)
    """Days from the finding to the rectification plan (制定整改方案)"""
    plan_working: bool = True
    """Whether `plan_days` counts working days (else calendar days)"""
    midterm_percent: int = Field(ge=1, le=99)
    """Where the mid-term report falls, in percent of the time to the deadline"""
    completion_days: int = Field(ge=1, le=730)
    """Days from the finding to the deadline (整改完成)"""
    completion_working: bool = False
    """Whether `completion_days` counts working days"""
    verification_days: int = Field(ge=1, le=365)
    """Days from the submission to verification and closing (验收销号)"""
    verification_working: bool = True
    """Whether `verification_days` counts working days"""


class TemplateIn(InputModel, TemplateFields):
    """A countdown template: how many days each milestone of a new problem gets."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TEMPLATE_EXAMPLE]})


class TemplateRead(OutputModel, TemplateFields):
    """The countdown template of one severity."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {**_TEMPLATE_EXAMPLE, "severity": "general", "severity_label": "一般", "customised": False}
            ]
        }
    )

    severity: Severity
    """The severity this template applies to"""
    severity_label: str
    """The severity in Chinese (一般, 较重, 严重)"""
    customised: bool
    """Whether a city admin replaced the built-in template"""


class CalendarYearIn(InputModel):
    """A year's official holidays and adjusted working days, from the State Council's notice."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"holidays": ["2027-01-01", "2027-02-06", "2027-02-07"], "workdays": ["2027-02-14"]}]
        }
    )

    holidays: list[date] = Field(min_length=1, max_length=60)
    """Statutory holidays (放假日)"""
    workdays: list[date] = Field(default_factory=list, max_length=30)
    """Adjusted working weekends (调休上班日)"""


class CalendarYearRead(OutputModel):
    """Where a year's working days come from, and its holidays and adjusted working days."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2027,
                    "source": "entered",
                    "holidays": ["2027-01-01", "2027-02-06"],
                    "workdays": ["2027-02-14"],
                    "recomputed_problems": 3,
                }
            ]
        }
    )

    year: int
    """The year"""
    source: CalendarSource
    """entered by a city admin, from the chinesecalendar package, or the Monday-Friday fallback"""
    holidays: list[date]
    """Statutory holidays (放假日)"""
    workdays: list[date]
    """Adjusted working weekends (调休上班日)"""
    recomputed_problems: int = 0
    """On entry: how many provisional schedules were recomputed"""


_PREVIEW_MILESTONES: list[Any] = [
    {
        "kind": "plan",
        "label": "制定整改方案",
        "due_on": "2026-10-10",
        "due_at": "2026-10-10T15:59:59Z",
        "provisional": False,
    },
    {
        "kind": "midterm",
        "label": "中期进展报告",
        "due_on": "2026-10-10",
        "due_at": "2026-10-10T15:59:59Z",
        "provisional": False,
    },
    {
        "kind": "completion",
        "label": "整改完成",
        "due_on": "2026-10-15",
        "due_at": "2026-10-15T15:59:59Z",
        "provisional": False,
    },
]


class PreviewMilestone(OutputModel):
    """One milestone of a previewed countdown schedule."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PREVIEW_MILESTONES[0]]})

    kind: MilestoneKind
    """Which milestone (plan, midterm, completion)"""
    label: str
    """The milestone in Chinese (制定整改方案, 中期进展报告, 整改完成)"""
    due_on: date
    """The day it falls due, in Beijing time (always a working day when computed from the template)"""
    due_at: datetime
    """The moment it falls due: the end of `due_on` in Beijing time"""
    provisional: bool
    """Whether the date was computed across a year whose holidays are not known yet (it may move)"""


class SchedulePreview(OutputModel):
    """The countdown schedule a new problem would get, computed without creating one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "severity": "serious",
                    "severity_label": "较重",
                    "issued_on": "2026-09-30",
                    "deadline_on": "2026-10-15",
                    "provisional": False,
                    "milestones": _PREVIEW_MILESTONES,
                    "verification_days": 5,
                    "verification_working": True,
                }
            ]
        }
    )

    severity: Severity
    """The severity whose countdown template was used"""
    severity_label: str
    """The severity in Chinese (一般, 较重, 严重)"""
    issued_on: date
    """The day the problem would be issued, in Beijing time (the countdown starts the next day)"""
    deadline_on: date
    """The rectification deadline (限期整改), in Beijing time"""
    provisional: bool
    """Whether any date was computed across a year whose holidays are not known yet"""
    milestones: list[PreviewMilestone]
    """The plan, mid-term and completion milestones, in order"""
    verification_days: int
    """Days verification gets, counted from the day the rectification is submitted"""
    verification_working: bool
    """Whether `verification_days` counts working days"""
