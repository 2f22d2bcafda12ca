"""Service-wide dependencies: the settings and the blob storage."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from services.evidence.config import Settings
from services.evidence.storage import Storage


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _storage(request: Request) -> Storage:
    return cast(Storage, request.app.state.storage)


SettingsDep = Annotated[Settings, Depends(_settings)]
StorageDep = Annotated[Storage, Depends(_storage)]


def public_prefix(request: Request) -> str:
    """Where clients reach this service (the gateway's /api/v1/evidence, or nothing when called directly)."""
    return request.headers.get("x-forwarded-prefix", "").rstrip("/")
