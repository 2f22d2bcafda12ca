"""Sampling's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import service_metadata
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
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    org_unit: str = Field(max_length=400, index=True)
    active: bool = True
