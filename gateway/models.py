"""The gateway's own table: API keys for integration scripts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata


class ApiKey(Base, table=True):
    """An API key; only a SHA-256 of its secret is stored."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=64)
    roles: list[str] = Field(sa_column=Column(JSON, nullable=False))
    scope: str = Field(max_length=400)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
