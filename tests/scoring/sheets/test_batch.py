"""Opening a round's score sheets in one call (POST /rounds/{round}/sheets/batch): who may, which sites,
all or nothing with every refused site named, and sending it again opens nothing twice."""

import asyncio

import pytest

from services.kit.testing import principal_headers
from tests.scoring.conftest import (
    FULL_POLL,
    INSPECTOR,
    LEADER,
    LONG_TTL,
    NOT_DRAWN,
    OUTSIDER,
    ROUND,
    SITES,
    as_admin,
    as_district_admin,
    as_inspector,
    as_leader,
    full_items,
    open_sheet,
    patch,
    to_status,
)

VILLAGE, OTHER_VILLAGE, TOWN = "330212001201", "330212001202", "330212001"
HAISHU_STREET, HAISHU_COMMUNITY = "330203001", "330203001001"
TEAM2 = {"id": "T2", "name": "第二督查组", "leader_user_id": "u-leader2", "member_user_ids": ["u-insp3"]}
BATCH = f"/rounds/{ROUND}/sheets/batch"


@pytest.fixture
def two_teams(sampling):
    """Haishu's sites go to team T2; Yinzhou's stay with T1."""
    for code in (HAISHU_STREET, HAISHU_COMMUNITY, "330203"):
        sampling.draw(code, team=TEAM2)
    return sampling


def yinzhou_sites() -> list[str]:
    return sorted(c for c, s in SITES.items() if s["district"] == "yinzhou")


async def sheets_of_round(client) -> list[dict]:
    r = await client.get(f"/rounds/{ROUND}/sheets", params={"limit": 100}, headers=as_admin())
    assert r.status_code == 200
    return r.json()["items"]


def errors_of(r) -> list[dict]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/batch-rejected"
    return body["errors"]


class TestTeamMemberOpensTheirTeamsSheets:
    async def test_every_site_of_the_team_gets_a_draft_in_one_call(self, client, two_teams):
        r = await client.post(BATCH, json={}, headers=as_inspector())
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["round_code"] == ROUND and body["existing"] == []
        assert [s["site"]["code"] for s in body["created"]] == yinzhou_sites()
        assert all(s["status"] == "draft" and s["team_id"] == "T1" for s in body["created"])
        listed = await sheets_of_round(client)
        assert sorted(s["site"]["code"] for s in listed) == yinzhou_sites()

    async def test_a_batch_sheet_is_the_same_draft_a_single_call_opens(self, client):
        [created] = (await client.post(BATCH, json={"site_codes": [VILLAGE]}, headers=as_inspector())).json()[
            "created"
        ]
        sheet = (await client.get(f"/sheets/{created['id']}", headers=as_inspector())).json()
        assert len(sheet["items"]) == 22 and sheet["items"][0]["item_code"] == "C01"
        assert sheet["team"]["leader_user_id"] == LEADER and sheet["created_by"] == INSPECTOR
        assert (
            sheet["results"]["score"] is None and sheet["etag"] == created["etag"] == f'"{created["id"]}.1"'
        )
        history = (await client.get(f"/sheets/{created['id']}/history", headers=as_leader())).json()
        assert [(h["action"], h["actor"]) for h in history["items"]] == [("created", INSPECTOR)]
        rubric = await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())
        assert rubric.status_code == 200  # the batch bound the round to the default version

    async def test_listed_sites_are_opened_in_the_order_given(self, client):
        codes = [OTHER_VILLAGE, TOWN, VILLAGE]
        r = await client.post(BATCH, json={"site_codes": codes}, headers=as_leader())
        assert r.status_code == 201
        assert [s["site"]["code"] for s in r.json()["created"]] == codes
        assert len(await sheets_of_round(client)) == 3

    async def test_naming_their_own_team_is_the_same_as_naming_none(self, client, two_teams):
        r = await client.post(BATCH, json={"team_id": "T1"}, headers=as_inspector())
        assert r.status_code == 201
        assert [s["site"]["code"] for s in r.json()["created"]] == yinzhou_sites()

    async def test_a_body_may_be_left_out(self, client):
        r = await client.post(BATCH, headers=as_inspector())
        assert r.status_code == 201 and len(r.json()["created"]) == len(SITES)

    async def test_someone_in_no_team_opens_nothing(self, client):
        r = await client.post(BATCH, json={}, headers=as_inspector(OUTSIDER))
        assert r.status_code == 200 and r.json() == {"round_code": ROUND, "created": [], "existing": []}
        assert await sheets_of_round(client) == []


