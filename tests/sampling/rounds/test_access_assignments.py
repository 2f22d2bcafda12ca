"""A caller scoped to one district sees only that district's visits."""

from __future__ import annotations

import pytest

from services.kit.testing import principal_headers
from services.sampling import demo
from tests.sampling.conftest import PrincipalAuth


@pytest.fixture
async def demo_client(client):
    client.auth = PrincipalAuth(roles=["city_admin"], scope="ningbo", sub="u-admin")
    await demo.load(client)
    client.auth = None
    return client


class TestAssignmentScope:
    async def test_leader_scoped_to_a_district_lists_only_its_visits(self, demo_client):
        r = await demo_client.get(
            "/rounds/2026Q1/assignments",
            params={"limit": 500},
            headers=principal_headers(roles=["leader"], scope="ningbo/yinzhou"),
        )
        assert r.status_code == 200
        items = r.json()["items"]
        assert items and {a["site"]["district"] for a in items} == {"yinzhou"}

    async def test_leader_scoped_to_a_district_cannot_read_another_districts_visit(self, demo_client):
        city = principal_headers(roles=["city_admin"], scope="ningbo")
        listing = (
            await demo_client.get(
                "/rounds/2026Q1/assignments", params={"district": "haishu", "limit": 1}, headers=city
            )
        ).json()
        code = listing["items"][0]["site"]["code"]
        mine = await demo_client.get(f"/rounds/2026Q1/assignments/{code}", headers=city)
        other = await demo_client.get(
            f"/rounds/2026Q1/assignments/{code}",
            headers=principal_headers(roles=["leader"], scope="ningbo/yinzhou"),
        )
        assert mine.status_code == 200
        assert other.status_code == 404
