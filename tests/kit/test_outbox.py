"""The transactional outbox and receiver idempotency, on the database under test."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from fastapi import Depends, FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.kit import events as catalogue
from services.kit import outbox
from services.kit.app import health_router
from services.kit.auth import current_principal
from services.kit.clock import FrozenClock
from services.kit.db import make_engine, make_sessionmaker, service_metadata
from services.kit.errors import install_error_handlers
from services.kit.settings import ServiceSettings
from services.kit.testing import principal_headers

metadata = service_metadata()
events = outbox.outbox_table(metadata)
keys = outbox.idempotency_table(metadata)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

COUNTED = "test.counted"
"""A made-up event type these tests enqueue (any JSON object is a valid payload of it)."""
MADE_UP = (COUNTED, "a", "b", "x", "y", "visit")


@pytest.fixture(autouse=True)
def made_up_event_types() -> Iterator[None]:
    """The outbox checks every payload against the catalogue: these tests' types are added for them."""
    with ExitStack() as stack:
        for t in MADE_UP:
            stack.enter_context(catalogue.registered(t, catalogue.ANY_OBJECT))
        yield


class Receiver:
    """A fake peer that records every POST and answers with a scripted status."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.status: Callable[[dict[str, Any]], int] = lambda _e: 202
        self.delay = delay

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        body = orjson.loads(request.content)
        self.received.append(body)
        self.keys.append(request.headers["idempotency-key"])
        code = self.status(body)
        return httpx.Response(code, json={"ok": code < 400})


def relay_app(sessionmaker: Any, clock: FrozenClock, receiver: Receiver) -> FastAPI:
    app = FastAPI()
    app.state.sessionmaker = sessionmaker
    app.state.clock = clock
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return app


@pytest.fixture
async def db(database_url) -> AsyncIterator[SimpleNamespace]:
    engine = make_engine(await database_url("outbox"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)  # a test table set, not a service's schema
    yield SimpleNamespace(engine=engine, sessionmaker=make_sessionmaker(engine), url=engine.url)
    await engine.dispose()


def cfg(**kw: Any) -> outbox.RelayConfig:
    return outbox.RelayConfig(table=events, targets={"notify": "http://notify"}, source="scoring", **kw)


async def add_events(db: SimpleNamespace, n: int, *, now: datetime = T0, target: str = "notify") -> list[str]:
    async with db.sessionmaker() as s, s.begin():
        return [
            await outbox.enqueue(
                s,
                events,
                event_type=COUNTED,
                target=target,
                path="/events",
                payload={"n": i},
                now=now,
            )
            for i in range(n)
        ]


async def rows(db: SimpleNamespace) -> dict[str, dict[str, Any]]:
    async with db.sessionmaker() as s:
        return {r.id: dict(r._mapping) for r in await s.execute(select(events))}


class TestEnqueue:
    async def test_enqueue_many_writes_every_event_in_order_in_the_callers_transaction(self, db):
        messages = [
            outbox.OutboxMessage(event_type="a", target="notify", path="/events", payload={"n": i})
            for i in range(3)
        ] + [outbox.OutboxMessage("b", "notify", "/events/batch", {"n": 3}, event_id="fixed-id")]
        async with db.sessionmaker() as s, s.begin():
            ids = await outbox.enqueue_many(s, events, messages, now=T0)
        assert len(ids) == 4 and len(set(ids)) == 4 and ids[3] == "fixed-id"
        stored = await rows(db)
        assert [stored[i]["payload"] for i in ids] == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]
        assert {(r["status"], r["attempts"], r["next_attempt_at"]) for r in stored.values()} == {
            ("pending", 0, T0)
        }
        assert stored["fixed-id"]["path"] == "/events/batch"

    async def test_enqueue_many_of_nothing_writes_nothing(self, db):
        async with db.sessionmaker() as s, s.begin():
            assert await outbox.enqueue_many(s, events, [], now=T0) == []
        assert await rows(db) == {}

    async def test_enqueue_many_rolls_back_with_the_change(self, db):
        async with db.sessionmaker() as s:
            await s.begin()
            await outbox.enqueue_many(s, events, [outbox.OutboxMessage("a", "notify", "/events", {})], now=T0)
            await s.rollback()
        assert await rows(db) == {}

    async def test_event_written_with_a_rolled_back_change_is_never_sent(self, db):
        async with db.sessionmaker() as s:
            await s.begin()
            await outbox.enqueue(
                s, events, event_type="x", target="notify", path="/events", payload={}, now=T0
            )
            await s.rollback()
        assert await rows(db) == {}

    async def test_enqueue_returns_the_event_id_used_as_idempotency_key(self, db):
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg())
        assert receiver.keys == [eid]
        env = receiver.received[0]
        assert env["id"] == eid and env["type"] == COUNTED and env["source"] == "scoring"
        assert env["data"] == {"n": 0}
        assert env["occurred_at"].startswith("2026-03-02T08:00:00")


class TestHeldBack:
    """`not_before`: a message due later (the evening before a visit) waits, and can be taken back."""

    async def test_an_event_held_back_is_not_sent_before_its_time_then_is(self, db):
        later = T0 + timedelta(hours=10)
        async with db.sessionmaker() as s, s.begin():
            eid = await outbox.enqueue(
                s,
                events,
                event_type="x",
                target="notify",
                path="/events",
                payload={},
                now=T0,
                not_before=later,
            )
            [many] = await outbox.enqueue_many(
                s, events, [outbox.OutboxMessage("y", "notify", "/events", {}, not_before=later)], now=T0
            )
        receiver = Receiver()
        clock = FrozenClock(T0)
        app = relay_app(db.sessionmaker, clock, receiver)
        assert await outbox.relay_once(app, cfg()) == 0 and receiver.keys == []
        clock.advance(hours=10)
        await outbox.relay_once(app, cfg())
        assert sorted(receiver.keys) == sorted([eid, many])

    async def test_a_past_not_before_sends_now(self, db):
        async with db.sessionmaker() as s, s.begin():
            eid = await outbox.enqueue(
                s,
                events,
                event_type="x",
                target="notify",
                path="/events",
                payload={},
                now=T0,
                not_before=T0 - timedelta(days=1),
            )
        assert (await rows(db))[eid]["next_attempt_at"] == T0

    async def test_discard_takes_back_only_what_was_never_tried(self, db):
        later = T0 + timedelta(hours=10)
        async with db.sessionmaker() as s, s.begin():
            held = [
                await outbox.enqueue(
                    s,
                    events,
                    event_type="visit",
                    target="notify",
                    path="/events",
                    payload={"n": n},
                    now=T0,
                    not_before=later,
                )
                for n in range(2)
            ]
        [sent] = await add_events(db, 1)
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), Receiver()), cfg())
        async with db.sessionmaker() as s, s.begin():
            pending = await outbox.pending_of_type(s, events, "visit")
            assert sorted(r["id"] for r in pending) == sorted(held)
            assert await outbox.discard_pending(s, events, [held[0], sent]) == 1
        left = await rows(db)
        assert held[0] not in left and held[1] in left and left[sent]["status"] == "sent"


class TestRelayOnce:
    async def test_delivered_events_are_marked_sent_and_not_sent_again(self, db):
        await add_events(db, 3)
        receiver = Receiver()
        app = relay_app(db.sessionmaker, FrozenClock(T0), receiver)
        assert await outbox.relay_once(app, cfg()) == 3
        assert await outbox.relay_once(app, cfg()) == 0
        assert len(receiver.received) == 3
        assert {r["status"] for r in (await rows(db)).values()} == {"sent"}

    async def test_server_error_schedules_a_retry_with_backoff_and_records_the_error(self, db):
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        receiver.status = lambda _e: 503
        clock = FrozenClock(T0)
        app = relay_app(db.sessionmaker, clock, receiver)
        await outbox.relay_once(app, cfg(backoff_base=10, backoff_cap=10))
        row = (await rows(db))[eid]
        assert row["status"] == "pending" and row["attempts"] == 1
        assert row["last_error"].startswith("HTTP 503")
        assert T0 <= row["next_attempt_at"] <= T0 + timedelta(seconds=10)
        # Not due yet: nothing is claimed until the backoff has passed.
        clock.set(row["next_attempt_at"] - timedelta(milliseconds=1))
        if row["next_attempt_at"] > T0:
            assert await outbox.relay_once(app, cfg()) == 0
        receiver.status = lambda _e: 200
        clock.set(T0 + timedelta(seconds=11))
        assert await outbox.relay_once(app, cfg()) == 1
        assert (await rows(db))[eid]["status"] == "sent"
        assert len(receiver.received) == 2

    async def test_connection_error_is_retried(self, db):
        [eid] = await add_events(db, 1)

        def refuse(_r: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused")

        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
        await outbox.relay_once(app, cfg())
        row = (await rows(db))[eid]
        assert row["status"] == "pending" and "ConnectError" in row["last_error"]

    async def test_client_error_fails_at_once_and_admin_retry_delivers_it(self, db):
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        receiver.status = lambda _e: 422
        clock = FrozenClock(T0)
        app = relay_app(db.sessionmaker, clock, receiver)
        await outbox.relay_once(app, cfg())
        assert (await rows(db))[eid]["status"] == "failed"
        async with db.sessionmaker() as s, s.begin():
            failed, total = await outbox.list_events(s, events, status="failed")
            assert total == 1 and failed[0]["last_error"].startswith("HTTP 422")
            assert await outbox.retry_failed(s, events, event_id=eid, now=clock.now()) == 1
        receiver.status = lambda _e: 202
        await outbox.relay_once(app, cfg())
        assert (await rows(db))[eid]["status"] == "sent"

    async def test_gives_up_after_max_attempts(self, db):
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        receiver.status = lambda _e: 500
        clock = FrozenClock(T0)
        app = relay_app(db.sessionmaker, clock, receiver)
        for _ in range(3):
            await outbox.relay_once(app, cfg(max_attempts=3, backoff_base=1, backoff_cap=1))
            clock.advance(seconds=2)
        row = (await rows(db))[eid]
        assert row["status"] == "failed" and row["attempts"] == 3
        assert len(receiver.received) == 3

    async def test_unknown_target_fails_without_a_request(self, db):
        [eid] = await add_events(db, 1, target="nowhere")
        receiver = Receiver()
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg())
        assert (await rows(db))[eid]["status"] == "failed"
        assert receiver.received == []

    async def test_receiver_busy_with_a_twin_is_retried_not_failed(self, db):
        [eid] = await add_events(db, 1)

        def busy(_r: httpx.Request) -> httpx.Response:
            return httpx.Response(409, json={"type": "/problems/idempotency-key-in-use"})

        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(busy))
        await outbox.relay_once(app, cfg())
        assert (await rows(db))[eid]["status"] == "pending"


class TestConcurrentRelays:
    async def test_two_relays_never_deliver_a_row_twice(self, db):
        ids = await add_events(db, 60)
        receiver = Receiver(delay=0.02)
        # Two relays with their own engines, as two replicas would have.
        engine2 = make_engine(db.url.render_as_string(hide_password=False))
        try:
            a = relay_app(db.sessionmaker, FrozenClock(T0), receiver)
            b = relay_app(make_sessionmaker(engine2), FrozenClock(T0), receiver)
            c = cfg(batch_size=20)
            while True:
                claimed = await asyncio.gather(outbox.relay_once(a, c), outbox.relay_once(b, c))
                if sum(claimed) == 0:
                    break
        finally:
            await engine2.dispose()
        counts = Counter(receiver.keys)
        assert set(counts) == set(ids)
        assert max(counts.values()) == 1


class TestCrashRecovery:
    async def test_a_relay_that_dies_after_claiming_leaves_the_event_to_be_redelivered(self, db):
        [eid] = await add_events(db, 1)
        clock = FrozenClock(T0)
        async with db.sessionmaker() as s, s.begin():
            claimed = await outbox.claim_due(s, cfg(lease_seconds=30), clock.now())
        assert [r["id"] for r in claimed] == [eid]
        # ...the process dies here, before it could mark the event.
        receiver = Receiver()
        app = relay_app(db.sessionmaker, clock, receiver)
        assert await outbox.relay_once(app, cfg()) == 0  # still leased to the dead relay
        clock.advance(seconds=31)
        assert await outbox.relay_once(app, cfg()) == 1
        assert receiver.keys == [eid]
        row = (await rows(db))[eid]
        assert row["status"] == "sent" and row["attempts"] == 2

    async def test_a_late_outcome_from_an_expired_lease_does_not_overwrite_the_new_one(self, db):
        [eid] = await add_events(db, 1)
        clock = FrozenClock(T0)
        c = cfg(lease_seconds=5)
        async with db.sessionmaker() as s, s.begin():
            stale = await outbox.claim_due(s, c, clock.now())
        clock.advance(seconds=6)
        await outbox.relay_once(relay_app(db.sessionmaker, clock, Receiver()), c)
        async with db.sessionmaker() as s, s.begin():
            await outbox.record_outcomes(s, c, stale, [(False, False, "HTTP 400: late")], now=clock.now())
        row = (await rows(db))[eid]
        assert row["status"] == "sent" and row["last_error"] is None


class TestBackoff:
    def test_backoff_stays_under_an_exponential_ceiling(self):
        for attempt in range(1, 20):
            assert 0 <= outbox.backoff(attempt, base=1, cap=60) <= min(60, 2 ** (attempt - 1))


class TestIdempotency:
    async def _accept(self, db: SimpleNamespace, key: str, body: bytes, answer: Any) -> tuple[int, Any]:
        async with db.sessionmaker() as s, s.begin():
            h = outbox.request_hash(body)
            stored = await outbox.idempotent_replay(s, keys, key=key, body_hash=h)
            if stored is not None:
                return stored
            await outbox.remember_response(
                s, keys, key=key, body_hash=h, status_code=202, response=answer, now=T0
            )
            return 202, answer

    async def test_redelivery_returns_the_first_answer(self, db):
        assert await self._accept(db, "k1", b'{"a":1}', {"id": "first"}) == (202, {"id": "first"})
        assert await self._accept(db, "k1", b'{"a":1}', {"id": "second"}) == (202, {"id": "first"})

    async def test_same_key_with_another_body_is_a_conflict(self, db):
        await self._accept(db, "k2", b'{"a":1}', {})
        with pytest.raises(outbox.IdempotencyKeyReused):
            await self._accept(db, "k2", b'{"a":2}', {})

    async def test_twin_remembering_the_same_key_fails_on_the_unique_key(self, db):
        async with db.sessionmaker() as s, s.begin():
            await outbox.remember_response(
                s, keys, key="k3", body_hash="h", status_code=202, response={}, now=T0
            )
        async with db.sessionmaker() as s:
            await s.begin()
            with pytest.raises(IntegrityError):
                await outbox.remember_response(
                    s, keys, key="k3", body_hash="h", status_code=202, response={}, now=T0
                )
            await s.rollback()


class RecordingLog:
    """Stands in for the outbox's structlog logger: every call with its level, event and fields."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Callable[..., None]:
        def record(event: str, **fields: Any) -> None:
            self.lines.append((level, event, fields))

        return record


