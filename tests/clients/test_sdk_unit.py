"""The SDK's own logic over httpx.MockTransport: retries and backoff (no real sleeping), the
Idempotency-Key kept across retries, typed errors, pagination, the SSE parser and reconnection."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from dangjian import (
    ApiError,
    AsyncClient,
    Client,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportFailed,
    Unauthorized,
    ValidationFailed,
)
from dangjian.cli import main as cli_main
from dangjian.sse import iter_events

PROBLEM = "application/problem+json"
NO_JITTER = RetryPolicy(jitter=False)


def problem(status: int, slug: str, title: str, **extra: Any) -> httpx.Response:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "request_id": "rid-1", **extra}
    headers = {"content-type": PROBLEM}
    if "retry_after_header" in extra:
        headers["retry-after"] = str(body.pop("retry_after_header"))
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


class Recorder:
    """A scripted server: answers in order, remembers every request."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


def make(server: Recorder, *, retry: RetryPolicy = NO_JITTER, **kw: Any) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client(
        "http://gw.test",
        api_key="dj_test",
        transport=httpx.MockTransport(server),
        sleep=slept.append,
        retry=retry,
        **kw,
    )
    return client, slept


def ok(body: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {"ok": True})


# ------------------------------------------------------------------------------------------ retries
def test_backoff_doubles_on_502_504_503_without_retry_after() -> None:
    server = Recorder(
        problem(502, "bad-gateway", "Bad gateway"),
        problem(504, "upstream-timeout", "Upstream timeout"),
        problem(503, "service-unavailable", "Unavailable"),
        ok(),
    )
    client, slept = make(server)
    assert client.get("/api/v1/sampling/sites/1") == {"ok": True}
    assert slept == [0.5, 1.0, 2.0]
    assert len(server.requests) == 4


def test_backoff_is_capped_and_jitter_stays_within_half_to_full() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=False)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    low = RetryPolicy(backoff=1.0, rand=lambda: 0.0)
    high = RetryPolicy(backoff=1.0, rand=lambda: 1.0)
    assert (low.delay(3), high.delay(3)) == (2.0, 4.0)


def test_retry_after_seconds_and_http_date_are_honoured() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    server = Recorder(
        problem(429, "rate-limited", "Too many requests", retry_after_header=7),
        problem(
            503, "service-unavailable", "Unavailable", retry_after_header=format_datetime(when, usegmt=True)
        ),
        ok(),
    )
    client, slept = make(server)
    client.get("/api/v1/rectification/problems")
    assert slept[0] == 7.0
    assert 25.0 <= slept[1] <= 30.0


def test_retry_after_beyond_the_limit_raises_rate_limited_at_once() -> None:
    server = Recorder(problem(429, "rate-limited", "Too many requests", retry_after_header=3600))
    client, slept = make(server)
    with pytest.raises(RateLimited) as err:
        client.get("/api/v1/sampling/sites")
    assert slept == []
    assert err.value.retry_after == 3600.0
    assert err.value.status == 429


def test_gives_up_after_the_attempts_and_raises_the_last_problem() -> None:
    server = Recorder(
        *(problem(503, "service-unavailable", "Unavailable", detail="sampling is down") for _ in range(3))
    )
    client, slept = make(server, retry=RetryPolicy(attempts=3, jitter=False))
    with pytest.raises(ServerError) as err:
        client.get("/api/v1/sampling/sites")
    assert slept == [0.5, 1.0]
    assert (err.value.status, err.value.slug, err.value.detail) == (
        503,
        "service-unavailable",
        "sampling is down",
    )
    assert err.value.request_id == "rid-1"


def test_a_write_keeps_one_idempotency_key_across_its_retries() -> None:
    server = Recorder(
        problem(503, "service-unavailable", "Unavailable"),
        httpx.ConnectError("refused"),
        problem(429, "rate-limited", "Too many", retry_after_header=1),
        ok({"id": "n1"}, 202),
    )
    client, slept = make(server)
    assert client.post("/api/v1/auth/api-keys", {"name": "x"}) == {"id": "n1"}
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(server.requests) == 4 and len(keys) == 1
    assert len(slept) == 3
    # A second logical call gets a new key.
    server.answers.append(ok({"id": "n2"}, 202))
    client.post("/api/v1/auth/api-keys", {"name": "x"})
    assert server.requests[-1].headers["idempotency-key"] not in keys


def test_a_write_is_not_repeated_after_an_ambiguous_failure_unless_safe() -> None:
    # 502 or a dropped answer: the server may have done it; a plain POST is not repeated...
    server = Recorder(problem(502, "bad-gateway", "Bad gateway"))
    client, _ = make(server)
    with pytest.raises(ServerError):
        client.post("/api/v1/rectification/problems", {"x": 1})
    assert len(server.requests) == 1
    server = Recorder(httpx.ReadError("connection reset"))
    client, _ = make(server)
    with pytest.raises(TransportFailed) as failed:
        client.post("/api/v1/rectification/problems", {"x": 1})
    assert failed.value.attempts == 1
    # ... but one the route deduplicates (or an upsert, or PUT/DELETE) is, under the same key.
    server = Recorder(httpx.ReadError("connection reset"), problem(504, "upstream-timeout", "Timeout"), ok())
    client, slept = make(server)
    client.post("/api/v1/notify/notifications", {"x": 1}, idempotent=True)
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1
    assert slept == [0.5, 1.0]
    server = Recorder(problem(502, "bad-gateway", "Bad gateway"), ok())
    client, _ = make(server)
    client.delete("/api/v1/auth/api-keys/k1")
    assert len(server.requests) == 2


