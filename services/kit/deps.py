"""Dependency aliases every service shares: ``SessionDep``, ``PrincipalDep``, ``ClockDep``, ``HttpDep``,
``SettingsDep``.

A service whose endpoints need its own settings class (with its own fields) declares, in its
``deps.py``, ``SettingsDep = Annotated[Settings, Depends(app_settings)]``: the same object, typed as
that service's subclass.
"""

from __future__ import annotations

from typing import Annotated, cast

import httpx
from fastapi import Depends, Request

from services.kit.auth import PrincipalDep
from services.kit.clock import Clock
from services.kit.db import SessionDep
from services.kit.settings import ServiceSettings


def _clock(request: Request) -> Clock:
    return cast(Clock, request.app.state.clock)


def _http(request: Request) -> httpx.AsyncClient:
    return cast(httpx.AsyncClient, request.app.state.http)


def app_settings(request: Request) -> ServiceSettings:
    """The settings the app was built with (``create_app(settings=...)``), never a fresh read of the env."""
    return cast(ServiceSettings, request.app.state.settings)


ClockDep = Annotated[Clock, Depends(_clock)]
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]
SettingsDep = Annotated[ServiceSettings, Depends(app_settings)]

__all__ = ["ClockDep", "HttpDep", "PrincipalDep", "SessionDep", "SettingsDep", "app_settings"]
