"""The intake of scoring's findings (thin: duplicate deliveries are handled in findings/service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from services.kit import outbox
from services.kit.auth import internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.rectification.deps import PolicyDep
from services.rectification.findings import service
from services.rectification.findings.schemas import FindingAccepted, FindingEnvelope

TAG = "rectification.findings"
router = APIRouter(tags=[TAG])

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="The delivery's key (the event id): a repeated key gets the first answer again",
    ),
]


@router.post(
    "/findings",
    status_code=201,
    response_model=FindingAccepted,
    responses={200: {"model": FindingAccepted, "description": "The event had already made this problem"}},
    **internal(),
)
async def receive_finding(
    envelope: FindingEnvelope,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    idempotency_key: IdempotencyKey,
) -> Response:
    """Turn a scoring finding into a problem (idempotent by event id; the services' own principal only)."""
    receipt = await service.receive_finding(
        session,
        envelope=envelope,
        key=idempotency_key,
        body_hash=outbox.request_hash(await request.body()),
        now=clock.now(),
        policy=policy,
    )
    headers = {"idempotent-replay": "true"} if receipt.replay else None
    return JSONResponse(receipt.body, status_code=receipt.status_code, headers=headers)
