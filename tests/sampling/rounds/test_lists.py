"""Lists of rounds: one envelope, filters by round and status, sort, typed records."""

from __future__ import annotations

from services.kit.testing import principal_headers
from services.sampling.rounds.schemas import DrawRecord
from tests.sampling.conftest import ADMIN, drawn_round, round_body


class TestListMyAssignments:
    async def test_round_code_keeps_only_that_rounds_visits(self, city):
        await drawn_round(city, "2026Q1", publish=True)
        await drawn_round(city, "2026Q2", publish=True)
        leader = (await city.get("/rounds/2026Q2/teams", headers=ADMIN)).json()["items"][0]["leader_user_id"]
        me = principal_headers(roles=["team_leader"], scope="ningbo", sub=leader)
        every = (await city.get("/me/assignments", params={"limit": 500}, headers=me)).json()
        q2 = (
            await city.get("/me/assignments", params={"round_code": "2026Q2", "limit": 500}, headers=me)
        ).json()
        assert q2["total"] > 0 and {a["round_code"] for a in q2["items"]} == {"2026Q2"}
        assert q2["total"] == sum(1 for a in every["items"] if a["round_code"] == "2026Q2")
        none = await city.get("/me/assignments", params={"round_code": "1999Q1"}, headers=me)
        assert none.status_code == 200 and none.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}

    async def test_an_unknown_query_parameter_is_refused_by_name(self, city):
        r = await city.get("/me/assignments", params={"round": "2026Q1"}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "round"]


class TestListRounds:
    async def test_status_filter_and_sort(self, city):
        await drawn_round(city, "2026Q1", publish=True)
        assert (await city.post("/rounds", json=round_body("2026Q2"), headers=ADMIN)).status_code == 201
        published = (await city.get("/rounds", params={"status": "published"}, headers=ADMIN)).json()
        assert [r["code"] for r in published["items"]] == ["2026Q1"] and published["total"] == 1
        newest = (await city.get("/rounds", headers=ADMIN)).json()["items"]
        oldest = (await city.get("/rounds", params={"sort": "code"}, headers=ADMIN)).json()["items"]
        assert [r["code"] for r in newest] == ["2026Q2", "2026Q1"]
        assert [r["code"] for r in oldest] == ["2026Q1", "2026Q2"]

    async def test_an_unknown_status_or_sort_is_refused(self, city):
        assert (await city.get("/rounds", params={"status": "done"}, headers=ADMIN)).status_code == 422
        assert (await city.get("/rounds", params={"sort": "title"}, headers=ADMIN)).status_code == 422


class TestDrawsAndTeams:
    async def test_are_page_envelopes_returned_whole(self, city):
        await drawn_round(city)
        draws = (await city.get("/rounds/2026Q1/draws", headers=ADMIN)).json()
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()
        assert (draws["total"], draws["limit"], draws["offset"], len(draws["items"])) == (1, 1, 0, 1)
        assert (teams["total"], teams["limit"], teams["offset"], len(teams["items"])) == (2, 2, 0, 2)

    async def test_the_exported_record_is_what_its_schema_says(self, city):
        record = await drawn_round(city, publish=True)
        typed = DrawRecord.model_validate(record)
        # A sampling-draw/1 record has no allocation keys at all (they are optional in the schema).
        assert typed.model_dump(mode="json", exclude_unset=True) == record
        assert "allocations" not in record["frame"] and "allocations" not in record["result"]
        assert record["drawn_at"].endswith("Z")
