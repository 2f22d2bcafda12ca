"""Callers and helpers shared by the scope tests of every notify entity (tests/notify/*/test_access.py)."""

from __future__ import annotations

from typing import Any

from tests.notify.conftest import ADMIN, Caller

YINZHOU_KEY = Caller(roles=["system"], scope="ningbo/yinzhou", sub="apikey:7", kind="api_key")
CITY_KEY = Caller(roles=["system"], scope="ningbo", sub="apikey:1", kind="api_key")
YINZHOU_ADMIN = Caller(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yinzhou-admin")
# Seven underscores: as an unescaped LIKE pattern it would match "yinzhou" (and every 7-letter district).
WILDCARD_KEY = Caller(roles=["system"], scope="ningbo/_______", sub="apikey:9", kind="api_key")
HOOK = "http://127.0.0.1:9/hook"


def problem(r: Any) -> dict[str, Any]:
    """The problem body without the parts that name the request."""
    body = dict(r.json())
    for k in ("instance", "request_id"):
        body.pop(k, None)
    return body


async def pending(notify: Any, headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    r = await notify.client.get("/deliveries?status=pending&limit=500", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
