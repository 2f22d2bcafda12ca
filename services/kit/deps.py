"""Dependency aliases every service shares."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from services.kit.auth import PrincipalDep
from services.kit.clock import Clock
from services.kit.db import SessionDep


def _clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


def _http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http  # type: ignore[no-any-return]


ClockDep = Annotated[Clock, Depends(_clock)]
HttpDep = Annotated[httpx.AsyncClient, Depends(_http)]

__all__ = ["ClockDep", "HttpDep", "PrincipalDep", "SessionDep"]
