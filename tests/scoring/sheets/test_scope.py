"""Scope of sheets: lists, reads and writes hold only what the caller's scope (or team) covers; a sheet
outside it answers exactly like a missing one."""

import uuid

import pytest

from tests.scoring.conftest import ROUND, as_district_admin
from tests.scoring.scope import (
    CALLER_IDS,
    CALLERS,
    YINZHOU_VILLAGE,
    headers,
    without,
)


@pytest.fixture
def client(scope_world, module_client):
    return module_client


class TestSheetsInScope:
    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_list_holds_only_sheets_inside_the_scope(self, client, scope_world, who, make, districts):
        r = await client.get(f"/rounds/{ROUND}/sheets", headers=make())
        assert r.status_code == 200
        assert {s["site"]["district"] for s in r.json()["items"]} == districts
        assert r.json()["total"] == sum(1 for s in scope_world.values() if s["site"]["district"] in districts)

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    @pytest.mark.parametrize("suffix", ["", "/history", "/content"])
    async def test_out_of_scope_sheet_answers_exactly_like_a_missing_one(
        self, client, scope_world, who, make, districts, suffix
    ):
        missing_id = str(uuid.uuid4())
        missing = await client.get(f"/sheets/{missing_id}{suffix}", headers=make())
        assert missing.status_code == 404
        for sheet in scope_world.values():
            r = await client.get(f"/sheets/{sheet['id']}{suffix}", headers=make())
            if sheet["site"]["district"] in districts:
                assert r.status_code == 200, (who, sheet["site"]["code"])
            else:
                assert r.status_code == 404
                assert r.headers["content-type"] == missing.headers["content-type"]
                assert without(r.json(), sheet["id"]) == without(missing.json(), missing_id)

    async def test_district_admin_cannot_narrow_the_list_to_another_district(self, client):
        r = await client.get(
            f"/rounds/{ROUND}/sheets", params={"district": "haishu"}, headers=as_district_admin("yinzhou")
        )
        assert r.status_code == 200 and r.json()["total"] == 0


class TestWritesInScope:
    async def test_city_admin_outside_scope_cannot_return_a_sheet(self, client, scope_world):
        sheet = scope_world[YINZHOU_VILLAGE]
        r = await client.post(
            f"/sheets/{sheet['id']}/return",
            json={"reason": "重评"},
            headers={**headers("city_admin", "ningbo/haishu"), "If-Match": sheet["etag"]},
        )
        assert r.status_code == 404 and r.json()["type"] == "/problems/sheet-not-found"


# --- what each person receives when results are published -----------------------------------------
