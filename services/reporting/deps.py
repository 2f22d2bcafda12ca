"""Service-wide dependencies: the settings, and the per-process cache of computed dashboards."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request

from services.reporting.config import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


RoundCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The round's code, e.g. 2026Q1",
        examples=["2026Q1"],
    ),
]


@dataclass
class CachedDashboard:
    token: tuple[object, ...]
    """What it was computed from: the round's and the previous round's newest event seq."""
    computed_at: datetime
    body: bytes
    """The dashboard as JSON."""


class DashboardCache:
    """Computed dashboards per (round, district scope), in this process.

    Every request compares the entry's token with the round's newest event seq (one indexed read), so
    an event shows on the next request, on every replica; a dashboard older than the maximum age is
    recomputed anyway (lights and overdue counts move with the clock). One computation per key at a
    time: concurrent requests for a stale dashboard wait for the one being computed.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str | None], CachedDashboard] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}

    def get(self, key: tuple[str, str | None]) -> CachedDashboard | None:
        return self._entries.get(key)

    def put(self, key: tuple[str, str | None], entry: CachedDashboard) -> None:
        self._entries[key] = entry

    def lock(self, key: tuple[str, str | None]) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        self._entries.clear()


def _dashboards(request: Request) -> DashboardCache:
    cache: DashboardCache = request.app.state.dashboards
    return cache


DashboardCacheDep = Annotated[DashboardCache, Depends(_dashboards)]
