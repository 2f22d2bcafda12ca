"""My problems, district statistics, the overdue bulletin and follow-up sites."""

from datetime import UTC, datetime

from tests.rectification.conftest import (
    CITY,
    CITY_KEY,
    EVIDENCE,
    HAISHU,
    LI_REF,
    SYSTEM,
    YINZHOU,
    ZHANG,
    create,
)
from tests.rectification.problems.test_lifecycle import act

HAISHU_SITE = {
    "code": "330203001",
    "name": "月湖街道",
    "type": "street",
    "org_unit": "ningbo/haishu/yuehu",
    "district": "haishu",
}


async def close_now(client, pid):
    await act(client, pid, "start", {"plan": "x"}, ZHANG)
    await act(client, pid, "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
    await act(client, pid, "close", {}, YINZHOU)


class TestMyProblems:
    async def test_sorted_by_urgency_and_only_mine(self, client):
        later = await create(client, severity="general")
        sooner = await create(client, severity="severe")
        middle = await create(client, deadline_on="2026-01-20")
        await create(client, responsible_person=LI_REF)
        done = await create(client)
        await close_now(client, done["id"])
        r = await client.get("/my/problems", headers=ZHANG)
        assert [p["id"] for p in r.json()["items"]] == [sooner["id"], middle["id"], later["id"]]
        assert [p["light"] for p in r.json()["items"]] == ["yellow", "green", "green"]
        r = await client.get("/my/problems", params={"include_closed": True}, headers=ZHANG)
        assert r.json()["total"] == 4


class TestDistrictStats:
    async def test_counts_per_district_category_and_severity(self, client, clock):
        a = await create(client, severity="severe", category="党费收缴")
        await create(client, category="三会一课")
        on_time = await create(client, category="三会一课")
        await close_now(client, on_time["id"])
        await create(client, CITY, site=HAISHU_SITE, responsible_person=None, severity="severe")
        clock.set(datetime(2026, 1, 14, 1, 0, tzinfo=UTC))  # severe deadlines (12 Jan) have passed
        late = await create(client, severity="severe", deadline_on="2026-01-15", category="阵地建设")
        clock.set(datetime(2026, 1, 17, 1, 0, tzinfo=UTC))
        await close_now(client, late["id"])
        r = await client.get("/stats/districts", headers=CITY)
        assert r.status_code == 200
        stats = {d["district"]: d for d in r.json()["items"]}
        y = stats["yinzhou"]
        assert (y["open"], y["overdue"], y["closed_on_time"], y["closed_late"]) == (2, 1, 1, 1)
        assert y["by_category"]["党费收缴"]["overdue"] == 1
        assert y["by_category"]["三会一课"] == {
            "open": 1,
            "overdue": 0,
            "closed_on_time": 1,
            "closed_late": 0,
        }
        assert y["by_severity"]["severe"]["closed_late"] == 1
        # Closed after 0 days and after 3 days.
        assert y["average_days_to_close"] == 1.5
        assert stats["haishu"]["overdue"] == 1
        assert a["district"] == "yinzhou"
        # A district admin sees only their district.
        r = await client.get("/stats/districts", headers=HAISHU)
        assert [d["district"] for d in r.json()["items"]] == ["haishu"]


class TestBulletin:
    async def test_lists_overdue_problems_most_overdue_first(self, client, clock):
        a = await create(client, severity="severe")
        b = await create(client, deadline_on="2026-01-08")
        await create(client)  # not overdue
        submitted = await create(client, severity="severe")
        await act(client, submitted["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, submitted["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
        clock.set(datetime(2026, 1, 14, 1, 0, tzinfo=UTC))
        r = await client.get("/bulletin/overdue", headers=CITY)
        assert r.status_code == 200
        items = r.json()["items"]
        assert [(i["problem_id"], i["days_overdue"]) for i in items] == [(b["id"], 6), (a["id"], 2)]
        assert items[0]["responsible_person"]["user_id"] == "u-zhang-wei"
        assert r.json()["total"] == 2
        assert (await client.get("/bulletin/overdue", headers=HAISHU)).json()["total"] == 0
        assert (await client.get("/bulletin/overdue", headers=ZHANG)).status_code == 403


class TestFollowUpSites:
    async def test_sites_with_overdue_problems(self, client, clock):
        await create(client, severity="severe")
        await create(client, severity="severe")
        await create(client, CITY, site=HAISHU_SITE, responsible_person=None)
        clock.set(datetime(2026, 1, 14, 1, 0, tzinfo=UTC))
        # Sampling asks for up to 500 at once (services/sampling/clients.py).
        r = await client.get("/follow-up-sites", params={"limit": 500}, headers=SYSTEM)
        assert r.status_code == 200
        assert r.json() == {
            "items": [{"site_code": "330212001001", "district": "yinzhou", "overdue_count": 2}],
            "total": 1,
            "limit": 500,
            "offset": 0,
        }
        # Internal: people and API keys (even city-wide ones) do not find the route.
        for headers in (YINZHOU, CITY, CITY_KEY):
            r = await client.get("/follow-up-sites", headers=headers)
            assert r.status_code == 404
            assert r.json()["title"] == "Not found"
