"""Transactional outbox and receiver-side idempotency, for every service.

A service writes an event row with :func:`enqueue` in the same transaction as its change. The
:func:`relay_worker` loop claims due rows under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so replicas never take the same row), POSTs each to its target with ``Idempotency-Key: <event id>``,
and marks it sent, or schedules a retry with exponential backoff and full jitter, or, past
``max_attempts`` or on a permanent refusal, dead-letters it: the row is marked failed, an error
line names the service, event type, event id and the receiver's problem detail, and
``outbox_dead_letters_total{service,event_type}`` counts it on /metrics. A crash
between delivery and marking only means a redelivery, which receivers absorb with
:func:`idempotent_replay` / :func:`remember_response`. Outcomes are written with a compare-and-set
on the attempt number, so a relay whose lease ran out never overwrites a newer outcome.

Every payload is checked against its event type's JSON Schema in the kit's catalogue
(:mod:`services.kit.events`) when it is enqueued: an unknown type or a payload that breaks its
schema raises :class:`~services.kit.events.EventContractError` in the producer (a bug, loud in its
tests), and nothing is written. The envelope names the schema ``version``.

Optional: :func:`enqueue_many` writes several events in one statement; ``RelayConfig.batch_paths``
sends events for a target in batches (see docs/events.md),
and :func:`outbox_admin_router` gives any service the dead-letter list a city-wide city admin
reads and re-drives.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, cast

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from prometheus_client import Counter
from pydantic import ConfigDict, Field, JsonValue
from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import events
from services.kit.auth import PrincipalDep, allow
from services.kit.clock import Clock
from services.kit.db import SessionDep, UtcDateTime
from services.kit.deps import ClockDep
from services.kit.errors import PROBLEM_BASE, Conflict, Forbidden, NotFound
from services.kit.logs import get_logger
from services.kit.pagination import Page, PageDep
from services.kit.schema import OutputModel

log = get_logger("kit.outbox")


class OutboxStatus(StrEnum):
    """Where an outbox event stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


PENDING, SENT, FAILED = OutboxStatus.PENDING.value, OutboxStatus.SENT.value, OutboxStatus.FAILED.value
# A failed row is a dead letter: refused for good or out of attempts, waiting for the city admin.
DEAD_LETTERS = Counter(
    "outbox_dead_letters_total",
    "Outbox events given up on (refused for good by the receiver, or out of attempts)",
    ["service", "event_type"],
)
REDRIVEN = Counter(
    "outbox_redriven_total", "Dead-lettered outbox events put back in the queue by an admin", ["service"]
)
LEASE = timedelta(seconds=60)


def outbox_table(metadata: MetaData) -> Table:
    """The ``outbox_event`` table, defined on a service's own metadata."""
    return Table(
        "outbox_event",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("target", String(40), nullable=False),
        Column("path", String(200), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("status", String(12), nullable=False, default=PENDING),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UtcDateTime(), nullable=False),
        Column("leased_until", UtcDateTime(), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
        Index("ix_outbox_event_due", "status", "next_attempt_at"),
    )


def idempotency_table(metadata: MetaData) -> Table:
    """The ``idempotency_key`` table: one row per key a receiver has accepted."""
    return Table(
        "idempotency_key",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=True),
        Column("created_at", UtcDateTime(), nullable=False),
    )


async def enqueue(
    session: AsyncSession,
    table: Table,
    *,
    event_type: str,
    target: str,
    path: str,
    payload: Mapping[str, Any],
    now: datetime,
    event_id: str | None = None,
    not_before: datetime | None = None,
) -> str:
    """Add an event to the outbox inside the caller's transaction; returns its id (the idempotency key).

    `not_before` holds the event back until then (a message due the evening before a visit): the relay
    does not send it earlier, and until it is sent :func:`discard_pending` can take it back.

    The payload must satisfy its event type's schema (services/kit/events/schemas): else
    UnknownEventType or InvalidEventPayload (naming each bad field's JSON path) is raised.
    """
    events.validate(event_type, payload)
    eid = event_id or str(uuid.uuid4())
    await session.execute(
        insert(table).values(
            id=eid,
            event_type=event_type,
            target=target,
            path=path,
            payload=dict(payload),
            status=PENDING,
            attempts=0,
            next_attempt_at=max(now, not_before) if not_before else now,
            created_at=now,
        )
    )
    return eid


