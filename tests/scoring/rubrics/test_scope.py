"""Rubric versions and round bindings are the city's: a district-scoped caller changes none of them."""

import pytest
from sqlalchemy import func, select

from services.scoring.models import Rubric
from tests.scoring.conftest import ROUND, as_admin
from tests.scoring.scope import headers


@pytest.fixture
def client(scope_world, module_client):
    return module_client


class TestCityWideActions:
    """Rubric versions and round bindings concern the whole city."""

    DISTRICT_CITY_ADMIN = staticmethod(lambda: headers("city_admin", "ningbo/yinzhou"))

    async def _rubric_count(self, client) -> int:
        async with client.app.state.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Rubric))).scalar_one())

    async def test_district_scoped_city_admin_cannot_draft_edit_publish_or_bind(self, client):
        before = await self._rubric_count(client)
        r = await client.post("/rubrics", json={"version": "2099.1"}, headers=self.DISTRICT_CITY_ADMIN())
        assert r.status_code == 403
        assert await self._rubric_count(client) == before
        draft = await client.post("/rubrics", json={"version": "2099.2"}, headers=as_admin())
        assert draft.status_code == 201
        rid = draft.json()["id"]
        try:
            r = await client.put(
                f"/rubrics/{rid}",
                json={"definition": draft.json()["definition"]},
                headers=self.DISTRICT_CITY_ADMIN(),
            )
            assert r.status_code == 403
            r = await client.post(f"/rubrics/{rid}/publish", json={}, headers=self.DISTRICT_CITY_ADMIN())
            assert r.status_code == 403
            assert (await client.get(f"/rubrics/{rid}", headers=as_admin())).json()["status"] == "draft"
            current = (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).json()
            r = await client.put(
                f"/rounds/{ROUND}/rubric",
                json={"rubric_id": current["rubric_id"]},
                headers=self.DISTRICT_CITY_ADMIN(),
            )
            assert r.status_code == 403
            after = (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).json()
            assert after["bound_at"] == current["bound_at"]
        finally:
            async with client.app.state.engine.begin() as conn:
                await conn.execute(Rubric.__table__.delete().where(Rubric.__table__.c.id == rid))  # type: ignore[attr-defined]
