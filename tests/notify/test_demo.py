"""notify's demo directory: every person in one transaction, not a request each; a second load
creates nobody."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx

from services.notify import demo
from tests.notify.conftest import ADMIN, Harness


@contextlib.contextmanager
def http_requests() -> Iterator[list[str]]:
    """Every request any httpx client of this process sends while inside (method and path)."""
    seen: list[str] = []
    send = httpx.AsyncClient.send

    async def counting(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return await send(self, request, **kw)

    with mock.patch.object(httpx.AsyncClient, "send", counting):
        yield seen


async def test_loads_the_whole_directory_without_a_request_per_person(notify: Harness) -> None:
    settings = notify.app.state.settings
    with http_requests() as sent:
        first = await demo.load(settings, now=notify.clock.now())
        again = await demo.load(settings, now=notify.clock.now())
    assert sent == [], "the directory is written in one transaction, not PUT person by person"
    everyone = dict(demo.people())
    assert first == {"created": len(everyone), "updated": 0}
    assert again == {"created": 0, "updated": len(everyone)}
    listing = (await notify.client.get("/people", params={"limit": 200}, headers=ADMIN)).json()
    assert listing["total"] == len(everyone)
    by_id = {p["user_id"]: p for p in listing["items"]}
    # What PUT /people/{id} would have stored: the same rules, masked contact points on the way out.
    admin = by_id["u-admin"]
    assert admin["name"] == "市委组织部督查办" and admin["roles"] == ["city_admin"] and admin["is_contact"]
    assert admin["email"] == "d***@example.gov.cn"
    assert by_id["u-insp-01"]["roles"] == ["inspector", "team_leader"]
    assert by_id["u-haishu-responsible"]["org_unit"] == "ningbo/haishu"
