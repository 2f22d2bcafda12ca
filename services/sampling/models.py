"""Sampling's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata
from services.kit.outbox import idempotency_table, outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata
outbox_event = outbox_table(metadata)
idempotency_key = idempotency_table(metadata)


class Site(Base, table=True):
    """One inspectable unit of the directory (名录库)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    type: str = Field(max_length=20, index=True)
    # Within the type (hospital, school, …): a round's quota can name one (see SiteSubtype).
    subtype: str | None = Field(default=None, max_length=40, index=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    # Codes never change (they are the upsert key), so the parent's code is kept beside its id.
    parent_code: str | None = Field(default=None, max_length=64)
    district: str = Field(default="", max_length=40, index=True)
    # The town/street a site belongs to (itself for a town), for plans stratified by town.
    town_code: str | None = Field(default=None, max_length=64, index=True)
    org_unit: str = Field(max_length=400, index=True)
    active: bool = True
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Inspector(Base, table=True):
    """One person of the inspector pool (人员库)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    home_district: str = Field(max_length=40, index=True)
    can_lead: bool = False
    active: bool = True
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Round(Base, table=True):
    """One quarter's inspection round (督查批次) and the state of its draw."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    title: str = Field(max_length=200)
    status: str = Field(max_length=20, index=True)
    districts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    follow_ups: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visit_start_on: date = Field(sa_column=Column(Date, nullable=False))
    visit_days_per_district: int = 2
    # At most this many sites per team on one visit day (services/sampling/schedule.py).
    max_visits_per_day: int = Field(default=6, sa_column_kwargs={"server_default": "6"})
    team_count: int = 5
    team_size: int = 6
    commitment: str | None = Field(default=None, max_length=64)
    commitment_mode: str | None = Field(default=None, max_length=10)
    # Held back until the reveal; the record shows it only once `revealed_at` is set.
    secret: str | None = Field(default=None, max_length=200)
    revealed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    frame_hash: str | None = Field(default=None, max_length=64)
    frozen_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    current_draw_id: int | None = None
    # Grows (in SQL, so it only ever grows) with every change of the sample, its teams or visit days:
    # the revision of the round's `sampling.round.drawn` snapshot (reporting keeps the highest).
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RoundFrame(Base, table=True):
    """The frozen sampling frame of a round: sorted eligible codes per stratum and their hashes."""

    __tablename__ = "round_frame"

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    frame: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Draw(Base, table=True):
    """One draw of a round; never updated (a redraw is a new row with a reason)."""

    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    number: int
    algorithm: str = Field(max_length=40)
    public_value: str = Field(max_length=200)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    record_sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Team(Base, table=True):
    """An inspection team (督查组) drawn in one draw."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    draw_id: int = Field(foreign_key="draw.id", index=True)
    number: int
    name: str = Field(max_length=100)
    leader_user_id: str = Field(max_length=64)
    member_user_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    districts: list[str] = Field(sa_column=Column(JSON, nullable=False))


class Assignment(Base, table=True):
    """A site drawn (or included for follow-up) in one draw, with its team and visit window."""

    __table_args__ = (
        UniqueConstraint("draw_id", "site_code"),
        Index("ix_assignment_round_site", "round_id", "site_code"),
        Index("ix_assignment_team_visit_on", "team_id", "visit_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id")
    draw_id: int = Field(foreign_key="draw.id", index=True)
    site_code: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    site_type: str = Field(max_length=20)
    org_unit: str = Field(max_length=400)
    district: str = Field(max_length=40)
    stratum: str | None = Field(default=None, max_length=200)
    follow_up: bool = False
    team_id: int = Field(foreign_key="team.id", index=True)
    visit_from: date = Field(sa_column=Column(Date, nullable=False))
    visit_to: date = Field(sa_column=Column(Date, nullable=False))
    # The working day the team visits the site, inside [visit_from, visit_to].
    visit_on: date = Field(sa_column=Column(Date, nullable=False))
    changed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    change_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