class TestSendingAgain:
    async def test_a_second_batch_opens_nothing_and_reports_every_sheet(self, client):
        first = (await client.post(BATCH, json={}, headers=as_inspector())).json()
        again = await client.post(BATCH, json={}, headers=as_inspector())
        assert again.status_code == 200
        assert again.json()["created"] == []
        assert {s["id"] for s in again.json()["existing"]} == {s["id"] for s in first["created"]}
        assert len(await sheets_of_round(client)) == len(SITES)

    async def test_sites_with_a_sheet_are_reported_with_its_state_and_the_rest_opened(self, client):
        by_hand = await open_sheet(client, VILLAGE)
        r = await client.post(BATCH, json={"site_codes": [TOWN, VILLAGE]}, headers=as_inspector())
        assert r.status_code == 201
        assert [s["site"]["code"] for s in r.json()["created"]] == [TOWN]
        assert r.json()["existing"] == [
            {"id": by_hand["id"], "site": SITES[VILLAGE], "team_id": "T1", "status": "draft"}
        ]
        # The existing sheet is left as it was (same version, same ETag).
        after = (await client.get(f"/sheets/{by_hand['id']}", headers=as_inspector())).json()
        assert after["etag"] == by_hand["etag"]

    async def test_two_batches_at_once_open_each_sheet_once(self, client):
        def post():
            return client.post(BATCH, json={}, headers=as_inspector())

        results = await asyncio.gather(post(), post())
        statuses = sorted(r.status_code for r in results)
        # The second either saw the first's sheets (200, all existing) or raced it to the same rows (409).
        assert statuses in ([200, 201], [201, 409]), [r.text for r in results]
        listed = await sheets_of_round(client)
        assert sorted(s["site"]["code"] for s in listed) == sorted(SITES)


class TestAllOrNothing:
    async def test_every_refused_site_is_named_by_index_and_code_and_nothing_is_opened(
        self, client, two_teams
    ):
        codes = [VILLAGE, NOT_DRAWN, HAISHU_COMMUNITY, TOWN, VILLAGE]
        r = await client.post(BATCH, json={"site_codes": codes}, headers=as_inspector())
        errors = errors_of(r)
        assert [(e["loc"], e["site_code"], e["type"]) for e in errors] == [
            (["body", "site_codes", 1], NOT_DRAWN, "not_drawn"),
            (["body", "site_codes", 2], HAISHU_COMMUNITY, "not_in_team"),
            (["body", "site_codes", 4], VILLAGE, "duplicate"),
        ]
        # People read the reasons in Chinese; the other team is named (a published assignment is no secret).
        assert "未在本轮" in errors[0]["msg"] and "T2" in errors[1]["msg"] and "第 1 项" in errors[2]["msg"]
        assert r.json()["detail"].startswith("3 of 5 site(s) refused")
        assert await sheets_of_round(client) == []
        assert (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).status_code == 404

    async def test_a_site_of_another_team_than_the_one_named_is_refused(self, client, two_teams):
        r = await client.post(
            BATCH, json={"team_id": "T2", "site_codes": [VILLAGE, HAISHU_COMMUNITY]}, headers=as_admin()
        )
        [error] = errors_of(r)
        assert error["loc"] == ["body", "site_codes", 0] and error["type"] == "other_team"
        assert await sheets_of_round(client) == []

    async def test_a_team_the_round_does_not_have_is_refused_naming_team_id(self, client):
        r = await client.post(BATCH, json={"team_id": "T9"}, headers=as_admin())
        [error] = errors_of(r)
        assert error["loc"] == ["body", "team_id"] and error["type"] == "team_unknown"

    async def test_a_site_type_the_rubric_does_not_score_fails_the_batch(self, client, sampling):
        sampling.drawn[(ROUND, VILLAGE)]["site"] = {**SITES[VILLAGE], "type": "cooperative"}
        r = await client.post(BATCH, json={"site_codes": [TOWN, VILLAGE]}, headers=as_inspector())
        [error] = errors_of(r)
        assert error["loc"] == ["body", "site_codes", 1] and error["type"] == "site_type_not_scored"
        assert await sheets_of_round(client) == []

    async def test_sampling_unreachable_fails_clearly_and_writes_nothing(self, client, sampling):
        sampling.down = True
        r = await client.post(BATCH, json={}, headers=as_inspector())
        assert r.status_code == 503 and r.json()["type"] == "/problems/sampling-unavailable"
        sampling.down = False
        assert await sheets_of_round(client) == []

    async def test_a_round_sampling_does_not_know_is_404(self, client):
        r = await client.post("/rounds/2031Q4/sheets/batch", json={}, headers=as_admin())
        assert r.status_code == 404 and r.json()["round_code"] == "2031Q4"