def problem_422(detail: str) -> Callable[[httpx.Request], httpx.Response]:
    """A receiver that refuses every event for good, the way notify refuses an unknown recipient."""

    def answer(_r: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            json={
                "type": "/problems/validation-error",
                "title": "Invalid fields",
                "status": 422,
                "detail": detail,
                "errors": [{"loc": ["data", "recipient"], "msg": "unknown person u-nobody"}],
            },
            headers={"content-type": "application/problem+json"},
        )

    return answer


def dead_letters_counted(event_type: str = COUNTED, service: str = "scoring") -> float:
    return (
        REGISTRY.get_sample_value("outbox_dead_letters_total", {"service": service, "event_type": event_type})
        or 0.0
    )


class TestDeadLetters:
    async def test_an_event_refused_for_good_is_logged_counted_and_kept_with_the_receivers_detail(
        self, db, monkeypatch
    ):
        recorded = RecordingLog()
        monkeypatch.setattr(outbox, "log", recorded)
        [eid] = await add_events(db, 1)
        before = dead_letters_counted()
        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(
            transport=httpx.MockTransport(problem_422("Unknown recipient u-nobody"))
        )
        await outbox.relay_once(app, cfg())
        row = (await rows(db))[eid]
        assert row["status"] == "failed" and row["attempts"] == 1
        assert dead_letters_counted() == before + 1
        [(level, _event, fields)] = [
            line for line in recorded.lines if line[1] == "outbox event dead-lettered"
        ]
        assert level == "error"
        assert fields["service"] == "scoring" and fields["event_type"] == COUNTED
        assert fields["event_id"] == eid
        assert fields["receiver_status"] == 422
        assert fields["receiver_detail"] == "Unknown recipient u-nobody"
        assert fields["reason"] == "refused for good"

    async def test_an_event_out_of_attempts_is_dead_lettered(self, db, monkeypatch):
        recorded = RecordingLog()
        monkeypatch.setattr(outbox, "log", recorded)
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        receiver.status = lambda _e: 503
        clock = FrozenClock(T0)
        app = relay_app(db.sessionmaker, clock, receiver)
        before = dead_letters_counted()
        for _ in range(2):
            await outbox.relay_once(app, cfg(max_attempts=2, backoff_base=1, backoff_cap=1))
            clock.advance(seconds=2)
        assert (await rows(db))[eid]["status"] == "failed"
        assert dead_letters_counted() == before + 1
        [fields] = [
            f for lvl, ev, f in recorded.lines if ev == "outbox event dead-lettered" and lvl == "error"
        ]
        assert fields["reason"] == "max attempts reached" and fields["attempts"] == 2

    @pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 503])
    async def test_answers_that_may_change_are_retried_not_dead_lettered(self, db, status):
        [eid] = await add_events(db, 1)
        receiver = Receiver()
        receiver.status = lambda _e: status
        before = dead_letters_counted()
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg())
        assert (await rows(db))[eid]["status"] == "pending"
        assert dead_letters_counted() == before

    async def test_a_late_outcome_that_loses_the_compare_and_set_is_not_counted(self, db):
        [eid] = await add_events(db, 1)
        clock = FrozenClock(T0)
        c = cfg(lease_seconds=5)
        async with db.sessionmaker() as s, s.begin():
            stale = await outbox.claim_due(s, c, clock.now())
        clock.advance(seconds=6)
        await outbox.relay_once(relay_app(db.sessionmaker, clock, Receiver()), c)
        before = dead_letters_counted()
        async with db.sessionmaker() as s, s.begin():
            await outbox.record_outcomes(s, c, stale, [(False, False, "HTTP 400: late")], now=clock.now())
        assert dead_letters_counted() == before
        assert (await rows(db))[eid]["status"] == "sent"


