"""Routes of intake: events from the services' outboxes, and notification requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response

from services.kit.auth import PrincipalDep, allow, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import field_error
from services.kit.openapi import errors
from services.notify.deps import SettingsDep
from services.notify.errors import IdempotencyKeyRequired
from services.notify.intake import service
from services.notify.intake.schemas import (
    EventBatch,
    EventBatchResults,
    EventEnvelope,
    NotificationAccepted,
    NotificationCreate,
)
from services.notify.scope import ADMIN

TAG = "notify.intake"
router = APIRouter(tags=[TAG])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Unique per request; the event id for events."
    ),
]


def _json(status: int, answer: Any) -> Response:
    return Response(orjson.dumps(answer), status_code=status, media_type="application/json")


def _require_key(key: str | None) -> str:
    if not key:
        raise IdempotencyKeyRequired(
            "Send an Idempotency-Key header (the event id for events)",
            zh="请发送 Idempotency-Key 请求头（事件以事件编号作为幂等键）",
            errors=[field_error(["header", "Idempotency-Key"], "required", zh="必填")],
        )
    return key


async def _body(request: Request, limit: int, what: str = "body") -> bytes:
    body = await request.body()
    service.require_size(len(body), limit, what)
    return body


def _sender(principal: PrincipalDep, clock: ClockDep, settings: SettingsDep) -> service.Sender:
    """Who sends, when, under which settings."""
    return service.Sender(principal=principal, now=clock.now(), settings=settings)


SenderDep = Annotated[service.Sender, Depends(_sender)]


@dataclass(frozen=True)
class KeyedBody:
    """The Idempotency-Key and the raw body it covers."""

    key: str
    body: bytes


async def _keyed_body(
    request: Request, sender: SenderDep, idempotency_key: IdempotencyKey = None
) -> KeyedBody:
    """422 without an Idempotency-Key, 413 for a body over the limit."""
    key = _require_key(idempotency_key)
    return KeyedBody(key, await _body(request, sender.settings.max_payload_bytes))


KeyedBodyDep = Annotated[KeyedBody, Depends(_keyed_body)]


@router.post(
    "/events", status_code=202, response_model=NotificationAccepted, responses=errors(409, 413), **internal()
)
async def receive_event(
    envelope: EventEnvelope,
    request: Request,
    session: SessionDep,
    sender: SenderDep,
    sent: KeyedBodyDep,
) -> Response:
    """Accept a domain event from another service's outbox (once per Idempotency-Key; services only)."""
    status, answer = await service.accept_event(session, sender, key=sent.key, raw=sent.body)
    request.app.state.delivery_wake.set()
    return _json(status, answer)


@router.post("/events/batch", response_model=EventBatchResults, responses=errors(413), **internal())
async def receive_event_batch(
    batch: EventBatch,
    request: Request,
    session: SessionDep,
    sender: SenderDep,
) -> Response:
    """Accept up to 500 events at once; each is accepted or refused on its own, keyed by its id (services only)."""
    await _body(request, sender.settings.max_payload_bytes * 100, "batch")
    results = await service.accept_batch(session, sender, batch.events)
    request.app.state.delivery_wake.set()
    return _json(200, {"results": [{"id": i, "status": s, "body": b} for i, s, b in results]})


@router.post(
    "/notifications",
    status_code=202,
    response_model=NotificationAccepted,
    responses=errors(409, 413),
    **allow(*ADMIN),
)
async def create_notification(
    notification_in: NotificationCreate,
    request: Request,
    session: SessionDep,
    sender: SenderDep,
    sent: KeyedBodyDep,
) -> Response:
    """Send a notification to people, roles or org units inside your scope (once per Idempotency-Key)."""
    status, answer = await service.accept_request(
        session, sender, notification_in, key=sent.key, body=sent.body
    )
    request.app.state.delivery_wake.set()
    return _json(status, answer)