def test_connection_errors_exhausted_are_transport_failed() -> None:
    server = Recorder(*(httpx.ConnectError("refused") for _ in range(4)))
    client, slept = make(server)
    with pytest.raises(TransportFailed) as err:
        client.get("/api/v1/sampling/sites")
    assert err.value.attempts == 4 and slept == [0.5, 1.0, 2.0]


def test_a_given_idempotency_key_is_used_as_is() -> None:
    server = Recorder(ok({"id": "n"}, 202))
    client, _ = make(server)
    client.notifications.send(
        [{"kind": "person", "user_id": "u1"}], {"title": "t", "body": "b"}, idempotency_key="job-42"
    )
    assert server.requests[0].headers["idempotency-key"] == "job-42"
    assert json.loads(server.requests[0].content)["recipients"] == [{"kind": "person", "user_id": "u1"}]


# ------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (422, ValidationFailed),
        (418, ApiError),
    ],
)
def test_problems_become_typed_exceptions(status: int, cls: type[ApiError]) -> None:
    server = Recorder(problem(status, "x", "标题", detail="细节"))
    client, slept = make(server)
    with pytest.raises(cls) as err:
        client.get("/api/v1/sampling/sites/9")
    assert type(err.value) is cls
    assert (err.value.title, err.value.detail, err.value.request_id) == ("标题", "细节", "rid-1")
    assert slept == []


def test_validation_failed_lists_each_field() -> None:
    errors = [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "scope"], "msg": "outside your scope", "type": "out_of_scope"},
    ]
    client, _ = make(Recorder(problem(422, "validation-error", "Invalid request", errors=errors)))
    with pytest.raises(ValidationFailed) as err:
        client.post("/api/v1/auth/api-keys", {})
    assert err.value.field_errors == {"body.name": ["Field required"], "body.scope": ["outside your scope"]}
    assert [e.type for e in err.value.errors] == ["missing", "out_of_scope"]


def test_forbidden_names_the_roles_and_a_non_json_error_still_raises() -> None:
    client, _ = make(Recorder(problem(403, "forbidden", "Forbidden", required_roles=["city_admin"])))
    with pytest.raises(Forbidden) as err:
        client.get("/api/v1/auth/api-keys")
    assert err.value.required_roles == ["city_admin"]
    client, _ = make(Recorder(httpx.Response(500, text="<html>boom</html>")), retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError) as err2:
        client.get("/x")
    assert err2.value.status == 500 and err2.value.detail == "<html>boom</html>"


