"""Routes of intake: fact events from the other services' outboxes (services only)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response

from services.kit.auth import PrincipalDep, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.reporting.deps import SettingsDep
from services.reporting.intake import service
from services.reporting.intake.schemas import EventAccepted, EventBatch, EventBatchResults, EventEnvelope

TAG = "reporting.intake"
router = APIRouter(tags=[TAG])


def _json(status: int, answer: Any) -> Response:
    return Response(orjson.dumps(answer), status_code=status, media_type="application/json")


def _sender(principal: PrincipalDep, clock: ClockDep, settings: SettingsDep) -> service.Sender:
    return service.Sender(principal=principal, now=clock.now(), max_payload_bytes=settings.max_payload_bytes)


SenderDep = Annotated[service.Sender, Depends(_sender)]


@router.post("/events", status_code=202, response_model=EventAccepted, responses=errors(413), **internal())
async def receive_event(
    envelope: EventEnvelope,
    request: Request,
    session: SessionDep,
    sender: SenderDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, description="The event id.")
    ] = None,
) -> Response:
    """Take in one fact event (a redelivery of an id already stored is absorbed; services only)."""
    body = await request.body()
    service.require_size(len(body), sender.max_payload_bytes, "body")
    return _json(202, await service.accept_event(session, sender, body))


@router.post("/events/batch", response_model=EventBatchResults, responses=errors(413), **internal())
async def receive_event_batch(
    batch: EventBatch, request: Request, session: SessionDep, sender: SenderDep, settings: SettingsDep
) -> Response:
    """Take in up to 500 events at once; each is accepted or refused on its own (services only)."""
    service.require_size(len(await request.body()), settings.max_batch_bytes, "batch")
    results = await service.accept_batch(session, sender, batch.events)
    return _json(200, {"results": [{"id": i, "status": s, "body": b} for i, s, b in results]})
