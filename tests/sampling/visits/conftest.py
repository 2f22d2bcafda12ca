"""Helpers of the visit tests (the app, city and round fixtures are tests/sampling/conftest.py's)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from services.kit.testing import principal_headers
from services.kit.workdays import WorkCalendar
from tests.sampling.conftest import ADMIN

CAL = WorkCalendar()


async def assignments(client: httpx.AsyncClient, code: str = "2026Q1") -> list[dict[str, Any]]:
    r = await client.get(f"/rounds/{code}/assignments", params={"limit": 500}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def teams(client: httpx.AsyncClient, code: str = "2026Q1") -> list[dict[str, Any]]:
    r = await client.get(f"/rounds/{code}/teams", headers=ADMIN)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def load(rows: list[dict[str, Any]]) -> Counter[tuple[int, str]]:
    """Visits per (team id, day)."""
    return Counter((a["team"]["id"], a["visit_on"]) for a in rows)


def person(user_id: str, role: str = "inspector", scope: str = "ningbo") -> dict[str, str]:
    return principal_headers(roles=[role], scope=scope, sub=user_id)
