from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import Depends, Path, Request

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.kit.params import IdPath
from services.notify import access, repository
from services.notify.config import Settings
from services.notify.models import Person, WebhookSubscription
from services.notify.schemas import USER_ID_PATTERN


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]


UserIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=USER_ID_PATTERN)]


async def valid_person_id(session: SessionDep, principal: PrincipalDep, user_id: UserIdPath) -> Person:
    """The person, if the caller may see them (themself, or inside its scope); else 404 as if missing."""
    person = await repository.get_person(session, user_id)
    if person is None or not access.can_see_person(principal, person):
        raise access.person_not_found(user_id)
    return person


async def valid_subscription_id(
    session: SessionDep, principal: PrincipalDep, subscription_id: IdPath
) -> WebhookSubscription:
    """The subscription, if its scope lies inside the caller's; else 404 as if missing."""
    sub = await session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise access.subscription_not_found(subscription_id)
    access.require_subscription_visible(principal, sub)
    return sub


ValidPerson = Annotated[Person, Depends(valid_person_id)]
ValidSubscription = Annotated[WebhookSubscription, Depends(valid_subscription_id)]


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