@dataclass(frozen=True)
class OutboxMessage:
    """One event for :func:`enqueue_many`: what :func:`enqueue` takes, less the session and clock."""

    event_type: str
    target: str
    path: str
    payload: Mapping[str, Any]
    event_id: str | None = None
    not_before: datetime | None = None
    """Hold the event back until then (see :func:`enqueue`)."""


async def enqueue_many(
    session: AsyncSession, table: Table, messages: Sequence[OutboxMessage], *, now: datetime
) -> list[str]:
    """Add several events in one INSERT inside the caller's transaction; returns their ids in order.

    For a change that fans out (one event per recipient or per row of a bulk update): one round trip
    instead of one per event. Nothing is written when `messages` is empty, nor when any payload
    breaks its schema (see :func:`enqueue`).
    """
    for m in messages:
        events.validate(m.event_type, m.payload)
    ids = [m.event_id or str(uuid.uuid4()) for m in messages]
    if not ids:
        return ids
    rows = [
        {
            "id": eid,
            "event_type": m.event_type,
            "target": m.target,
            "path": m.path,
            "payload": dict(m.payload),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": max(now, m.not_before) if m.not_before else now,
            "created_at": now,
        }
        for eid, m in zip(ids, messages, strict=True)
    ]
    await session.execute(insert(table), rows)
    return ids


