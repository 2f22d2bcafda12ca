"""Service-wide dependencies and the per-process state of notify's live streams."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import Depends, Request

from services.notify.config import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


class Broadcast:
    """Wake every waiter at once (new inbox messages in this process); waiters also poll, for other replicas."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class StreamSlots:
    """Open Server-Sent Events streams per principal in this process, capped.

    Every open stream polls the database; one caller holding hundreds of them starves everyone else.
    """

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def open_count(self, key: str) -> int:
        return self._open.get(key, 0)

    def acquire(self, key: str, limit: int) -> bool:
        """Take a slot for `key`, or return False when it already holds `limit`."""
        if self._open.get(key, 0) >= limit:
            return False
        self._open[key] = self._open.get(key, 0) + 1
        return True

    def release(self, key: str) -> None:
        n = self._open.get(key, 0) - 1
        if n > 0:
            self._open[key] = n
        else:
            self._open.pop(key, None)
