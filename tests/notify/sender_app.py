"""A tiny service used only by tests and the benchmark: "another service" that sends bursts of
events to notify through its own transactional outbox, over real HTTP.

    SENDER_DATABASE_URL=... SENDER_PORT=... NOTIFY_URL=... python -m tests.notify.sender_app
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy import func, select

from services.kit import events, outbox
from services.kit.app import create_app
from services.kit.auth import allow
from services.kit.db import SessionDep, service_metadata
from services.kit.deps import ClockDep
from services.kit.serve import serve_service
from services.kit.settings import ServiceSettings, peer_url

metadata = service_metadata()
outbox_event = outbox.outbox_table(metadata)
idempotency_key = outbox.idempotency_table(metadata)


class SenderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SENDER_", extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "sender"
    port: int = 8099
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    relay_backoff_cap: float = 1.0
    relay_batch_size: int = 100
    relay_concurrency: int = 32
    relay_batch: bool = True  # use notify's /events/batch


class Burst(BaseModel):
    count: int
    prefix: str = "ev"
    per_transaction: int = 100
    event_type: str = "rectification.problem.created"


router = APIRouter()


@router.post("/burst", **allow("system", "city_admin"))
async def send_burst(burst: Burst, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    """Write `count` events to the outbox (one transaction; the relay sends them)."""
    ids = []
    for i in range(burst.count):
        ids.append(
            await outbox.enqueue(
                session,
                outbox_event,
                event_type=burst.event_type,
                target="notify",
                path="/events",
                payload={
                    **events.schema(burst.event_type).examples[0],
                    "recipients": [],
                    "priority": "normal",
                    "title": f"问题 {burst.prefix}-{i}",
                    "org_unit": "ningbo/yinzhou",
                    "district": "yinzhou",
                },
                now=clock.now(),
                event_id=f"{burst.prefix}-{i:06d}",
            )
        )
    return {"ids": ids}


@router.get("/_outbox", **allow("system", "city_admin"))
async def outbox_status(session: SessionDep) -> dict[str, int]:
    """Count outbox rows per status."""
    rows = await session.execute(select(outbox_event.c.status, func.count()).group_by(outbox_event.c.status))
    return {r[0]: int(r[1]) for r in rows.all()}


def build_app(settings: SenderSettings) -> FastAPI:
    return create_app(
        settings=settings,
        title="sender",
        description="test sender",
        version="0",
        routers=[router],
        migrations_dir=Path(__file__).parent / "sender_migrations",
        workers=[
            outbox.relay_worker(
                lambda app: outbox.RelayConfig(
                    table=outbox_event,
                    targets={"notify": settings.notify_url},
                    source="sender",
                    batch_size=settings.relay_batch_size,
                    poll_seconds=0.05,
                    max_attempts=10_000,
                    lease_seconds=5,
                    backoff_base=0.05,
                    backoff_cap=settings.relay_backoff_cap,
                    concurrency=settings.relay_concurrency,
                    batch_paths={("notify", "/events"): "/events/batch"} if settings.relay_batch else {},
                )
            )
        ],
    )


if __name__ == "__main__":
    s = SenderSettings()
    serve_service(build_app(s), s)
