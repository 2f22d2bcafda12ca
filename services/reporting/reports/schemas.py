"""The 专报's API shapes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.kit.schema import OutputModel

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


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


class Section(BaseModel):
    """One section of the body: its heading (with its number, 「一、基本情况」) and its paragraphs."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", description="Stable key, e.g. overview"
    )
    heading: str = Field(min_length=1, max_length=100, description="「一、基本情况」")
    paragraphs: list[Text] = Field(max_length=50, description="Body paragraphs, in order")


class SpecialReportDraft(BaseModel):
    """Draft a 专报 from the round's data (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(
        default=None, min_length=1, max_length=300, description="Replaces the default title"
    )


class SpecialReportUpdate(BaseModel):
    """Edit a draft (or a returned report): its title and/or its sections, whole."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    sections: list[Section] | None = Field(default=None, min_length=1, max_length=20)


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class ReviewIn(BaseModel):
    """The reviewer's decision (a city admin other than the author)."""

    model_config = ConfigDict(extra="forbid")

    decision: ReviewDecision
    comment: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Required when returning: what to change"
    )


class IssueIn(BaseModel):
    """Issue the approved report under a 发文字号."""

    model_config = ConfigDict(extra="forbid")

    doc_number: str = Field(
        min_length=1,
        max_length=60,
        description="发文字号, e.g. 甬组督〔2026〕3号",
        examples=["甬组督〔2026〕3号"],
    )


class DocumentFile(OutputModel):
    format: str = Field(description="docx | pdf")
    sha256: str = Field(description="SHA-256 of the stored file (its ETag)")
    size: int = Field(description="Bytes")
    url: str = Field(description="Where to download it (reporting's own path)")


class SpecialReportRead(OutputModel):
    id: int
    round_code: str
    title: str
    status: ReportStatus
    status_label: str = Field(description="The status in Chinese")
    version: int = Field(description="Bumped by every change (the ETag names it)")
    sections: list[Section]
    author_id: str
    created_at: datetime
    updated_at: datetime
    data_as_of: datetime | None = Field(description="How fresh the data it was drafted from was")
    submitted_at: datetime | None
    reviewer_id: str | None
    reviewed_at: datetime | None
    review_comment: str | None
    doc_number: str | None
    issued_by: str | None
    issued_at: datetime | None
    issued_on: date | None
    files: list[DocumentFile] = Field(description="The issued files (empty before issue)")


class SpecialReportSummary(OutputModel):
    id: int
    round_code: str
    title: str
    status: ReportStatus
    status_label: str
    author_id: str
    updated_at: datetime
    doc_number: str | None
    issued_at: datetime | None


class SpecialReportList(OutputModel):
    items: list[SpecialReportSummary]
    total: int
