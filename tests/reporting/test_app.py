from __future__ import annotations

from tests.reporting.conftest import ADMIN, Harness


async def test_ready_at_the_head_revision(reporting: Harness) -> None:
    r = await reporting.client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"


async def test_whoami_needs_a_principal(reporting: Harness) -> None:
    assert (await reporting.client.get("/whoami")).status_code == 401
    r = await reporting.client.get("/whoami", headers=ADMIN)
    assert r.status_code == 200, r.text
