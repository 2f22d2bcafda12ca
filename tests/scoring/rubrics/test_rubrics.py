"""Rubric versions over HTTP: drafting, validation on publish, freezing, binding rounds."""

import copy

import pytest
from sqlalchemy import func, select

from services.scoring.models import Rubric
from services.scoring.rubric import default_definition
from tests.scoring.conftest import ROUND, as_admin, as_inspector, open_sheet, problem


class TestRubricEndpoints:
    async def test_default_is_published_and_listed(self, client):
        r = await client.get("/rubrics", headers=as_inspector())
        assert r.status_code == 200
        [default] = r.json()["items"]
        assert (default["version"], default["status"], default["is_default"]) == ("2026.1", "published", True)
        full = (await client.get(f"/rubrics/{default['id']}", headers=as_inspector())).json()
        assert full["item_count"] == 42

    async def test_city_admin_drafts_edits_and_publishes_a_new_version(self, client):
        r = await client.post("/rubrics", json={"version": "2026.2"}, headers=as_admin())
        assert r.status_code == 201
        draft = r.json()
        assert draft["status"] == "draft" and draft["based_on_id"] == 1
        doc = draft["definition"]
        # move two points from C01 to C03 and shift the village weights
        doc["sections"][2]["items"][0]["points"] = 6
        doc["sections"][2]["items"][2]["points"] = 10
        doc["section_weights"]["village"] = {"C": 60, "D": 40}
        r = await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin())
        assert r.status_code == 200
        r = await client.post(
            f"/rubrics/{draft['id']}/publish", json={"make_default": True}, headers=as_admin()
        )
        assert r.status_code == 200, r.text
        published = r.json()
        assert (
            published["status"] == "published"
            and published["is_default"]
            and len(published["definition_sha256"]) == 64
        )
        old = (await client.get("/rubrics/1", headers=as_admin())).json()
        assert old["is_default"] is False

    async def test_publishing_an_invalid_draft_names_the_field_and_changes_nothing(self, client):
        draft = (await client.post("/rubrics", json={"version": "bad"}, headers=as_admin())).json()
        doc = draft["definition"]
        doc["section_weights"]["town"] = {"B": 70, "D": 40}
        await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin())
        r = await client.post(f"/rubrics/{draft['id']}/publish", json={}, headers=as_admin())
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"] == "/problems/rubric-invalid"
        assert body["errors"][0]["loc"] == ["definition", "section_weights", "town"]
        after = (await client.get(f"/rubrics/{draft['id']}", headers=as_admin())).json()
        assert after["status"] == "draft" and after["published_at"] is None
        assert (await client.get("/rubrics/1", headers=as_admin())).json()["is_default"] is True

    async def test_published_version_is_frozen(self, client):
        doc = default_definition()
        r = await client.put("/rubrics/1", json={"definition": doc}, headers=as_admin())
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/rubric-frozen"

    async def test_malformed_draft_document_is_refused_with_field(self, client):
        draft = (await client.post("/rubrics", json={"version": "2026.3"}, headers=as_admin())).json()
        doc = copy.deepcopy(draft["definition"])
        doc["sections"][0]["items"][0]["points"] = "ten"
        r = await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin())
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "definition", "sections", 0, "items", 0, "points"]

    async def test_duplicate_version_is_refused(self, client):
        r = await client.post("/rubrics", json={"version": "2026.1"}, headers=as_admin())
        assert r.status_code == 409

    async def test_only_city_admin_may_draft(self, client):
        r = await client.post("/rubrics", json={"version": "x"}, headers=as_inspector())
        assert r.status_code == 403


class TestRoundBinding:
    async def test_first_sheet_binds_the_default_and_round_keeps_it(self, client):
        await open_sheet(client, "330212001201")
        r = await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())
        assert r.status_code == 200 and r.json()["rubric_version"] == "2026.1"
        # a newer default does not move a round that already has sheets
        draft = (await client.post("/rubrics", json={"version": "2026.2"}, headers=as_admin())).json()
        await client.post(f"/rubrics/{draft['id']}/publish", json={"make_default": True}, headers=as_admin())
        r = await client.put(f"/rounds/{ROUND}/rubric", json={"rubric_id": draft["id"]}, headers=as_admin())
        assert r.status_code == 409 and r.json()["type"] == "/problems/round-rubric-locked"
        sheet = await open_sheet(client, "330212001202")
        assert sheet["rubric_version"] == "2026.1"

    async def test_admin_binds_a_new_round_to_a_published_version(self, client):
        draft = (await client.post("/rubrics", json={"version": "2026.2"}, headers=as_admin())).json()
        r = await client.put("/rounds/2026Q2/rubric", json={"rubric_id": draft["id"]}, headers=as_admin())
        assert r.status_code == 422  # a draft cannot be bound
        await client.post(f"/rubrics/{draft['id']}/publish", json={"make_default": False}, headers=as_admin())
        r = await client.put("/rounds/2026Q2/rubric", json={"rubric_id": draft["id"]}, headers=as_admin())
        assert r.status_code == 200 and r.json()["rubric_version"] == "2026.2"


# DESIGN.md section 5, verbatim: the default rubric must match it item for item.


class TestRubricBodies:
    async def _count(self, client) -> int:
        async with client.app.state.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Rubric))).scalar_one())

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"version": "2099\x00"}, "version"),
            ({"version": "2099.1", "name": "新版\x07"}, "name"),
            ({"version": "2099.1", "based_on_id": 2**63}, "based_on_id"),
            ({"version": "2099.1", "based_on_id": 2**40}, "based_on_id"),
        ],
    )
    async def test_draft_refused_naming_the_field(self, client, body, field):
        before = await self._count(client)
        problem(await client.post("/rubrics", json=body, headers=as_admin()), field)
        assert await self._count(client) == before

    async def test_definition_with_nul_or_deep_nesting(self, client):
        draft = (await client.post("/rubrics", json={"version": "2099.3"}, headers=as_admin())).json()
        doc = {**draft["definition"], "name": "测评\x00体系"}
        problem(
            await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin()),
            "definition",
        )
        deep: dict = {}
        for _ in range(40):
            deep = {"x": deep}
        doc = {**draft["definition"], "extra": deep}
        problem(
            await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin()),
            "definition",
        )
        assert (await client.get(f"/rubrics/{draft['id']}", headers=as_admin())).json()[
            "definition"
        ] == draft["definition"]

    @pytest.mark.parametrize("rubric_id", [2**40, 2**63])
    async def test_binding_an_unknown_or_huge_rubric_id(self, client, rubric_id):
        r = await client.put("/rounds/2099Q1/rubric", json={"rubric_id": rubric_id}, headers=as_admin())
        problem(r, "rubric_id")
        assert (await client.get("/rounds/2099Q1/rubric", headers=as_admin())).status_code == 404