# --------------------------------------------------------------------------------------- pagination
def test_paginate_walks_every_page_until_total() -> None:
    items = [{"id": i} for i in range(7)]

    def page(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        assert request.url.params["district"] == "yinzhou"
        assert "q" not in request.url.params  # None filters are not sent
        return ok({"items": items[offset : offset + limit], "total": 7, "limit": limit, "offset": offset})

    server = Recorder(page, page, page)
    client, _ = make(server)
    got = list(client.sites.list(page_size=3, district="yinzhou", q=None))
    assert got == items
    assert [r.url.params["offset"] for r in server.requests] == ["0", "3", "6"]


def test_paginate_stops_on_an_empty_page() -> None:
    server = Recorder(ok({"items": [], "total": 5, "limit": 500, "offset": 0}))
    client, _ = make(server)
    assert list(client.problems.overdue()) == []


def test_credentials_and_language_headers() -> None:
    server = Recorder(ok(), ok())
    client, _ = make(server, accept_language="zh-CN")
    client.get("/a")
    assert server.requests[0].headers["x-api-key"] == "dj_test"
    assert server.requests[0].headers["accept-language"] == "zh-CN"
    assert "idempotency-key" not in server.requests[0].headers
    bearer = Client("http://gw.test", token="jwt", transport=httpx.MockTransport(server))
    bearer.get("/b")
    assert server.requests[1].headers["authorization"] == "Bearer jwt"
    assert "x-api-key" not in server.requests[1].headers
    with pytest.raises(ValueError):
        Client("http://gw.test", token="a", api_key="b")


# ---------------------------------------------------------------------------------------------- SSE
def test_sse_parser() -> None:
    text = ': connected\nretry: 2000\n\nid: 1\nevent: message\ndata: {"a":\ndata: 1}\n\n: ping\n\ndata: x\nid: 2\n\ndata: cut'
    events = list(iter_events(text.split("\n")))
    assert [(e.event, e.id, e.data) for e in events] == [("message", "1", '{"a":\n1}'), ("message", "2", "x")]


def sse(*messages: dict[str, Any]) -> bytes:
    out = ": connected\nretry: 2000\n\n"
    for m in messages:
        out += f"event: message\nid: {m['id']}\ndata: {json.dumps(m)}\n\n"
    return out.encode()


def message(i: int, event_type: str) -> dict[str, Any]:
    return {"id": i, "event_type": event_type, "title": f"t{i}", "created_at": "2026-03-02T01:30:00Z"}


def test_follow_filters_types_and_resumes_after_a_drop_with_last_event_id() -> None:
    def first(request: httpx.Request) -> httpx.Response:
        assert "last-event-id" not in request.headers
        return httpx.Response(
            200, content=sse(message(1, "notify.message"), message(2, "rectification.problem.overdue"))
        )

    def second(request: httpx.Request) -> httpx.Response:
        assert request.headers["last-event-id"] == "2"
        return httpx.Response(200, content=sse(message(3, "rectification.problem.assigned")))

    server = Recorder(first, httpx.ConnectError("refused"), second)
    client, slept = make(server)
    stream = client.events.follow(types=["rectification.*"])
    assert next(stream)["id"] == 2
    assert next(stream)["id"] == 3
    stream.close()
    # The stream ending and one refused connection: the first reconnect waits its backoff, the
    # refused one is retried inside send() (0.5), then the resumed stream.
    assert slept == [0.5, 0.5]
    assert [r.headers["accept"] for r in server.requests] == ["text/event-stream"] * 3


def test_follow_raises_api_errors() -> None:
    client, _ = make(Recorder(problem(401, "unauthorized", "Unauthorized")))
    with pytest.raises(Unauthorized):
        next(client.events.follow())


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_usage_errors_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DANGJIAN_URL", raising=False)
    monkeypatch.delenv("DANGJIAN_API_KEY", raising=False)
    monkeypatch.delenv("DANGJIAN_TOKEN", raising=False)
    err = io.StringIO()
    assert cli_main(["overdue"], err=err) == 2
    assert "DANGJIAN_URL" in err.getvalue()
    err = io.StringIO()
    assert cli_main(["--url", "http://x", "overdue"], err=err) == 2
    assert "DANGJIAN_API_KEY" in err.getvalue()
    with pytest.raises(SystemExit) as exit_:
        cli_main(["export-results"])
    assert exit_.value.code == 2
    assert cli_main([], err=io.StringIO()) == 2


def test_cli_connection_failure_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import dangjian.cli as cli

    original = cli.Client

    def no_network(url: str, **kw: Any) -> Client:
        kw.pop("timeout", None)
        return original(
            url,
            transport=httpx.MockTransport(Recorder(*(httpx.ConnectError("refused") for _ in range(4)))),
            sleep=lambda _: None,
            **kw,
        )

    monkeypatch.setattr(cli, "Client", no_network)
    err = io.StringIO()
    assert cli_main(["--url", "http://x", "--api-key", "k", "overdue"], err=err) == 1
    assert "无法连接网关" in err.getvalue()


# ------------------------------------------------------------------------------------ the async twin
async def test_async_client_retries_under_one_key_pages_and_types_errors() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    items = [{"id": i} for i in range(5)]

    def page(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        return ok({"items": items[offset : offset + limit], "total": 5, "limit": limit, "offset": offset})

    server = Recorder(
        httpx.ReadError("reset"),
        problem(503, "service-unavailable", "Unavailable", retry_after_header=2),
        ok({"id": "n"}, 202),
        page,
        page,
        page,
        problem(404, "not-found", "Not found"),
        problem(502, "bad-gateway", "Bad gateway"),
    )
    async with AsyncClient(
        "http://gw.test", api_key="k", transport=httpx.MockTransport(server), sleep=sleep, retry=NO_JITTER
    ) as api:
        assert await api.post("/api/v1/notify/notifications", {"a": 1}, idempotent=True) == {"id": "n"}
        assert len({r.headers["idempotency-key"] for r in server.requests}) == 1
        assert slept == [0.5, 2.0]
        assert [i async for i in api.paginate("/api/v1/sampling/sites", page_size=2)] == items
        with pytest.raises(NotFound):
            await api.get("/api/v1/sampling/sites/1")
        with pytest.raises(ServerError):  # a plain POST is not repeated after a 502
            await api.post("/api/v1/rectification/problems", {})
    assert len(server.requests) == 8


async def test_async_follow_resumes_with_last_event_id() -> None:
    def first(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(message(1, "notify.message")))

    def second(request: httpx.Request) -> httpx.Response:
        assert request.headers["last-event-id"] == "1"
        return httpx.Response(200, content=sse(message(2, "notify.message")))

    async def sleep(seconds: float) -> None:
        pass

    server = Recorder(first, second)
    async with AsyncClient(
        "http://gw.test", token="t", transport=httpx.MockTransport(server), sleep=sleep
    ) as api:
        got = []
        async with contextlib.aclosing(api.follow_events(types=["notify.*"])) as stream:
            async for m in stream:
                got.append(m["id"])
                if len(got) == 2:
                    break
    assert got == [1, 2]