class TestWhoMay:
    async def test_a_city_admin_opens_every_teams_sheets(self, client, two_teams):
        r = await client.post(BATCH, json={}, headers=as_admin())
        assert r.status_code == 201
        created = r.json()["created"]
        assert sorted(s["site"]["code"] for s in created) == sorted(SITES)
        assert {s["team_id"] for s in created} == {"T1", "T2"}

    async def test_a_city_admin_may_open_one_teams_sheets(self, client, two_teams):
        r = await client.post(BATCH, json={"team_id": "T2"}, headers=as_admin())
        assert r.status_code == 201
        assert {s["site"]["district"] for s in r.json()["created"]} == {"haishu"}

    async def test_the_team_scores_what_a_city_admin_opened(self, client):
        [created] = (await client.post(BATCH, json={"site_codes": [VILLAGE]}, headers=as_admin())).json()[
            "created"
        ]
        sheet = (await client.get(f"/sheets/{created['id']}", headers=as_inspector())).json()
        assert sheet["created_by"] == "u-admin"
        r = await patch(client, sheet, {"items": full_items("village"), "poll": FULL_POLL})
        assert r.status_code == 200, r.text
        assert (await to_status(client, r.json(), "submitted"))["status"] == "submitted"

    async def test_a_city_admin_of_one_district_opens_only_its_sites(self, client, two_teams):
        haishu_admin = principal_headers(roles=["city_admin"], scope="ningbo/haishu", sub="u-h", ttl=LONG_TTL)
        r = await client.post(BATCH, json={}, headers=haishu_admin)
        assert {s["site"]["district"] for s in r.json()["created"]} == {"haishu"}
        # A site outside the scope is refused exactly like one that was not drawn.
        r = await client.post(BATCH, json={"site_codes": [VILLAGE, NOT_DRAWN]}, headers=haishu_admin)
        outside, missing = errors_of(r)
        assert outside["type"] == missing["type"] == "not_drawn"
        assert outside["msg"].replace(VILLAGE, "X") == missing["msg"].replace(NOT_DRAWN, "X")

    async def test_a_team_member_may_not_name_another_team(self, client, two_teams):
        r = await client.post(BATCH, json={"team_id": "T2"}, headers=as_inspector())
        assert r.status_code == 403 and r.json()["type"] == "/problems/not-in-team"
        assert await sheets_of_round(client) == []

    @pytest.mark.parametrize(
        "headers",
        [
            lambda: as_district_admin("yinzhou"),
            lambda: principal_headers(roles=["leader"], scope="ningbo", sub="u-leader", ttl=LONG_TTL),
            lambda: principal_headers(roles=["system"], scope="ningbo", sub="key-1", ttl=LONG_TTL),
            lambda: principal_headers(roles=["responsible"], scope="ningbo", sub="u-r", ttl=LONG_TTL),
        ],
        ids=["district_admin", "leader", "system", "responsible"],
    )
    async def test_other_roles_are_refused(self, client, headers):
        r = await client.post(BATCH, json={}, headers=headers())
        assert r.status_code == 403
        assert await sheets_of_round(client) == []


class TestInput:
    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"site_codes": []}, ["body", "site_codes"]),
            ({"site_codes": ["330212 001"]}, ["body", "site_codes", 0]),
            ({"site_codes": ["V\u0000"]}, ["body", "site_codes", 0]),
            ({"team_id": ""}, ["body", "team_id"]),
            ({"sites": [VILLAGE]}, ["body", "sites"]),
            ({"site_codes": [VILLAGE] * 1001}, ["body", "site_codes"]),
        ],
        ids=["empty-list", "space", "nul", "empty-team", "unknown-field", "too-many"],
    )
    async def test_a_malformed_body_names_the_field(self, client, body, loc):
        r = await client.post(BATCH, json=body, headers=as_inspector())
        assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error"
        assert loc in [e["loc"] for e in r.json()["errors"]]
        assert await sheets_of_round(client) == []
