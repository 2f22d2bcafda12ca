"""Service-wide dependencies: the settings, and the per-process cache of computed dashboards."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.reporting.config import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
