"""Evidence's tables: blobs (one per distinct content), the file records pointing at them, unfinished
resumable uploads, and what the scrub found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata


class Blob(Base, table=True):
    """Stored content, addressed by its SHA-256 (what is served: images without their EXIF)."""

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    media_type: str = Field(max_length=100)
    thumbnail_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The scrub's verdict: null never checked, true the bytes still hash to sha256, false they do not.
    intact: bool | None = None


class EvidenceFile(Base, table=True):
    """One upload: who gave it, for what, in which org unit; its content is a blob."""

    __tablename__ = "evidence_file"
    __table_args__ = (
        Index("ix_evidence_file_ref", "purpose", "ref"),
        Index("ix_evidence_file_org_unit", "org_unit"),
    )

    id: str = Field(primary_key=True, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(sa_type=BigInteger)
    media_type: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=255)
    purpose: str = Field(max_length=20)
    ref: str = Field(max_length=200)
    org_unit: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime = Field(sa_type=UtcDateTime)
    captured_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    gps_lat: float | None = None
    gps_lon: float | None = None
    original_sha256: str = Field(max_length=64)


class Upload(Base, table=True):
    """A resumable (tus) upload not yet complete; invisible as a file until its last byte arrives."""

    __tablename__ = "upload"

    id: str = Field(primary_key=True, max_length=32)
    length: int = Field(sa_type=BigInteger)
    offset: int = Field(default=0, sa_type=BigInteger)
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    uploaded_by: str = Field(max_length=100)
    scope: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
    file_id: str | None = Field(default=None, max_length=32)


class ScrubRun(Base, table=True):
    """One pass of the scrub and its mismatches."""

    __tablename__ = "scrub_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=UtcDateTime)
    finished_at: datetime = Field(sa_type=UtcDateTime)
    checked: int
    mismatches: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
