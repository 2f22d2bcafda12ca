"""Scope says where, for every role: `system` API keys and city admins included.

A caller sees only problems whose site lies inside its scope, in lists, single reads, every action,
statistics, the bulletin and calendar feeds; a problem outside it answers exactly like a missing one.
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar

from tests.rectification.conftest import (
    CITY,
    CITY_KEY,
    EVIDENCE,
    HAISHU,
    HAISHU_SITE,
    YINZHOU,
    YINZHOU_KEY,
    ZHANG,
    SignedAs,
    create,
)
from tests.rectification.problems.test_lifecycle import act, history

WILDCARD = SignedAs(roles=["district_admin"], scope="ningbo/_______", sub="u-wild")
WILDCARD_KEY = SignedAs(roles=["system"], scope="ningbo/_______", sub="key:wild", kind="api_key")
PERCENT_KEY = SignedAs(roles=["system"], scope="ningbo/%", sub="key:percent", kind="api_key")
EMPTY_KEY = SignedAs(roles=["system"], scope="", sub="key:empty", kind="api_key")
EMPTY_ADMIN = SignedAs(roles=["city_admin"], scope="", sub="u-nowhere")
NOBODY = (WILDCARD, WILDCARD_KEY, PERCENT_KEY, EMPTY_KEY, EMPTY_ADMIN)


async def two_districts(client, clock) -> tuple[dict[str, Any], dict[str, Any]]:
    """One Yinzhou and one Haishu problem, both overdue by 14 January."""
    yinzhou = await create(client, severity="severe")
    haishu = await create(client, CITY, site=HAISHU_SITE, responsible_person=None, severity="severe")
    clock.set(datetime(2026, 1, 14, 1, 0, tzinfo=UTC))
    return yinzhou, haishu


async def ids(client, headers, path="/problems") -> list[int]:
    r = await client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    key = "problem_id" if path.startswith("/bulletin") else "id"
    return sorted(p[key] for p in r.json()["items"])


def without_place(body: dict[str, Any], problem_id: int) -> dict[str, Any]:
    """A 404 body with the id it names and the request's own fields taken out."""
    return {
        k: (v.replace(str(problem_id), "<id>") if isinstance(v, str) else v)
        for k, v in body.items()
        if k not in ("instance", "request_id", "problem_id")
    }


class TestLists:
    async def test_a_district_system_key_sees_only_its_district(self, client, clock):
        yinzhou, haishu = await two_districts(client, clock)
        assert await ids(client, YINZHOU_KEY) == [yinzhou["id"]]
        assert await ids(client, YINZHOU_KEY, "/bulletin/overdue") == [yinzhou["id"]]
        stats = (await client.get("/stats/districts", headers=YINZHOU_KEY)).json()["items"]
        assert [d["district"] for d in stats] == ["yinzhou"]
        # The city-wide key is the city's integration: both districts.
        assert await ids(client, CITY_KEY) == sorted([yinzhou["id"], haishu["id"]])

    @pytest.mark.parametrize("who", range(len(NOBODY)))
    async def test_wildcard_or_empty_scope_sees_nothing(self, client, clock, who):
        await two_districts(client, clock)
        headers = NOBODY[who]
        r = await client.get("/problems", headers=headers)
        assert (r.status_code, r.json()["total"], r.json()["items"]) == (200, 0, [])
        assert await ids(client, headers, "/bulletin/overdue") == []
        assert (await client.get("/stats/districts", headers=headers)).json()["items"] == []

    async def test_district_filter_cannot_widen_the_scope(self, client, clock):
        await two_districts(client, clock)
        r = await client.get("/problems", params={"district": "haishu"}, headers=YINZHOU_KEY)
        assert r.json()["total"] == 0
        r = await client.get("/bulletin/overdue", params={"district": "haishu"}, headers=YINZHOU)
        assert r.json()["total"] == 0


