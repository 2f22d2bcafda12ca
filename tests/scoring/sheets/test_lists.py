"""A round's sheets filtered by site, team and status and sorted; a sheet's history paged; unknown fields refused."""

import pytest

from tests.scoring.conftest import (
    ROUND,
    TEAM,
    act,
    as_admin,
    as_inspector,
    as_leader,
    filled_sheet,
    open_sheet,
    patch,
    problem,
    to_status,
)

VILLAGE, OTHER_VILLAGE, TOWN = "330212001201", "330212001202", "330212001"
TEAM2 = {**TEAM, "id": "T2", "name": "第二督查组"}


async def codes(client, headers=None, **params) -> list[str]:
    r = await client.get(f"/rounds/{ROUND}/sheets", params=params, headers=headers or as_admin())
    assert r.status_code == 200, r.text
    return [s["site"]["code"] for s in r.json()["items"]]


class TestListSheets:
    @pytest.fixture
    async def three(self, client, sampling):
        """A submitted village (team T1), a draft village and a draft town (team T2)."""
        sampling.draw(TOWN, team=TEAM2)
        await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        await open_sheet(client, OTHER_VILLAGE)
        await open_sheet(client, TOWN)

    async def test_filters_by_status_site_and_team(self, client, three):
        assert await codes(client, status="draft") == [TOWN, OTHER_VILLAGE]
        assert await codes(client, site_code=VILLAGE) == [VILLAGE]
        assert await codes(client, team_id="T2") == [TOWN]
        assert await codes(client, team_id="T1", status="submitted") == [VILLAGE]
        assert await codes(client, site_code="330212001299") == []

    async def test_team_filter_applies_to_a_team_member_too(self, client, three):
        assert await codes(client, as_inspector()) == [TOWN, VILLAGE, OTHER_VILLAGE]
        assert await codes(client, as_inspector(), team_id="T1") == [VILLAGE, OTHER_VILLAGE]

    async def test_sorts_by_a_named_field_either_way(self, client, three):
        assert await codes(client) == [TOWN, VILLAGE, OTHER_VILLAGE]
        assert await codes(client, sort="-site_code") == [OTHER_VILLAGE, VILLAGE, TOWN]
        # only the submitted village has a score: unscored sheets sort as lowest
        assert (await codes(client, sort="-score"))[0] == VILLAGE
        assert (await codes(client, sort="score"))[-1] == VILLAGE

    async def test_unknown_sort_or_filter_is_refused_naming_it(self, client, three):
        r = await client.get(f"/rounds/{ROUND}/sheets", params={"sort": "team"}, headers=as_admin())
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "sort"]
        r = await client.get(f"/rounds/{ROUND}/sheets", params={"site": VILLAGE}, headers=as_admin())
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "site"]
        r = await client.get(f"/rounds/{ROUND}/sheets", params={"status": "closed"}, headers=as_admin())
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "status"]


class TestHistory:
    async def test_is_a_page_oldest_first(self, client):
        sheet = await to_status(client, await filled_sheet(client, VILLAGE), "reviewed")
        url = f"/sheets/{sheet['id']}/history"
        whole = (await client.get(url, headers=as_leader())).json()
        assert [h["action"] for h in whole["items"]] == ["created", "updated", "submitted", "reviewed"]
        assert (whole["total"], whole["limit"], whole["offset"]) == (4, 50, 0)
        page = (await client.get(url, params={"limit": 2, "offset": 2}, headers=as_leader())).json()
        assert [h["version"] for h in page["items"]] == [3, 4] and page["total"] == 4
        status = page["items"][1]["changes"]["status"]
        assert status == {"before": "submitted", "after": "reviewed"}

    async def test_a_return_records_its_reason(self, client):
        sheet = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, sheet, "return", as_leader(), {"reason": "扣分依据需补充原始记录照片"})
        assert r.status_code == 200, r.text
        last = (await client.get(f"/sheets/{sheet['id']}/history", headers=as_leader())).json()["items"][-1]
        assert last["action"] == "returned" and last["changes"]["reason"] == "扣分依据需补充原始记录照片"


class TestUnknownFields:
    async def test_an_unknown_item_field_is_refused_and_nothing_saved(self, client):
        sheet = await open_sheet(client, VILLAGE)
        body = {"items": [{"item_code": "C01", "applicable": False, "notes": "不适用"}]}
        problem(await patch(client, sheet, body), "applicable")
        again = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert again["version"] == 1

    async def test_an_unknown_top_level_field_is_refused(self, client):
        sheet = await open_sheet(client, VILLAGE)
        problem(await patch(client, sheet, {"note": "拼错的字段"}), "note")