class TestReceiverProblem:
    def test_reads_the_problem_detail_of_an_http_answer(self):
        error = 'HTTP 422: {"title":"Invalid fields","detail":"Unknown recipient","errors":[{"loc":["x"]}]}'
        assert outbox.receiver_problem(error) == {
            "status": 422,
            "title": "Invalid fields",
            "detail": "Unknown recipient",
            "errors": [{"loc": ["x"]}],
        }

    def test_field_errors_that_are_not_objects_are_dropped_so_the_list_still_renders(self):
        error = 'HTTP 422: {"title":"Invalid","detail":"d","errors":["bad", {"loc":["y"]}, 3]}'
        problem = outbox.receiver_problem(error)
        assert problem["errors"] == [{"loc": ["y"]}]
        assert outbox.ReceiverProblem.model_validate(problem).errors == [{"loc": ["y"]}]

    def test_a_plain_text_answer_is_its_own_detail(self):
        assert outbox.receiver_problem("HTTP 400: bad thing") == {"status": 400, "detail": "bad thing"}

    def test_an_error_without_an_answer_is_kept_as_detail(self):
        assert outbox.receiver_problem("unknown target 'x'") == {"detail": "unknown target 'x'"}
        assert outbox.receiver_problem(None) == {}


class TestAdminRouter:
    @pytest.fixture
    async def admin(self, db) -> AsyncIterator[Callable[..., Awaitable[httpx.Response]]]:
        app = FastAPI()
        app.state.sessionmaker = db.sessionmaker
        app.state.clock = FrozenClock(T0)
        app.state.settings = ServiceSettings()
        app.state.service_name = "scoring"
        install_error_handlers(app)
        app.include_router(health_router())
        app.include_router(
            outbox.outbox_admin_router(events, tag="test"), dependencies=[Depends(current_principal)]
        )

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:

            async def call(
                method: str,
                url: str,
                roles: tuple[str, ...] = ("city_admin",),
                scope: str = "ningbo",
                kind: str = "user",
            ) -> httpx.Response:
                # Signed per request: nothing here outlives a slow machine.
                headers = principal_headers(roles=roles, scope=scope, kind=kind, ttl=60)
                return await client.request(method, url, headers=headers)

            yield call

    async def refuse(self, db: SimpleNamespace, n: int) -> list[str]:
        ids = await add_events(db, n)
        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(
            transport=httpx.MockTransport(problem_422("Unknown recipient u-nobody"))
        )
        await outbox.relay_once(app, cfg())
        return ids

    async def test_admin_lists_failed_events_and_retries_them(self, admin, db):
        ids = await add_events(db, 2)
        receiver = Receiver()
        receiver.status = lambda _e: 400
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg())
        r = await admin("GET", "/outbox/events")
        assert r.status_code == 200
        page = r.json()
        assert page["total"] == 2 and {e["id"] for e in page["items"]} == set(ids)
        assert page["items"][0]["last_error"].startswith("HTTP 400")
        assert page["limit"] == 50 and page["offset"] == 0
        assert page["items"][0]["created_at"].endswith("Z")
        r = await admin("POST", f"/outbox/dead-letters/{ids[0]}/redrive")
        assert r.json() == {"retried": 1}
        r = await admin("POST", "/outbox/dead-letters/redrive")
        assert r.json() == {"retried": 1}
        assert (await admin("GET", "/outbox/events?status=pending")).json()["total"] == 2

    async def test_the_outbox_lists_are_paged_and_filtered_by_a_known_state(self, admin, db):
        await add_events(db, 3)
        r = await admin("GET", "/outbox/events?status=pending&limit=2&offset=1")
        assert r.status_code == 200, r.text
        page = r.json()
        assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)
        r = await admin("GET", "/outbox/events?status=lost")
        assert r.status_code == 422

    async def test_the_retry_aliases_are_gone(self, admin, db):
        ids = await add_events(db, 1)
        assert (await admin("POST", f"/outbox/events/{ids[0]}/retry")).status_code in (404, 405)
        assert (await admin("POST", "/outbox/events/retry-failed")).status_code in (404, 405)

    async def test_the_city_admin_reads_dead_letters_with_the_receivers_problem(self, admin, db):
        ids = await self.refuse(db, 2)
        r = await admin("GET", "/outbox/dead-letters")
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 2 and {e["id"] for e in page["items"]} == set(ids)
        item = page["items"][0]
        assert item["status"] == "failed" and item["event_type"] == COUNTED
        assert item["payload"] in ({"n": 0}, {"n": 1})
        assert item["receiver_problem"]["status"] == 422
        assert item["receiver_problem"]["detail"] == "Unknown recipient u-nobody"
        body = (await admin("GET", "/metrics")).text
        assert 'outbox_dead_letters_total{event_type="test.counted",service="scoring"}' in body

    async def test_redrive_puts_a_dead_letter_back_with_its_attempts_reset_and_logs_it(
        self, admin, db, monkeypatch
    ):
        recorded = RecordingLog()
        ids = await self.refuse(db, 2)
        monkeypatch.setattr(outbox, "log", recorded)
        r = await admin("POST", f"/outbox/dead-letters/{ids[0]}/redrive")
        assert r.status_code == 200 and r.json() == {"retried": 1}
        row = (await rows(db))[ids[0]]
        assert row["status"] == "pending" and row["attempts"] == 0 and row["next_attempt_at"] == T0
        [(level, _event, fields)] = [
            line for line in recorded.lines if line[1] == "outbox dead letter re-driven"
        ]
        assert level == "warning"
        assert fields == {
            "service": "scoring",
            "event_type": COUNTED,
            "event_id": ids[0],
            "by": "tester",
        }
        assert (await admin("GET", "/outbox/dead-letters")).json()["total"] == 1
        assert (await admin("POST", "/outbox/dead-letters/redrive")).json() == {"retried": 1}
        assert (await admin("GET", "/outbox/dead-letters")).json()["total"] == 0
        # Re-driven, it is delivered like any new event once the receiver accepts it.
        receiver = Receiver()
        assert await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg()) == 2
        assert {r["status"] for r in (await rows(db)).values()} == {"sent"}

    async def test_retrying_an_event_that_did_not_fail_is_404(self, admin):
        for url in ("/outbox/dead-letters/nope/redrive",):
            r = await admin("POST", url)
            assert r.status_code == 404
            assert r.headers["content-type"] == "application/problem+json"

    async def test_other_roles_may_not_see_the_outbox(self, admin):
        r = await admin("GET", "/outbox/events", roles=("inspector",))
        assert r.status_code == 403

    @pytest.mark.parametrize(
        ("roles", "scope", "kind"),
        [
            (("city_admin",), "ningbo/yinzhou", "user"),  # a district-scoped city admin
            (("district_admin",), "ningbo/yinzhou", "user"),
            (("system",), "ningbo", "api_key"),  # an integration, even a city-wide one
            (("system",), "ningbo/yinzhou", "api_key"),
            (("city_admin",), "ningbo", "api_key"),  # a key is never the city admin in person
            (("leader",), "ningbo", "user"),
        ],
    )
    async def test_only_the_city_wide_city_admin_reads_or_redrives(self, admin, db, roles, scope, kind):
        ids = await self.refuse(db, 1)
        for method, url in (
            ("GET", "/outbox/events?status=sent"),
            ("GET", "/outbox/dead-letters"),
            ("POST", f"/outbox/dead-letters/{ids[0]}/redrive"),
            ("POST", "/outbox/dead-letters/redrive"),
        ):
            r = await admin(method, url, roles=roles, scope=scope, kind=kind)
            assert r.status_code == 403, (method, url, r.text)
            assert "payload" not in r.text
        assert (await rows(db))[ids[0]]["status"] == "failed"


