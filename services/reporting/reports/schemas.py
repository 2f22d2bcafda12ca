"""The 专报's API shapes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.kit.schema import OutputModel

# Text people read: no NUL (PostgreSQL refuses it in text) nor other control characters but line breaks.
_NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000, pattern=_NO_CONTROL)
]


class ReportStatus(StrEnum):
    """Where a 专报 stands: draft → in_review → approved | returned → issued."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"
    ISSUED = "issued"


STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "in_review": "审核中",
    "returned": "已退回",
    "approved": "已审核",
    "issued": "已印发",
}

_SECTION_EXAMPLE: dict[str, Any] = {
    "key": "overview",
    "heading": "一、基本情况",
    "paragraphs": ["2026年第一季度基层党建专项督查于2026年3月2日完成随机抽样，共抽取督查点位138个。"],
}
_TITLE = "关于2026年第一季度基层党建专项督查情况的专报"


class Section(BaseModel):
    """One section of the body: its heading (with its number, 「一、基本情况」) and its paragraphs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_SECTION_EXAMPLE]})

    key: str = Field(
        min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", description="Stable key, e.g. overview"
    )
    heading: str = Field(
        min_length=1,
        max_length=100,
        pattern=_ONE_LINE,
        description="The heading with its number: 「一、基本情况」",
    )
    paragraphs: list[Text] = Field(max_length=50, description="Body paragraphs, in order")


class SpecialReportDraft(BaseModel):
    """Draft a 专报 from the round's data (every field optional)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"title": _TITLE}]})

    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        pattern=_ONE_LINE,
        description="Replaces the default title (关于<轮次>情况的专报)",
    )


class SpecialReportUpdate(BaseModel):
    """Edit a draft (or a returned report): its title and/or its sections, whole."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": _TITLE, "sections": [_SECTION_EXAMPLE]}]}
    )

    title: str | None = Field(
        default=None, min_length=1, max_length=300, pattern=_ONE_LINE, description="The new title"
    )
    sections: list[Section] | None = Field(
        default=None, min_length=1, max_length=20, description="Every section, in order (replaces them all)"
    )


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class ReviewIn(BaseModel):
    """The reviewer's decision (a city admin other than the author)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "approve"}, {"decision": "return", "comment": "补充典型经验"}]
        },
    )

    decision: ReviewDecision = Field(description="approve, or return to the author")
    comment: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        pattern=_NO_CONTROL,
        description="Required when returning: what to change",
    )


class IssueIn(BaseModel):
    """Issue the approved report under a 发文字号."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"doc_number": "甬组督〔2026〕3号"}]}
    )

    doc_number: str = Field(
        min_length=1,
        max_length=60,
        pattern=_ONE_LINE,
        description="发文字号: the issuer, the year of issue in 〔〕, the number, 号",
        examples=["甬组督〔2026〕3号"],
    )


class DocumentFile(OutputModel):
    format: str = Field(description="docx | pdf")
    sha256: str = Field(description="SHA-256 of the stored file (its ETag)")
    size: int = Field(description="Bytes")
    url: str = Field(description="Where to download it (reporting's own path)")


_ISSUED_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "round_code": "2026Q1",
    "title": _TITLE,
    "status": "issued",
    "status_label": "已印发",
    "version": 5,
    "sections": [_SECTION_EXAMPLE],
    "author_id": "u-admin",
    "created_at": "2026-04-01T02:00:00Z",
    "updated_at": "2026-04-03T02:00:00Z",
    "data_as_of": "2026-04-01T01:58:00Z",
    "submitted_at": "2026-04-02T02:00:00Z",
    "reviewer_id": "u-admin-2",
    "reviewed_at": "2026-04-02T06:00:00Z",
    "review_comment": "同意印发",
    "doc_number": "甬组督〔2026〕3号",
    "issued_by": "u-admin",
    "issued_at": "2026-04-03T02:00:00Z",
    "issued_on": "2026-04-03",
    "files": [
        {
            "format": "pdf",
            "sha256": "9f2c" * 16,
            "size": 183204,
            "url": "/special-reports/3/document.pdf",
        }
    ],
}


class SpecialReportRead(OutputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ISSUED_EXAMPLE]})

    id: int = Field(description="The report's id")
    round_code: str = Field(description="The round it reports on")
    title: str = Field(description="标题")
    status: ReportStatus = Field(description="Where it stands in its lifecycle")
    status_label: str = Field(description="The status in Chinese")
    version: int = Field(description="Bumped by every change (the ETag names it)")
    sections: list[Section] = Field(description="The body's sections, in order")
    author_id: str = Field(description="Who drafted it")
    created_at: datetime = Field(description="When it was drafted")
    updated_at: datetime = Field(description="Its last change")
    data_as_of: datetime | None = Field(description="How fresh the data it was drafted from was")
    submitted_at: datetime | None = Field(description="When it was last sent for review")
    reviewer_id: str | None = Field(description="Who reviewed it last")
    reviewed_at: datetime | None = Field(description="When it was last reviewed")
    review_comment: str | None = Field(description="The reviewer's comment")
    doc_number: str | None = Field(description="发文字号, once issued")
    issued_by: str | None = Field(description="Who issued it")
    issued_at: datetime | None = Field(description="When it was issued")
    issued_on: date | None = Field(description="成文日期 (a Beijing date)")
    files: list[DocumentFile] = Field(description="The issued files (empty before issue)")


class SpecialReportSummary(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    k: _ISSUED_EXAMPLE[k]
                    for k in ("id", "round_code", "title", "status", "status_label", "author_id")
                }
                | {
                    "updated_at": "2026-04-03T02:00:00Z",
                    "doc_number": "甬组督〔2026〕3号",
                    "issued_at": "2026-04-03T02:00:00Z",
                }
            ]
        }
    )

    id: int = Field(description="The report's id")
    round_code: str = Field(description="The round it reports on")
    title: str = Field(description="标题")
    status: ReportStatus = Field(description="Where it stands in its lifecycle")
    status_label: str = Field(description="The status in Chinese")
    author_id: str = Field(description="Who drafted it")
    updated_at: datetime = Field(description="Its last change")
    doc_number: str | None = Field(description="发文字号, once issued")
    issued_at: datetime | None = Field(description="When it was issued")
