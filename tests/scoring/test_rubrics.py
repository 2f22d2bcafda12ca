"""Rubric versions: the default's content, drafting, validation on publish, freezing, binding rounds."""

import copy

from services.scoring.rubric import default_definition, parse_definition, validate_definition
from tests.scoring.conftest import ROUND, as_admin, as_inspector, open_sheet


class TestDefaultRubric:
    def test_has_4_sections_and_42_items_each_section_100_points(self):
        rubric = parse_definition(default_definition())
        assert [(s.code, len(s.items), sum(i.points for i in s.items)) for s in rubric.sections] == [
            ("A", 10, 100),
            ("B", 10, 100),
            ("C", 14, 100),
            ("D", 8, 100),
        ]
        assert rubric.item_count() == 42
        assert validate_definition(rubric, base=[]) == []

    def test_titles_methods_and_special_items_match_the_design(self):
        rubric = parse_definition(default_definition())
        a09 = rubric.item("A09")
        assert (
            a09 is not None and a09.title == "村社换届准备与“一肩挑”人选排摸" and a09.methods == ["查", "谈"]
        )
        assert rubric.item("C13").title == "党员先锋模范作用（锋领行动）"
        d08 = rubric.item("D08")
        assert (d08.points, d08.scoring_type, d08.methods) == (20, "rate", ["问"])
        assert [i.code for s in rubric.sections for i in s.items if i.veto] == ["A10", "B10"]

    def test_section_weights_per_site_type(self):
        w = parse_definition(default_definition()).section_weights
        assert w["district"] == {"A": 100} and w["zone"] == {"A": 100}
        assert w["town"] == {"B": 60, "D": 40} and w["street"] == {"B": 60, "D": 40}
        assert w["village"] == {"C": 70, "D": 30} and w["community"] == {"C": 70, "D": 30}
        assert w["enterprise"] == w["social_org"] == w["institution"] == {"C": 100}


class TestValidateDefinition:
    def _errors(self, mutate):
        doc = default_definition()
        mutate(doc)
        return validate_definition(parse_definition(doc), base=["definition"])

    def test_section_not_summing_as_declared(self):
        errors = self._errors(lambda d: d["sections"][2]["items"][0].update(points=9))
        assert errors[0]["loc"] == ["definition", "sections", 2, "points"]

    def test_weights_not_summing_to_100(self):
        errors = self._errors(lambda d: d["section_weights"]["village"].update(C=60))
        assert errors[0]["loc"] == ["definition", "section_weights", "village"]

    def test_site_type_without_weights(self):
        errors = self._errors(lambda d: d["section_weights"].pop("institution"))
        assert errors[0]["loc"] == ["definition", "section_weights", "institution"]

    def test_duplicate_item_code(self):
        errors = self._errors(lambda d: d["sections"][1]["items"][0].update(code="A01"))
        assert errors[0]["loc"] == ["definition", "sections", 1, "items", 0, "code"]

    def test_unknown_scoring_type(self):
        errors = self._errors(lambda d: d["sections"][0]["items"][3].update(scoring_type="bonus"))
        assert errors[0]["loc"] == ["definition", "sections", 0, "items", 3, "scoring_type"]


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
