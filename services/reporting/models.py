"""Reporting's tables (its own metadata): the append-only event store and the read model projected
from it. Every projection can be dropped and rebuilt by replaying the store in sequence order.

Later revisions (the documents: 专报, assessments, notices) add their own tables to this metadata.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata
from services.kit.outbox import outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata


class StoredEvent(Base, table=True):
    """One event as it arrived (append-only): the source of truth every projection is rebuilt from.

    `seq` orders the store (replay order); `id` is the event id, unique, so a redelivery is absorbed.
    """

    __tablename__ = "event_store"

    seq: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    id: str = Field(max_length=64, unique=True)
    type: str = Field(max_length=100)
    version: int
    source: str = Field(max_length=100)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    received_at: datetime = Field(sa_type=UtcDateTime)
    round_code: str | None = Field(default=None, max_length=64, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Round(Base, table=True):
    """A round as the newest applied draw describes it, plus its freshness.

    A row also exists for a round known only from sheets, problems or results (no draw yet):
    `revision` is then None and `name` the code.
    """

    __tablename__ = "round"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    year: int | None = None
    quarter: int | None = None
    drawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revision: int | None = None
    """The applied draw's revision (None: no draw received yet)."""
    district_names: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    as_of: datetime | None = Field(default=None, sa_type=UtcDateTime)
    """occurred_at of the newest event applied to this round."""
    last_seq: int = 0
    """seq of the newest event applied to this round (a cached dashboard older than this is stale)."""


class Visit(Base, table=True):
    """A drawn site of a round (replaced whole by every newer draw)."""

    __tablename__ = "visit"

    round_code: str = Field(primary_key=True, max_length=64)
    site_code: str = Field(primary_key=True, max_length=64)
    site_name: str = Field(max_length=200)
    site_type: str | None = Field(default=None, max_length=40)
    org_unit: str = Field(max_length=400)
    district: str = Field(max_length=100)
    team_id: str | None = Field(default=None, max_length=64)
    team_name: str | None = Field(default=None, max_length=200)
    visit_on: date | None = None
    follow_up: bool = False


class Sheet(Base, table=True):
    """A score sheet's newest applied snapshot."""

    __tablename__ = "sheet"
    __table_args__ = (Index("ix_sheet_round", "round_code"),)

    sheet_id: str = Field(primary_key=True, max_length=64)
    round_code: str = Field(max_length=64)
    revision: int
    site_code: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    site_type: str | None = Field(default=None, max_length=40)
    org_unit: str = Field(max_length=400)
    district: str = Field(max_length=100)
    team_id: str | None = Field(default=None, max_length=64)
    team_name: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    score: float | None = None
    grade: str | None = Field(default=None, max_length=10)
    veto_items: list[str] = Field(default_factory=list, sa_type=JSON)
    deductions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    changed_at: datetime = Field(sa_type=UtcDateTime)
    locked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Problem(Base, table=True):
    """A problem's newest applied snapshot (its round may be None: a problem found outside a round)."""

    __tablename__ = "problem"
    __table_args__ = (Index("ix_problem_round", "round_code"),)

    problem_id: int = Field(
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
        sa_column_kwargs={"autoincrement": False},
    )
    revision: int
    round_code: str | None = Field(default=None, max_length=64)
    site_code: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    site_type: str | None = Field(default=None, max_length=40)
    org_unit: str = Field(max_length=400)
    district: str = Field(max_length=100)
    responsible_unit: str = Field(max_length=400)
    responsible_person: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    item_code: str | None = Field(default=None, max_length=64)
    item_title: str | None = Field(default=None, sa_type=Text)
    category: str = Field(max_length=100)
    severity: str = Field(max_length=20)
    level: str = Field(max_length=40)
    title: str = Field(sa_type=Text)
    description: str = Field(sa_type=Text)
    status: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UtcDateTime)
    deadline_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_on_time: bool | None = None
    extensions: int = 0
    merged_into: int | None = Field(default=None, sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    changed_at: datetime = Field(sa_type=UtcDateTime)


class ResultsVersion(Base, table=True):
    """One published results version of a round (every version is kept; the newest is shown)."""

    __tablename__ = "results_version"

    round_code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    published_at: datetime = Field(sa_type=UtcDateTime)
    content_sha256: str = Field(max_length=64)
    complete: bool
    districts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)


# --- the documents (专报, assessment weights) and reporting's own outbox -------------------------


class SpecialReport(Base, table=True):
    """A 专报: editable sections until issued; once issued its two files and their SHA-256 are kept
    and never change (the row is then immutable: every write checks the status first)."""

    __tablename__ = "special_report"
    __table_args__ = (
        Index("ix_special_report_round", "round_code"),
        UniqueConstraint("issuer", "doc_year", "doc_seq", name="uq_special_report_doc_number"),
    )

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    round_code: str = Field(max_length=64)
    title: str = Field(max_length=300)
    status: str = Field(max_length=20)
    """draft | in_review | returned | approved | issued"""
    version: int = 1
    """Bumped by every change: the ETag a PATCH must name."""
    sections: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    tables: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    """Tables composed at drafting (the data as it stood then), each placed after its section."""
    charts: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    author_id: str = Field(max_length=100)
    author_name: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    data_as_of: datetime | None = Field(default=None, sa_type=UtcDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reviewer_id: str | None = Field(default=None, max_length=100)
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    review_comment: str | None = Field(default=None, sa_type=Text)
    issuer: str | None = Field(default=None, max_length=20)
    doc_year: int | None = None
    doc_seq: int | None = None
    doc_number: str | None = Field(default=None, max_length=60)
    issued_by: str | None = Field(default=None, max_length=100)
    issued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    issued_on: date | None = None
    docx: bytes | None = Field(default=None, sa_type=LargeBinary)
    pdf: bytes | None = Field(default=None, sa_type=LargeBinary)
    docx_sha256: str | None = Field(default=None, max_length=64)
    pdf_sha256: str | None = Field(default=None, max_length=64)


class AssessmentWeights(Base, table=True):
    """A year's weights for the annual assessment (none: the defaults apply)."""

    __tablename__ = "assessment_weights"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    composite_weight: float
    rectification_weight: float
    on_time_weight: float
    overdue_deduction: float
    veto_deduction: float
    set_by: str = Field(max_length=100)
    set_at: datetime = Field(sa_type=UtcDateTime)


# Events reporting sends (the issued 专报, to notify).
outbox_event = outbox_table(metadata)
