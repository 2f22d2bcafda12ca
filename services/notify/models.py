"""Notify's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from services.kit.db import service_metadata
from services.kit.outbox import idempotency_table, outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata
outbox_event = outbox_table(metadata)
idempotency_key = idempotency_table(metadata)