class TestBatchedRelay:
    async def test_events_for_a_batch_path_go_together_and_settle_one_by_one(self, db):
        ids = await add_events(db, 5)
        seen: list[list[str]] = []

        def batch_receiver(request: httpx.Request) -> httpx.Response:
            assert request.url.path == "/events/batch"
            events = orjson.loads(request.content)["events"]
            seen.append([e["id"] for e in events])
            results = [
                {
                    "id": e["id"],
                    "status": 422 if e["data"]["n"] == 1 else 503 if e["data"]["n"] == 2 else 202,
                    "body": {},
                }
                for e in events
            ]
            return httpx.Response(200, json={"results": results})

        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(batch_receiver))
        c = cfg(batch_paths={("notify", "/events"): "/events/batch"}, batch_max=3)
        assert await outbox.relay_once(app, c) == 5
        assert sorted(len(b) for b in seen) == [2, 3]
        assert sorted(i for b in seen for i in b) == sorted(ids)
        status = {r["payload"]["n"]: r["status"] for r in (await rows(db)).values()}
        assert status == {0: "sent", 1: "failed", 2: "pending", 3: "sent", 4: "sent"}

    async def test_a_batch_that_cannot_be_posted_is_retried_whole(self, db):
        await add_events(db, 2)

        def down(_r: httpx.Request) -> httpx.Response:
            return httpx.Response(502, text="bad gateway")

        app = relay_app(db.sessionmaker, FrozenClock(T0), Receiver())
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(down))
        await outbox.relay_once(app, cfg(batch_paths={("notify", "/events"): "/events/batch"}))
        assert {r["status"] for r in (await rows(db)).values()} == {"pending"}