class TestOutOfScopeAnswersAsMissing:
    async def test_read_of_another_districts_problem_is_the_missing_answer(self, client, clock):
        _, haishu = await two_districts(client, clock)
        missing = await client.get("/problems/999999", headers=YINZHOU_KEY)
        assert missing.status_code == 404
        for headers in (YINZHOU_KEY, YINZHOU, WILDCARD_KEY, EMPTY_KEY):
            r = await client.get(f"/problems/{haishu['id']}", headers=headers)
            assert r.status_code == 404
            assert without_place(r.json(), haishu["id"]) == without_place(missing.json(), 999999)
            assert "haishu" not in r.text
        assert (await client.get(f"/problems/{haishu['id']}", headers=HAISHU)).status_code == 200

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("GET", "/history", None),
            ("GET", "/extensions", None),
            ("POST", "/start", {"plan": "x"}),
            ("POST", "/progress", {"note": "x"}),
            ("POST", "/submit", {"note": "x", "evidence": EVIDENCE}),
            ("POST", "/close", {}),
            ("POST", "/return", {"reason": "x"}),
            ("POST", "/assign", {"responsible_person": {"user_id": "u-zhang-wei"}}),
            ("POST", "/extensions", {"reason": "x", "new_deadline_on": "2026-03-01"}),
            ("POST", "/extensions/1/decision", {"approve": True}),
        ],
    )
    async def test_every_action_on_another_districts_problem_is_404_and_writes_nothing(
        self, client, clock, method, suffix, body
    ):
        _, haishu = await two_districts(client, clock)
        before = await history(client, haishu["id"])
        # (A `system` key lacks the roles of the actions: 403 from the role check, whatever the id.)
        for headers in (YINZHOU, WILDCARD, *((YINZHOU_KEY,) if method == "GET" else ())):
            r = await client.request(method, f"/problems/{haishu['id']}{suffix}", json=body, headers=headers)
            assert r.status_code == 404, (headers, r.text)
            assert r.json()["type"] == "/problems/problem-not-found"
        assert await history(client, haishu["id"]) == before


class TestMyProblemsAndFeeds:
    async def test_my_problems_stay_inside_the_callers_scope(self, client):
        mine = await create(client)
        assert await ids(client, ZHANG, "/my/problems") == [mine["id"]]
        elsewhere = SignedAs(roles=["responsible"], scope="ningbo/haishu", sub="u-zhang-wei")
        assert await ids(client, elsewhere, "/my/problems") == []
        wild = SignedAs(roles=["responsible"], scope="ningbo/_______", sub="u-zhang-wei")
        assert await ids(client, wild, "/my/problems") == []

    async def test_calendar_feed_shows_only_the_issuers_scope(self, client):
        await create(client, severity="severe")

        async def feed_events(headers) -> int:
            token = (await client.post("/calendar-token", headers=headers)).json()["token"]
            r = await client.get(f"/calendar/{token}.ics")
            assert r.status_code == 200
            return len(Calendar.from_ical(r.content).walk("VEVENT"))

        assert await feed_events(ZHANG) == 3
        for scope in ("ningbo/haishu", "ningbo/_______", ""):
            other = SignedAs(roles=["responsible"], scope=scope, sub="u-zhang-wei")
            assert await feed_events(other) == 0, scope

    async def test_a_system_key_cannot_act_on_problems(self, client):
        p = await create(client)
        r = await act(client, p["id"], "start", {"plan": "x"}, YINZHOU_KEY)
        assert r.status_code == 403
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "open"


class TestCityWideSettings:
    async def test_a_city_admin_scoped_to_a_district_cannot_change_city_wide_settings(self, client):
        district_city_admin = SignedAs(roles=["city_admin"], scope="ningbo/yinzhou", sub="u-odd")
        template = {"plan_days": 1, "midterm_percent": 50, "completion_days": 2, "verification_days": 1}
        r = await client.put("/schedule-templates/severe", json=template, headers=district_city_admin)
        assert r.status_code == 403
        calendar = {"holidays": ["2027-01-01"], "workdays": []}
        r = await client.put("/holiday-calendar/2027", json=calendar, headers=district_city_admin)
        assert r.status_code == 403
        templates = (await client.get("/schedule-templates", headers=CITY)).json()["items"]
        assert not any(t["customised"] for t in templates)
        assert (await client.get("/holiday-calendar/2027", headers=CITY)).json()["source"] == "fallback"
        assert (
            await client.put("/schedule-templates/severe", json=template, headers=CITY)
        ).status_code == 200
