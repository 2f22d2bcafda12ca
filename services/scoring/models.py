"""Scoring's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, false
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata
from services.kit.outbox import idempotency_table, outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata
outbox_event = outbox_table(metadata)
idempotency_key = idempotency_table(metadata)


class Rubric(Base, table=True):
    """One version of the rubric (测评体系). Drafts are editable; a published version is frozen."""

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    status: str = Field(max_length=12)  # draft | published
    is_default: bool = False
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    definition_sha256: str | None = Field(default=None, max_length=64)
    based_on_id: int | None = Field(default=None, foreign_key="rubric.id")
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    published_by: str | None = Field(default=None, max_length=100)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RoundRubric(Base, table=True):
    """Which rubric version a round is scored on; kept for the life of the round."""

    __tablename__ = "round_rubric"

    round_code: str = Field(max_length=40, primary_key=True)
    rubric_id: int = Field(foreign_key="rubric.id")
    bound_by: str = Field(max_length=100)
    bound_at: datetime = Field(sa_type=UtcDateTime)


class ScoreSheet(Base, table=True):
    """One site's scores in one round (评分表), with the site and team as sampling reported them."""

    __tablename__ = "score_sheet"
    __table_args__ = (
        UniqueConstraint("round_code", "site_code"),
        Index("ix_score_sheet_round_status", "round_code", "status"),
        Index("ix_score_sheet_round_district", "round_code", "district"),
    )

    id: str = Field(primary_key=True, max_length=36)
    round_code: str = Field(max_length=40)
    rubric_id: int = Field(foreign_key="rubric.id")
    site_code: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    site_type: str = Field(max_length=20)
    org_unit: str = Field(max_length=400)
    district: str = Field(max_length=40)
    team_id: str = Field(max_length=64)
    team_name: str = Field(default="", max_length=200)
    team_leader_user_id: str = Field(max_length=100)
    team_member_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=12)  # draft | submitted | reviewed | returned | locked
    version: int = 1
    poll: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notes: str = ""
    score: float | None = None
    grade: str | None = Field(default=None, max_length=10)
    veto_items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    section_scores: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    return_reason: str | None = None
    content_sha256: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    submitted_by: str | None = Field(default=None, max_length=100)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reviewed_by: str | None = Field(default=None, max_length=100)
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    locked_by: str | None = Field(default=None, max_length=100)
    locked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ItemScore(Base, table=True):
    """The score of one applicable rubric item on one sheet; `points` is None until it is scored."""

    __tablename__ = "item_score"
    __table_args__ = (UniqueConstraint("sheet_id", "item_code"),)

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: str = Field(foreign_key="score_sheet.id", max_length=36)
    item_code: str = Field(max_length=20, index=True)
    section_code: str = Field(max_length=20)
    max_points: float
    points: float | None = None
    deduction_count: int = 0
    finding_count: int = 0
    # 不适用 at this site (also in `detail`, with the reason): a column so statistics can leave it out.
    not_applicable: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # deductions (with their findings), grade, rate, met, veto_triggered, notes, methods, evidence
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str | None = Field(default=None, max_length=100)
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SheetHistory(Base, table=True):
    """Append-only record of every change to a sheet: who, when, what."""

    __tablename__ = "sheet_history"

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: str = Field(foreign_key="score_sheet.id", max_length=36, index=True)
    version: int
    action: str = Field(max_length=20)
    actor: str = Field(max_length=100)
    at: datetime = Field(sa_type=UtcDateTime)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SheetFinding(Base, table=True):
    """A finding already handed to rectification; its presence is what makes the hand-over happen once."""

    __tablename__ = "sheet_finding"

    sheet_id: str = Field(foreign_key="score_sheet.id", max_length=36, primary_key=True)
    finding_id: str = Field(max_length=36, primary_key=True)
    item_code: str = Field(max_length=20)
    event_id: str = Field(max_length=36, unique=True)
    enqueued_at: datetime = Field(sa_type=UtcDateTime)


class ResultsPublication(Base, table=True):
    """Legacy: a publication before versions existed (a snapshot nothing read). Nothing writes it any more;
    kept so those rows are not lost. Publications are `ResultsVersion` versions now."""

    __tablename__ = "results_publication"

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=40, index=True)
    published_by: str = Field(max_length=100)
    published_at: datetime = Field(sa_type=UtcDateTime)
    locked_sheets: int
    ranking: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ResultsVersion(Base, table=True):
    """One published version of a round's results (1, 2, …): immutable, its canonical content and SHA-256.

    Rows are only ever inserted; `content` holds exactly the bytes `content_sha256` hashes (text, not a
    JSON column, so no database reorders or reformats it).
    """

    __tablename__ = "published_results"
    __table_args__ = (UniqueConstraint("round_code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=40, index=True)
    version: int
    content: str = Field(sa_column=Column(Text, nullable=False))
    content_sha256: str = Field(max_length=64)
    complete: bool
    expected_sheets: int
    locked_sheets: int
    override_reason: str | None = Field(default=None, max_length=2000)
    published_by: str = Field(max_length=100)
    published_at: datetime = Field(sa_type=UtcDateTime)