class TestContract:
    """Every payload is checked against its event type's schema when it is enqueued (the kit's catalogue)."""

    async def test_a_payload_that_breaks_its_schema_fails_the_producer_and_writes_nothing(self, db):
        good = catalogue.schema("sampling.visit.upcoming").examples[0]
        bad = {**good, "visits": [{**good["visits"][0], "site": {**good["visits"][0]["site"], "name": ""}}]}
        async with db.sessionmaker() as s, s.begin():
            with pytest.raises(catalogue.InvalidEventPayload, match=r"\$\.visits\[0\]\.site\.name"):
                await outbox.enqueue(
                    s,
                    events,
                    event_type="sampling.visit.upcoming",
                    target="notify",
                    path="/events",
                    payload=bad,
                    now=T0,
                )
            with pytest.raises(catalogue.InvalidEventPayload, match=r"\$\.link: required"):
                await outbox.enqueue_many(
                    s,
                    events,
                    [
                        outbox.OutboxMessage("sampling.visit.upcoming", "notify", "/events", good),
                        outbox.OutboxMessage(
                            "sampling.visit.upcoming",
                            "notify",
                            "/events",
                            {k: v for k, v in good.items() if k != "link"},
                        ),
                    ],
                    now=T0,
                )
        assert await rows(db) == {}

    async def test_an_unknown_event_type_fails_the_producer(self, db):
        async with db.sessionmaker() as s, s.begin():
            with pytest.raises(catalogue.UnknownEventType, match=r"no\.such\.type"):
                await outbox.enqueue(
                    s, events, event_type="no.such.type", target="notify", path="/events", payload={}, now=T0
                )

    async def test_an_undocumented_field_fails_the_producer(self, db):
        good = catalogue.schema("notify.message").examples[0]
        async with db.sessionmaker() as s, s.begin():
            with pytest.raises(
                catalogue.InvalidEventPayload, match=r"\$\.secret: not in the event type's schema"
            ):
                await outbox.enqueue(
                    s,
                    events,
                    event_type="notify.message",
                    target="notify",
                    path="/events",
                    payload={**good, "secret": 1},
                    now=T0,
                )

    async def test_the_envelope_names_the_schema_version(self, db):
        payload = catalogue.schema("sampling.visit.upcoming").examples[0]
        async with db.sessionmaker() as s, s.begin():
            eid = await outbox.enqueue(
                s,
                events,
                event_type="sampling.visit.upcoming",
                target="notify",
                path="/events",
                payload=payload,
                now=T0,
            )
        receiver = Receiver()
        await outbox.relay_once(relay_app(db.sessionmaker, FrozenClock(T0), receiver), cfg())
        [env] = receiver.received
        assert env["id"] == eid and env["version"] == 1 and env["data"] == payload
