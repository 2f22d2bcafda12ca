"""API shapes of extension requests (延期申请)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, ConfigDict, Field

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.rectification.enums import ExtensionStatus


class ExtensionCreate(InputModel):
    """A request for a later deadline: the new deadline as a date or as a moment (exactly one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "村两委换届，会议需延后召开", "new_deadline_on": "2026-02-20"}]
        }
    )

    reason: str = Field(min_length=1, max_length=5000)
    """Why more time is needed"""
    new_deadline_on: date | None = None
    """The deadline asked for, as a date (ends 23:59:59 Asia/Shanghai)"""
    new_deadline_at: AwareDatetime | None = None
    """The deadline asked for, as a moment"""


class ExtensionDecision(InputModel):
    """The issuing authority's decision on an extension request."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"approve": True, "note": "同意延期至2月20日"}]}
    )

    approve: bool
    """true approves (the deadline and later milestones move), false rejects"""
    note: str | None = Field(default=None, max_length=5000)
    """Why"""


class ExtensionRead(OutputModel):
    """An extension request and its decision."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "problem_id": 42,
                    "requested_by": "u-zhang-wei",
                    "reason": "村两委换届，会议需延后召开",
                    "requested_deadline_at": "2026-02-20T15:59:59Z",
                    "previous_deadline_at": "2026-02-04T15:59:59Z",
                    "status": "approved",
                    "created_at": "2026-01-20T02:00:00Z",
                    "decided_by": "u-team-leader",
                    "decided_at": "2026-01-21T03:00:00Z",
                    "decision_note": "同意延期至2月20日",
                }
            ]
        }
    )

    id: int
    """The request's id"""
    problem_id: int
    """The problem it is for"""
    requested_by: str
    """Who asked"""
    reason: str
    """Why more time is needed"""
    requested_deadline_at: datetime
    """The deadline asked for"""
    previous_deadline_at: datetime
    """The deadline when it was asked"""
    status: ExtensionStatus
    """Pending, approved or rejected"""
    created_at: datetime
    """When it was asked"""
    decided_by: str | None = None
    """Who decided"""
    decided_at: datetime | None = None
    """When it was decided"""
    decision_note: str | None = None
    """The decision's note"""
