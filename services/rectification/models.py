"""Rectification's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata
from services.kit.outbox import idempotency_table, outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata
outbox_event = outbox_table(metadata)
idempotency_key = idempotency_table(metadata)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint for the timer table.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Problem(Base, table=True):
    """One problem to rectify (问题), with its responsible person and countdown."""

    # One problem per finding of a sheet, whatever event delivers it (NULLs, a problem entered by
    # hand, never collide).
    __table_args__ = (UniqueConstraint("sheet_id", "finding_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_event_id: str | None = Field(default=None, max_length=64, unique=True)
    round_code: str | None = Field(default=None, max_length=40, index=True)
    sheet_id: str | None = Field(default=None, max_length=64)
    finding_id: str | None = Field(default=None, max_length=64)
    item_code: str | None = Field(default=None, max_length=20)
    item_title: str | None = Field(default=None, max_length=200)
    site_code: str = Field(max_length=64, index=True)
    site_name: str = Field(max_length=200)
    site_type: str | None = Field(default=None, max_length=20)
    org_unit: str = Field(max_length=400, index=True)
    district: str = Field(max_length=40, index=True)
    level: str = Field(max_length=20)
    category: str = Field(max_length=100, index=True)
    severity: str = Field(max_length=10, index=True)
    description: str = Field(sa_type=Text)
    concerns: str | None = Field(default=None, max_length=400)
    deduction_points: float | None = None
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    issued_by: str = Field(max_length=100)
    issuing_unit: str = Field(max_length=400)
    responsible_unit: str = Field(max_length=400)
    responsible_person_id: str | None = Field(default=None, max_length=100, index=True)
    responsible_person_name: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=20, index=True)
    # Bumped on every change a reminder depends on; a timer scheduled under an older version is stale.
    state_version: int = 1
    # Bumped on every change of the problem (and when it becomes overdue), in SQL so it only grows: the
    # revision of its `rectification.problem.changed` snapshot (reporting keeps the highest).
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_type=UtcDateTime)
    deadline_at: datetime = Field(sa_type=UtcDateTime, index=True)
    # The moment the light counts down to: the deadline, or the verification due while submitted;
    # NULL once closed. Kept as a column so lists can filter by light in SQL.
    light_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    provisional: bool = False
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_on_time: bool | None = None
    extension_count: int = 0
    template: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Withdrawn (撤销): a duplicate or mistaken problem, by the issuing side's admin.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawn_by: str | None = Field(default=None, max_length=100)
    withdraw_reason: str | None = Field(default=None, sa_type=Text)
    # Merged (合并) into another problem of the same site and round, which carries on.
    merged_into_id: int | None = Field(default=None, foreign_key="problem.id", index=True)
    merged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    merged_by: str | None = Field(default=None, max_length=100)
    merge_reason: str | None = Field(default=None, sa_type=Text)


class Milestone(Base, table=True):
    """One milestone of a problem's countdown schedule (倒排时间表节点)."""

    __table_args__ = (UniqueConstraint("problem_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    kind: str = Field(max_length=20)
    position: int
    due_at: datetime = Field(sa_type=UtcDateTime)
    original_due_at: datetime = Field(sa_type=UtcDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # How the date was computed, so a provisional one can be recomputed when holidays are entered.
    base_on: str | None = Field(default=None, max_length=10)
    days: int | None = None
    working: bool = False
    provisional: bool = False


class ProblemHistory(Base, table=True):
    """Every transition and change of a problem, with who did it."""

    __tablename__ = "problem_history"

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ExtensionRequest(Base, table=True):
    """A request to move a problem's deadline (延期申请)."""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    requested_by: str = Field(max_length=100)
    reason: str = Field(sa_type=Text)
    requested_deadline_at: datetime = Field(sa_type=UtcDateTime)
    previous_deadline_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision_note: str | None = Field(default=None, sa_type=Text)


class ScheduleTemplate(Base, table=True):
    """A city admin's countdown template for one severity (overrides the built-in default)."""

    __tablename__ = "schedule_template"

    severity: str = Field(primary_key=True, max_length=10)
    plan_days: int
    plan_working: bool
    midterm_percent: int
    completion_days: int
    completion_working: bool
    verification_days: int
    verification_working: bool
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CalendarYear(Base, table=True):
    """Official holidays and adjusted working days (调休) of a year, entered by a city admin."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holidays: list[str] = Field(default_factory=list, sa_type=JSON)
    workdays: list[str] = Field(default_factory=list, sa_type=JSON)
    entered_by: str = Field(max_length=100)
    entered_at: datetime = Field(sa_type=UtcDateTime)


class Timer(Base, table=True):
    """A durable timer: a reminder, the due moment or an escalation, firing once at `fire_at`."""

    __table_args__ = (
        # The scheduler's tick reads only pending rows that are due: this partial index holds only
        # pending timers, so future timers cost nothing but their index entries.
        Index(
            "ix_timer_pending_fire_at",
            "fire_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    problem_id: int = Field(foreign_key="problem.id", index=True)
    kind: str = Field(max_length=20)
    milestone: str = Field(max_length=20)
    offset_days: int = 0
    sequence: int = 0
    fire_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(max_length=12)
    state_version: int
    recipient_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    fired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    event_id: str | None = Field(default=None, max_length=36)


class CalendarToken(Base, table=True):
    """The hashed secret in a person's iCalendar feed URL."""

    __tablename__ = "calendar_token"

    user_id: str = Field(primary_key=True, max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    # The scope of the principal who issued the token: the feed shows nothing outside it.
    scope: str = Field(default="", max_length=400, sa_column_kwargs={"server_default": ""})


# Core tables, for the bulk statements of the scheduler and the repository.
problem_table: Table = Problem.__table__  # type: ignore[attr-defined]
milestone_table: Table = Milestone.__table__  # type: ignore[attr-defined]
timer_table: Table = Timer.__table__  # type: ignore[attr-defined]
