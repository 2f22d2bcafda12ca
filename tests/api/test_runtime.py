"""The API conventions as a client meets them, on one route of each service run in process.

An unknown query parameter and an unknown body field are refused with a 422 that names them (and
nothing is created); every datetime in a response is UTC written with ``Z``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.kit.clock import FrozenClock
from services.kit.testing import principal_headers, running_app
from services.registry import BY_NAME
from tests.api.support import datetimes

# What rectification asks sampling when a problem names a site.
SITE = {"id": 1, "active": True, "code": "330212001001", "name": "天童村", "type": "village"}
SITE |= {"org_unit": "ningbo/yinzhou/dongwu/tiantong", "district": "yinzhou"}


def peers(request: httpx.Request) -> httpx.Response:
    """The other services, as far as these routes reach them."""
    if request.url.host == "sampling.test" and request.url.path == f"/sites/by-code/{SITE['code']}":
        return httpx.Response(200, json=SITE)
    return httpx.Response(404, json={"type": "/problems/not-found", "title": "Not found", "status": 404})


@dataclass(frozen=True)
class Case:
    """One service: a list to query and a create to send."""

    service: str
    listing: str
    create: str
    body: dict[str, Any]
    method: str = "POST"
    settings: dict[str, Any] = field(default_factory=dict)
    setup: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Objects to POST before the create can succeed."""


CASES = [
    Case(
        "sampling",
        listing="/sites",
        create="/rounds",
        body={
            "code": "2026Q1",
            "title": "2026年第一季度基层党建专项督查",
            "visit_start_on": "2026-03-02",
            "plan": {"quotas": [{"group": "town_street", "per": "district", "count": 2}]},
        },
        setup=[("/sites", {"code": "330203", "type": "district", "name": "海曙区", "district": "haishu"})],
    ),
    Case(
        "scoring", listing="/rubrics", create="/rubrics", body={"version": "2026.2", "name": "2026年测评体系"}
    ),
    Case(
        "rectification",
        listing="/problems",
        create="/problems",
        body={
            "site": {"code": SITE["code"]},
            "level": "village_community",
            "category": "三会一课",
            "severity": "general",
            "description": "支部委员会会议记录不全",
        },
        settings={
            "scheduler_enabled": False,
            "notify_url": "http://notify.test",
            "sampling_url": "http://sampling.test",
        },
    ),
    Case(
        "notify",
        listing="/people",
        create="/webhooks/subscriptions",
        body={"name": "市委组织部 OA", "url": "http://127.0.0.1:9/hooks", "event_types": ["*"]},
        settings={"delivery_enabled": False, "webhook_allow_private": True},
    ),
]


def admin() -> dict[str, str]:
    return principal_headers(roles=["city_admin"], scope="ningbo", sub="u-admin")


@pytest.fixture(params=CASES, ids=lambda c: c.service)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def client(case: Case, database_url: Callable[[str], Any]) -> AsyncIterator[httpx.AsyncClient]:
    info = BY_NAME[case.service]
    settings = info.settings(
        database_url=await database_url(f"api_{case.service}"),
        environment="test",
        outbox_enabled=False,
        **case.settings,
    )
    kwargs: dict[str, Any] = {"clock": FrozenClock()}
    if case.service != "notify":
        kwargs["http_transport"] = httpx.MockTransport(peers)
    app = info.main().build_app(settings, **kwargs)
    async with running_app(app) as c:
        yield c


def named(response: httpx.Response, where: str, name: str) -> bool:
    return any(e.get("loc") == [where, name] for e in response.json().get("errors", []))


class TestUnknownInput:
    async def test_an_unknown_query_parameter_is_refused_by_name(self, case: Case, client: httpx.AsyncClient):
        r = await client.get(case.listing, params={"colour": "red"}, headers=admin())
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert named(r, "query", "colour"), r.text

    async def test_a_declared_query_parameter_is_accepted(self, case: Case, client: httpx.AsyncClient):
        r = await client.get(case.listing, params={"limit": 5}, headers=admin())
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"items", "total", "limit", "offset"} and r.json()["limit"] == 5

    async def test_an_unknown_body_field_is_refused_by_name(self, case: Case, client: httpx.AsyncClient):
        r = await client.request(
            case.method, case.create, json={**case.body, "not_applicable": True}, headers=admin()
        )
        assert r.status_code == 422, r.text
        assert named(r, "body", "not_applicable"), r.text
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "not_applicable"]], (
            "only the extra is wrong"
        )


class TestDatetimes:
    async def test_response_datetimes_are_utc_with_z(self, case: Case, client: httpx.AsyncClient):
        for path, body in case.setup:
            made = await client.post(path, json=body, headers=admin())
            assert made.status_code == 201, made.text
        created = await client.request(case.method, case.create, json=case.body, headers=admin())
        assert created.status_code in (200, 201), created.text
        listed = await client.get(case.listing, headers=admin())
        found = [*datetimes(created.json(), "created"), *datetimes(listed.json(), "listed")]
        assert found, "the response carries no datetime to check"
        assert [(at, v) for at, v in found if not v.endswith("Z")] == []