async def pending_of_type(session: AsyncSession, table: Table, event_type: str) -> list[Mapping[str, Any]]:
    """The events of `event_type` not yet sent nor tried (e.g. held back by `not_before`), oldest first."""
    rows = await session.execute(
        select(table)
        .where(table.c.event_type == event_type, table.c.status == PENDING, table.c.attempts == 0)
        .order_by(table.c.created_at, table.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def discard_pending(session: AsyncSession, table: Table, ids: Sequence[str]) -> int:
    """Take back events not yet sent nor tried, in the caller's transaction; returns how many went.

    For a scheduled message whose reason changed (a visit moved): an event already leased by a relay,
    tried or sent stays as it is, so nothing is half taken back.
    """
    if not ids:
        return 0
    result = await session.execute(
        delete(table).where(
            table.c.id.in_(list(ids)),
            table.c.status == PENDING,
            table.c.attempts == 0,
            table.c.leased_until.is_(None),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def backoff(attempt: int, *, base: float = 1.0, cap: float = 3600.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based): full jitter over an exponential ceiling."""
    return random.uniform(0, min(cap, base * (2 ** (attempt - 1))))


@dataclass
class RelayConfig:
    table: Table
    targets: Mapping[str, str]  # target name -> base URL
    source: str
    batch_size: int = 100
    poll_seconds: float = 0.5
    max_attempts: int = 12
    # A claimed row is invisible to other relays this long; a relay that dies mid-pass leaves its
    # rows to be retaken after it (redelivery, absorbed by the receiver's idempotency key).
    lease_seconds: float = LEASE.total_seconds()
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    # At most this many POSTs in flight per pass (the batch is sent concurrently).
    concurrency: int = 32
    # Opt-in batching: {(target, path): batch path}. Events for that target and path are POSTed
    # together as ``{"events": [envelope, ...]}``; the receiver answers
    # ``{"results": [{"id", "status", "body"}, ...]}`` and each event is settled on its own status.
    batch_paths: Mapping[tuple[str, str], str] = field(default_factory=dict)
    batch_max: int = 100


def relay_config(
    settings: Any,
    *,
    table: Table,
    targets: Mapping[str, str],
    batch_paths: Mapping[tuple[str, str], str] | None = None,
) -> RelayConfig:
    """A service's relay, tuned by its ``<SVC>_OUTBOX_*`` settings."""
    return RelayConfig(
        table=table,
        targets=targets,
        source=settings.service_name,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        max_attempts=settings.outbox_max_attempts,
        batch_paths=dict(batch_paths or {}),
    )


async def claim_due(session: AsyncSession, cfg: RelayConfig, now: datetime) -> list[Mapping[str, Any]]:
    """Lease up to `batch_size` due events to this relay; other replicas skip them."""
    t = cfg.table
    due = (
        select(t.c.id)
        .where(
            and_(
                t.c.status == PENDING,
                t.c.next_attempt_at <= now,
                or_(t.c.leased_until.is_(None), t.c.leased_until < now),
            )
        )
        .order_by(t.c.next_attempt_at)
        .limit(cfg.batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [r[0] for r in (await session.execute(due)).all()]
    if not ids:
        return []
    rows = await session.execute(
        update(t)
        .where(t.c.id.in_(ids))
        .values(leased_until=now + timedelta(seconds=cfg.lease_seconds), attempts=t.c.attempts + 1)
        .returning(*t.c)
    )
    return [dict(r._mapping) for r in rows]


def envelope(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The JSON envelope of one outbox row, as receivers get it.

    ``version`` is the version of the event type's schema the data follows (see
    :func:`services.kit.events.version_of`); it is left out for a type the catalogue lacks, and for
    one whose receiver does not take it yet (``scoring.finding.created``: rectification's /findings).
    """
    out = {
        "id": row["id"],
        "type": row["event_type"],
        "source": source,
        "occurred_at": row["created_at"],
        "data": row["payload"],
    }
    version = events.version_of(row["event_type"], row["payload"])
    if version is not None:
        out["version"] = version
    return out


def _envelope(row: Mapping[str, Any], source: str) -> bytes:
    return orjson.dumps(envelope(row, source))


def _retryable(status: int, in_progress: bool = False) -> bool:
    """Whether an answer may change on a later attempt; any other 4xx is a refusal for good.

    409 is retried whatever its kind (a twin still in progress, a state the receiver has not reached
    yet); a 409 that never clears is dead-lettered once ``max_attempts`` is spent.
    """
    return status >= 500 or status in (408, 409, 425, 429) or in_progress


def _in_progress(resp: httpx.Response) -> bool:
    """A 409 saying a twin of this very request is still being processed: try again later."""
    if resp.status_code != 409:
        return False
    try:
        return bool(resp.json().get("type") == PROBLEM_BASE + IdempotencyKeyInUse.slug)
    except ValueError:
        return False


async def deliver(
    client: httpx.AsyncClient, cfg: RelayConfig, row: Mapping[str, Any]
) -> tuple[bool, bool, str | None]:
    """POST one event. Returns (delivered, retryable, error)."""
    base = cfg.targets.get(row["target"])
    if base is None:
        return False, False, f"unknown target {row['target']!r}"
    try:
        resp = await client.post(
            base.rstrip("/") + row["path"],
            content=_envelope(row, cfg.source),
            headers={"content-type": "application/json", "idempotency-key": row["id"]},
        )
    except httpx.HTTPError as exc:
        return False, True, f"{type(exc).__name__}: {exc}"
    if resp.is_success:
        return True, False, None
    retryable = _retryable(resp.status_code, _in_progress(resp))
    return False, retryable, f"HTTP {resp.status_code}: {resp.text[:2000]}"


async def deliver_batch(
    client: httpx.AsyncClient, cfg: RelayConfig, rows: Sequence[Mapping[str, Any]], batch_path: str
) -> list[tuple[bool, bool, str | None]]:
    """POST several events to a batch endpoint; one (delivered, retryable, error) per row."""
    base = cfg.targets.get(rows[0]["target"])
    if base is None:
        return [(False, False, f"unknown target {rows[0]['target']!r}")] * len(rows)
    try:
        resp = await client.post(
            base.rstrip("/") + batch_path,
            content=orjson.dumps({"events": [envelope(r, cfg.source) for r in rows]}),
            headers={"content-type": "application/json"},
        )
    except httpx.HTTPError as exc:
        return [(False, True, f"{type(exc).__name__}: {exc}")] * len(rows)
    if not resp.is_success:
        error = f"HTTP {resp.status_code}: {resp.text[:2000]}"
        return [(False, _retryable(resp.status_code, _in_progress(resp)), error)] * len(rows)
    try:
        results = {r["id"]: r for r in resp.json()["results"]}
    except (ValueError, KeyError, TypeError):
        return [(False, True, "batch answer without results")] * len(rows)
    out: list[tuple[bool, bool, str | None]] = []
    for row in rows:
        res = results.get(row["id"])
        if res is None:
            out.append((False, True, "event missing from the batch answer"))
            continue
        status = int(res.get("status", 500))
        if 200 <= status < 300:
            out.append((True, False, None))
            continue
        body = res.get("body") or {}
        in_progress = (
            status == 409
            and isinstance(body, dict)
            and body.get("type") == PROBLEM_BASE + IdempotencyKeyInUse.slug
        )
        out.append(
            (False, _retryable(status, in_progress), f"HTTP {status}: {orjson.dumps(body).decode()[:2000]}")
        )
    return out


async def relay_once(app: FastAPI, cfg: RelayConfig) -> int:
    """Claim and deliver one batch; returns how many events were claimed."""
    clock: Clock = app.state.clock
    async with app.state.sessionmaker() as session, session.begin():
        rows = await claim_due(session, cfg, clock.now())
    if not rows:
        return 0
    gate = asyncio.Semaphore(max(1, cfg.concurrency))

    async def _one(row: Mapping[str, Any]) -> tuple[bool, bool, str | None]:
        async with gate:
            return await deliver(app.state.http, cfg, row)

    async def _many(group: list[Mapping[str, Any]], path: str) -> list[tuple[bool, bool, str | None]]:
        async with gate:
            return await deliver_batch(app.state.http, cfg, group, path)

    singles: list[Mapping[str, Any]] = []
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        key = (r["target"], r["path"])
        if key in cfg.batch_paths:
            groups.setdefault(key, []).append(r)
        else:
            singles.append(r)
    chunks = [
        (g[i : i + cfg.batch_max], cfg.batch_paths[key])
        for key, g in groups.items()
        for i in range(0, len(g), max(1, cfg.batch_max))
    ]
    single_results, chunk_results = await asyncio.gather(
        asyncio.gather(*(_one(r) for r in singles)), asyncio.gather(*(_many(c, p) for c, p in chunks))
    )
    rows = [*singles, *(r for c, _ in chunks for r in c)]
    results = [*single_results, *(res for chunk in chunk_results for res in chunk)]
    async with app.state.sessionmaker() as session, session.begin():
        dead = await record_outcomes(session, cfg, rows, results, now=clock.now())
    report_dead_letters(cfg, dead)
    return len(rows)


async def record_outcomes(
    session: AsyncSession,
    cfg: RelayConfig,
    rows: Sequence[Mapping[str, Any]],
    results: Sequence[tuple[bool, bool, str | None]],
    *,
    now: datetime,
) -> list[tuple[Mapping[str, Any], str | None, bool]]:
    """Mark each claimed row sent, due again later, or failed; returns the rows it dead-lettered.

    Each is (row, error, whether it was out of attempts); report them with :func:`report_dead_letters`
    once the transaction has committed.
    """
    t = cfg.table
    dead: list[tuple[Mapping[str, Any], str | None, bool]] = []
    # Delivered rows: one statement per attempt number instead of one per row.
    sent: dict[int, list[str]] = {}
    for row, (ok, _retryable, _error) in zip(rows, results, strict=True):
        if ok:
            sent.setdefault(row["attempts"], []).append(row["id"])
    for attempts, ids in sent.items():
        await session.execute(
            update(t)
            .where(t.c.id.in_(ids), t.c.status == PENDING, t.c.attempts == attempts)
            .values(status=SENT, sent_at=now, leased_until=None, last_error=None)
        )
    for row, (ok, retryable, error) in zip(rows, results, strict=True):
        if ok:
            continue
        if retryable and row["attempts"] < cfg.max_attempts:
            delay = backoff(row["attempts"], base=cfg.backoff_base, cap=cfg.backoff_cap)
            values: dict[str, Any] = {
                "next_attempt_at": now + timedelta(seconds=delay),
                "leased_until": None,
                "last_error": error,
            }
        else:
            values = {"status": FAILED, "leased_until": None, "last_error": error}
        # Compare-and-set on (status, attempts): if our lease ran out and another relay took the
        # row meanwhile, its outcome wins and ours is dropped.
        result = await session.execute(
            update(t)
            .where(t.c.id == row["id"], t.c.status == PENDING, t.c.attempts == row["attempts"])
            .values(**values)
        )
        if values.get("status") == FAILED and cast(CursorResult[Any], result).rowcount:
            dead.append((row, error, retryable))
    return dead


def receiver_problem(error: str | None) -> dict[str, Any]:
    """What the receiver said, from a row's ``last_error``: its status and problem detail (RFC 9457)."""
    if not error:
        return {}
    head, sep, body = error.partition(": ")
    if not (sep and head.startswith("HTTP ") and head[5:].isdigit()):
        return {"detail": error}
    out: dict[str, Any] = {"status": int(head[5:])}
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {**out, "detail": body[:500]}
    if not isinstance(problem, dict):
        return {**out, "detail": body[:500]}
    for key in ("title", "detail"):
        if problem.get(key) is not None:
            out[key] = str(problem[key])[:2000]
    if isinstance(problem.get("errors"), list):
        # Field errors are objects (RFC 9457 extension as the kit writes it); anything else is dropped.
        out["errors"] = [e for e in problem["errors"] if isinstance(e, dict)]
    return out if len(out) > 1 else {**out, "detail": body[:500]}


def report_dead_letters(cfg: RelayConfig, dead: Sequence[tuple[Mapping[str, Any], str | None, bool]]) -> None:
    """One error line and one count per dead letter (after the commit that made them so)."""
    for row, error, retryable in dead:
        _dead_lettered(cfg, row, error, retryable=retryable)


def _dead_lettered(cfg: RelayConfig, row: Mapping[str, Any], error: str | None, *, retryable: bool) -> None:
    DEAD_LETTERS.labels(cfg.source, row["event_type"]).inc()
    problem = receiver_problem(error)
    log.error(
        "outbox event dead-lettered",
        service=cfg.source,
        event_type=row["event_type"],
        event_id=row["id"],
        target=row["target"],
        attempts=row["attempts"],
        reason="max attempts reached" if retryable else "refused for good",
        receiver_status=problem.get("status"),
        receiver_detail=problem.get("detail"),
        receiver_errors=problem.get("errors"),
    )


def relay_worker(cfg_factory: Any) -> Any:
    """A kit worker: `cfg_factory(app) -> RelayConfig`; loops until cancelled."""

    async def outbox_relay(app: FastAPI) -> None:
        cfg: RelayConfig = cfg_factory(app)
        while True:
            try:
                claimed = await relay_once(app, cfg)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed")
                claimed = 0
            if claimed < cfg.batch_size:
                await asyncio.sleep(cfg.poll_seconds)
            else:
                await asyncio.sleep(0)  # let the request handlers of this process breathe

    return outbox_relay


async def redrive(
    session: AsyncSession, table: Table, *, event_id: str | None, now: datetime
) -> list[tuple[str, str]]:
    """Put dead letters (one, or all when `event_id` is None) back in the queue with their attempts reset.

    Returns the (id, event type) of each re-driven event. The last error stays on the row until
    the next attempt settles it.
    """
    stmt = update(table).where(table.c.status == FAILED)
    if event_id is not None:
        stmt = stmt.where(table.c.id == event_id)
    rows = await session.execute(
        stmt.values(status=PENDING, attempts=0, next_attempt_at=now, leased_until=None).returning(
            table.c.id, table.c.event_type
        )
    )
    return [(r[0], r[1]) for r in rows]


async def retry_failed(session: AsyncSession, table: Table, *, event_id: str | None, now: datetime) -> int:
    """Put failed events (one, or all when `event_id` is None) back in the queue; returns how many."""
    return len(await redrive(session, table, event_id=event_id, now=now))


async def list_events(
    session: AsyncSession, table: Table, *, status: str | None = FAILED, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of outbox events (newest first) and the total, optionally of one status."""
    where = [table.c.status == status] if status else []
    total = (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
    rows = await session.execute(
        select(table)
        .where(*where)
        .order_by(table.c.created_at.desc(), table.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)


async def purge_sent(session: AsyncSession, table: Table, *, before: datetime) -> int:
    """Delete events delivered before `before` (run it from an operations job to keep the table small)."""
    result = await session.execute(delete(table).where(table.c.status == SENT, table.c.sent_at < before))
    return int(cast(CursorResult[Any], result).rowcount or 0)


class IdempotencyKeyInUse(Conflict):
    """A request with the same key is being processed right now; the sender should retry later."""

    slug = "idempotency-key-in-use"
    title = "Idempotency key in use"


class IdempotencyKeyReused(Conflict):
    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different body"


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def idempotent_replay(
    session: AsyncSession, table: Table, *, key: str, body_hash: str
) -> tuple[int, Any] | None:
    """The stored answer for `key`, or None if it is new; 409 if the key was used with another body."""
    row = (await session.execute(select(table).where(table.c.key == key))).first()
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body",
            zh="该 Idempotency-Key 已用于另一个请求体",
            idempotency_key=key,
        )
    return row.status_code, row.response


async def remember_response(
    session: AsyncSession,
    table: Table,
    *,
    key: str,
    body_hash: str,
    status_code: int,
    response: Any,
    now: datetime,
) -> None:
    """Record the answer to `key` in the caller's transaction.

    A concurrent twin of the same request (same key, not yet committed) makes this raise
    SQLAlchemy's ``IntegrityError`` (primary key). Catch it and answer something the relay retries:
    503 with ``Retry-After``, or :class:`IdempotencyKeyInUse` (409 ``idempotency-key-in-use``);
    the retry then gets the stored first answer.
    """
    await session.execute(
        insert(table).values(
            key=key, request_hash=body_hash, status_code=status_code, response=response, created_at=now
        )
    )


_EVENT_EXAMPLE: dict[str, Any] = {
    "id": "5f0c2b1e-8a4d-4c1e-9d2a-3b7e6f1a2c4d",
    "event_type": "problem.overdue",
    "target": "receiver",
    "path": "/events",
    "status": "failed",
    "attempts": 12,
    "next_attempt_at": "2026-10-09T01:30:00Z",
    "last_error": 'HTTP 422: {"title": "Invalid request", "detail": "字段 place 不在本市"}',
    "created_at": "2026-10-09T01:00:00Z",
    "sent_at": None,
    "payload": {"problem_id": 42, "place": "city/district/town", "title": "党员活动室未按时开放"},
}


class OutboxEventRead(OutputModel):
    """An event this service wrote to its outbox, as the relay sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})

    id: str
    """The event's id, sent as ``Idempotency-Key`` so the receiver deduplicates redeliveries."""
    event_type: str
    """The event's type, e.g. ``problem.overdue`` (see docs/events.md)."""
    target: str
    """The peer the event is for (the settings name of its base URL, without ``_url``)."""
    path: str
    """The path on the target the relay POSTs the event to."""
    status: OutboxStatus
    """``pending`` (waiting or being retried), ``sent`` (accepted by the target) or ``failed`` (dead letter)."""
    attempts: int
    """How many deliveries were tried since the event was written or last re-driven."""
    next_attempt_at: datetime
    """When the relay tries it next (for a pending event)."""
    last_error: str | None = None
    """What the last failed attempt got: the receiver's status and problem, or the network error."""
    created_at: datetime
    """When the event was written (the business change's transaction)."""
    sent_at: datetime | None = None
    """When the target accepted it; null until then."""
    payload: dict[str, JsonValue]
    """The event's body as sent (its shape depends on the event type)."""


class ReceiverProblem(OutputModel):
    """The problem detail the receiver answered with, as far as the last error holds it."""

    status: int | None = None
    """The receiver's HTTP status, if it answered."""
    title: str | None = None
    """The problem's title."""
    detail: str | None = None
    """The problem's detail (or the network error when the receiver was not reached)."""
    errors: list[dict[str, JsonValue]] | None = None
    """The receiver's field errors for a 422, as it sent them."""


class DeadLetterRead(OutboxEventRead):
    """An event this service gave up on, with what the receiver answered."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EVENT_EXAMPLE,
                    "receiver_problem": {
                        "status": 422,
                        "title": "Invalid request",
                        "detail": "字段 place 不在本市",
                        "errors": None,
                    },
                }
            ]
        }
    )

    receiver_problem: ReceiverProblem
    """The receiver's last answer, parsed from ``last_error``."""


EventIdPath = Annotated[str, PathParam(min_length=1, max_length=36, description="The event's id")]


class RetriedCount(OutputModel):
    """How many dead letters went back in the queue."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"retried": 3}]})

    retried: int = Field(ge=0)
    """How many events were re-driven (their attempts reset, due at once)."""


class _CityWideAdmin:
    """The city admin of the whole city, nobody else: not a district, not an API key, not a service.

    The outbox holds every payload a service sends (names, phone numbers, scores of every district),
    and re-driving acts for the whole city, so a role alone is not enough (issue 9, rule 3).
    """

    async def __call__(self, principal: PrincipalDep) -> None:
        if not principal.has_role("city_admin"):
            raise Forbidden(
                "The outbox is for the city admin only",
                zh="发件箱仅供市级管理员使用",
                required_roles=["city_admin"],
                roles=list(principal.roles),
            )
        if principal.kind != "user" or not principal.city_wide:
            raise Forbidden(
                "The outbox is for the city admin of the whole city; your scope is narrower or you are not a person",
                zh="发件箱仅供全市范围的市级管理员使用；您的管辖范围较小，或您不是个人用户",
                scope=principal.scope,
            )


def outbox_admin_router(table: Table, *, tag: str, prefix: str = "/outbox") -> APIRouter:
    """Dead letters and the outbox, for a city-wide city admin: list events, read payloads, re-drive."""
    router = APIRouter(prefix=prefix, tags=[tag])
    guard = allow("city_admin")
    guard["dependencies"] = [*guard["dependencies"], Depends(_CityWideAdmin())]

    def _service(request: Request) -> str:
        return str(getattr(request.app.state, "service_name", "service"))

    async def _redrive(
        session: AsyncSession, request: Request, principal: Any, *, event_id: str | None, now: datetime
    ) -> int:
        redriven = await redrive(session, table, event_id=event_id, now=now)
        service = _service(request)
        for eid, event_type in redriven:
            log.warning(
                "outbox dead letter re-driven",
                service=service,
                event_type=event_type,
                event_id=eid,
                by=principal.sub,
            )
        if redriven:
            REDRIVEN.labels(service).inc(len(redriven))
        return len(redriven)

    @router.get("/events", response_model=Page[OutboxEventRead], **guard)
    async def list_outbox_events(
        session: SessionDep,
        page: PageDep,
        status: OutboxStatus | None = Query(
            OutboxStatus.FAILED, description="Only events in this state (failed ones by default)"
        ),
    ) -> Page[OutboxEventRead]:
        """List this service's outbox events (failed ones by default), newest first."""
        rows, total = await list_events(session, table, status=status, limit=page.limit, offset=page.offset)
        return Page.of([OutboxEventRead.model_validate(r) for r in rows], total, page)

    @router.get("/dead-letters", response_model=Page[DeadLetterRead], **guard)
    async def list_dead_letters(session: SessionDep, page: PageDep) -> Page[DeadLetterRead]:
        """List the events this service gave up on, newest first, with what the receiver answered."""
        rows, total = await list_events(session, table, status=FAILED, limit=page.limit, offset=page.offset)
        items = [
            DeadLetterRead.model_validate({**r, "receiver_problem": receiver_problem(r["last_error"])})
            for r in rows
        ]
        return Page.of(items, total, page)

    @router.post("/dead-letters/{event_id}/redrive", response_model=RetriedCount, **guard)
    async def redrive_dead_letter(
        event_id: EventIdPath, session: SessionDep, clock: ClockDep, request: Request, principal: PrincipalDep
    ) -> RetriedCount:
        """Put one dead letter back in the queue, its attempts reset."""
        n = await _redrive(session, request, principal, event_id=event_id, now=clock.now())
        if n == 0:
            raise NotFound(f"No dead letter {event_id}", zh=f"没有死信 {event_id}", event_id=event_id)
        return RetriedCount(retried=n)

    @router.post("/dead-letters/redrive", response_model=RetriedCount, **guard)
    async def redrive_dead_letters(
        session: SessionDep, clock: ClockDep, request: Request, principal: PrincipalDep
    ) -> RetriedCount:
        """Put every dead letter of this service back in the queue, their attempts reset."""
        return RetriedCount(
            retried=await _redrive(session, request, principal, event_id=None, now=clock.now())
        )

    return router
