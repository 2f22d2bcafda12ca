"""Bad input is a 4xx problem naming what is wrong, never a 500, and nothing is written."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.sampling.conftest import ADMIN, drawn_round, import_json

CSV = "text/csv"
TOO_BIG = 2**63


async def _count(client: httpx.AsyncClient, path: str = "/sites") -> int:
    return int((await client.get(path, params={"limit": 1}, headers=ADMIN)).json()["total"])


def _problem(r: httpx.Response, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return dict(r.json())


class TestControlCharacters:
    @pytest.mark.parametrize("name", ["东吴\x00村", "bell\x07", "esc\x1b[31m", "del\x7f"])
    async def test_create_site_refuses_them_and_writes_nothing(self, city, name):
        before = await _count(city)
        body = {"code": "330212001088", "type": "village", "name": name, "parent_code": "330212001"}
        _problem(await city.post("/sites", json=body, headers=ADMIN))
        assert await _count(city) == before

    async def test_update_site_refuses_them(self, city):
        site = (await city.get("/sites/by-code/330212001001", headers=ADMIN)).json()
        _problem(await city.patch(f"/sites/{site['id']}", json={"tags": ["ok", "x\x00"]}, headers=ADMIN))
        assert (await city.get(f"/sites/{site['id']}", headers=ADMIN)).json()["tags"] == site["tags"]

    async def test_inspector_create_and_update_refuse_them(self, city):
        body = {"user_id": "u-nul", "name": "督查\x00员", "home_district": "yinzhou"}
        _problem(await city.post("/inspectors", json=body, headers=ADMIN))
        _problem(await city.patch("/inspectors/1", json={"name": "x\x0b"}, headers=ADMIN))
        assert (await city.get("/inspectors/1", headers=ADMIN)).json()["name"] == "督查员1"

    async def test_round_text_refuses_them(self, city):
        body = {"code": "2026Q1", "plan": {"quotas": [{"group": "institution", "per": "city", "count": 1}]}}
        body |= {"visit_start_on": "2026-04-06", "title": "标题\x00"}
        _problem(await city.post("/rounds", json=body, headers=ADMIN))
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).status_code == 404

    async def test_a_csv_import_names_the_line_and_writes_nothing(self, city):
        before = await _count(city)
        text = (
            "code,type,name,parent_code\n"
            "330212001081,village,好村,330212001\n"
            "330212001082,village,坏\x00村,330212001\n"
        )
        r = await city.post("/sites/import", content=text.encode(), headers={**ADMIN, "content-type": CSV})
        errors = _problem(r)["errors"]
        assert [(e["line"], e["column"]) for e in errors] == [(3, "name")]
        assert "U+0000" in errors[0]["reason"]
        assert await _count(city) == before

    async def test_an_inspector_import_names_the_line_and_writes_nothing(self, city):
        rows = [
            {"user_id": "u-a", "name": "甲", "home_district": "yinzhou"},
            {"user_id": "u-b", "name": "乙\x01丙", "home_district": "yinzhou"},
        ]
        errors = _problem(await import_json(city, "/inspectors/import", rows))["errors"]
        assert [(e["line"], e["column"]) for e in errors] == [(2, "name")]
        assert await _count(city, "/inspectors") == 12


class TestJsonImport:
    async def test_deep_nesting_is_a_problem_not_a_500(self, city):
        deep = "[" * 100_000 + "]" * 100_000
        r = await city.post(
            "/sites/import", content=deep.encode(), headers={**ADMIN, "content-type": "application/json"}
        )
        assert 400 <= r.status_code < 500
        assert r.headers["content-type"] == "application/problem+json"

    async def test_nesting_inside_a_row_names_the_row(self, city):
        before = await _count(city)
        nested: object = "x"
        for _ in range(60):
            nested = [nested]
        rows = [
            {
                "code": "330212001083",
                "type": "village",
                "name": "村",
                "parent_code": "330212001",
                "tags": nested,
            }
        ]
        errors = _problem(await import_json(city, "/sites/import", rows))["errors"]
        assert [(e["line"], e["column"]) for e in errors] == [(1, "tags")]
        assert await _count(city) == before

    @pytest.mark.parametrize("value", [TOO_BIG, {"a": 1}])
    async def test_a_huge_integer_or_an_object_in_a_field_names_the_row(self, city, value):
        rows = [{"code": "330212001084", "type": "village", "name": value, "parent_code": "330212001"}]
        r = await city.post(
            "/sites/import", content=json.dumps(rows), headers={**ADMIN, "content-type": "application/json"}
        )
        errors = _problem(r)["errors"]
        assert [(e["line"], e["column"]) for e in errors] == [(1, "name")]
        assert (await city.get("/sites/by-code/330212001084", headers=ADMIN)).status_code == 404


class TestBoundedNumbers:
    @pytest.mark.parametrize(
        "path",
        [
            f"/sites/{TOO_BIG}",
            f"/inspectors/{TOO_BIG}",
            f"/rounds/2026Q1/draws/{TOO_BIG}",
            f"/sites?offset={TOO_BIG}",
            f"/inspectors?offset={TOO_BIG}",
            f"/rounds?offset={TOO_BIG}",
            f"/rounds/2026Q1/assignments?offset={TOO_BIG}",
            f"/rounds/2026Q1/assignments?team_id={TOO_BIG}",
            f"/me/assignments?offset={TOO_BIG}",
        ],
    )
    async def test_ids_and_offsets_beyond_64_bits_are_422(self, city, path):
        if "2026Q1" in path:
            await drawn_round(city)
        problem = _problem(await city.get(path, headers=ADMIN))
        assert problem["errors"]

    async def test_writes_to_a_huge_id_are_422(self, city):
        _problem(await city.patch(f"/sites/{TOO_BIG}", json={"name": "x"}, headers=ADMIN))
        _problem(await city.delete(f"/sites/{TOO_BIG}", headers=ADMIN))
        _problem(await city.patch(f"/inspectors/{TOO_BIG}", json={"name": "x"}, headers=ADMIN))
