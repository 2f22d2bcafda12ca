"""The intake's idempotency records (the kit's idempotency table): one stored answer per delivery key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.rectification.models import idempotency_key


async def stored_answer(session: AsyncSession, *, key: str, body_hash: str) -> tuple[int, Any] | None:
    """The answer given to an earlier delivery with `key`, or None; 409 if `key` came with another body."""
    return await outbox.idempotent_replay(session, idempotency_key, key=key, body_hash=body_hash)


async def store_answer(
    session: AsyncSession,
    *,
    key: str,
    body_hash: str,
    status_code: int,
    answer: dict[str, Any],
    now: datetime,
) -> None:
    """Remember the answer to the delivery with `key` (a twin delivery's insert fails on the key)."""
    await outbox.remember_response(
        session,
        idempotency_key,
        key=key,
        body_hash=body_hash,
        status_code=status_code,
        response=answer,
        now=now,
    )
