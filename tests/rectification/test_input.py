"""Bad input is a 422 problem naming what is wrong, never a 500, and nothing is written."""

import copy
import time

import jwt
import pytest

import services.kit.auth
from services.kit.auth import PRINCIPAL_HEADER
from services.kit.settings import DEV_PRINCIPAL_SECRET
from tests.rectification.conftest import (
    CITY,
    SYSTEM,
    YINZHOU,
    ZHANG,
    count_problems,
    create,
    problem_body,
)
from tests.rectification.findings.test_findings import FINDING, post
from tests.rectification.problems.test_lifecycle import act, history

HUGE = 2**63


class TestControlCharacters:
    @pytest.mark.parametrize("field", ["description", "category", "concerns"])
    async def test_nul_in_a_problem_is_refused(self, client, field):
        r = await client.post("/problems", json=problem_body(**{field: "记录\x00不全"}), headers=YINZHOU)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert field in r.text
        assert await count_problems(client) == 0

    async def test_control_character_in_nested_evidence_is_refused(self, client):
        evidence = [{"file_id": "f-photo-1", "note": "照片\x1b"}]
        r = await client.post("/problems", json=problem_body(evidence=evidence), headers=YINZHOU)
        assert r.status_code == 422
        assert await count_problems(client) == 0

    async def test_nul_in_a_transition_is_refused_and_nothing_written(self, client):
        p = await create(client)
        r = await act(client, p["id"], "start", {"plan": "方案\x00"}, ZHANG)
        assert r.status_code == 422
        assert await history(client, p["id"]) == [("created", None, "open")]

    async def test_nul_in_a_finding_is_refused(self, client):
        bad = copy.deepcopy(FINDING)
        bad["data"]["reason"] = "缺失\x00"
        r = await post(client, bad, headers=SYSTEM)
        assert r.status_code == 422
        assert await count_problems(client) == 0

    async def test_nul_in_a_query_filter_is_refused(self, client):
        for param in ("category", "site_code", "round_code", "responsible_person_id"):
            r = await client.get("/problems", params={param: "x\x00y"}, headers=CITY)
            assert r.status_code == 422, param
            assert r.json()["errors"][0]["loc"] == ["query", param]


class TestIntegerBounds:
    async def test_huge_problem_id_is_422(self, client):
        for path in (f"/problems/{HUGE}", f"/problems/{HUGE}/history", f"/problems/{HUGE}/extensions"):
            r = await client.get(path, headers=CITY)
            assert r.status_code == 422, (path, r.text)
            assert r.json()["errors"][0]["loc"] == ["path", "problem_id"]

    async def test_huge_extension_id_is_422(self, client):
        p = await create(client)
        r = await client.post(
            f"/problems/{p['id']}/extensions/{HUGE}/decision", json={"approve": True}, headers=CITY
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["path", "extension_id"]

    @pytest.mark.parametrize("path", ["/problems", "/my/problems", "/bulletin/overdue"])
    async def test_huge_offset_is_422(self, client, path):
        r = await client.get(path, params={"offset": HUGE}, headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "offset"]


class TestTestPrincipals:
    def test_module_principals_are_signed_when_a_request_reads_them(self, monkeypatch):
        # A token signed at import would carry the import time; the suite may reach a test minutes
        # later on a busy machine. Reading the headers signs now (here: an hour from now).
        later = time.time() + 3600
        monkeypatch.setattr(services.kit.auth.time, "time", lambda: later)
        claims = jwt.decode(
            CITY[PRINCIPAL_HEADER],
            DEV_PRINCIPAL_SECRET,
            algorithms=["HS256"],
            audience="services",
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["iat"] == int(later)
        assert dict(CITY).keys() == {PRINCIPAL_HEADER}
