from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import Depends, Path, Request

from services.kit.db import SessionDep
from services.notify import repository
from services.notify.config import Settings
from services.notify.errors import PersonNotFound, SubscriptionNotFound
from services.notify.models import Person, WebhookSubscription


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]


async def valid_person_id(session: SessionDep, user_id: Annotated[str, Path(max_length=100)]) -> Person:
    person = await repository.get_person(session, user_id)
    if person is None:
        raise PersonNotFound(f"No person {user_id!r} in the directory", user_id=user_id)
    return person


async def valid_subscription_id(
    session: SessionDep, subscription_id: Annotated[int, Path(ge=1)]
) -> WebhookSubscription:
    sub = await session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise SubscriptionNotFound(
            f"No webhook subscription {subscription_id}", subscription_id=subscription_id
        )
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
