"""`sampling.round.drawn`: every draw, redraw, publication and move of a visit (team or day) sends
reporting one full snapshot of the round's current draw, in the same transaction, with a revision that
only grows; every district of the city comes with its Chinese name, every visit with its team's name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx

from services.kit import events as catalogue
from services.sampling import events
from services.sampling.models import Assignment, Round, Team
from tests.sampling.conftest import ADMIN, DISTRICTS, drawn_round, outbox_rows, round_body
from tests.sampling.visits.conftest import assignments, teams

DRAWN = "sampling.round.drawn"


async def snapshots(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    rows = [r for r in await outbox_rows(client) if r["event_type"] == DRAWN]
    for r in rows:
        assert (r["target"], r["path"]) == ("reporting", "/events")
    rows.sort(key=lambda r: (r["created_at"], r["payload"]["revision"]))
    return [r["payload"] for r in rows]


async def test_a_draw_sends_the_whole_sample_with_district_names_and_team_names(city):
    record = await drawn_round(city)
    [fact] = await snapshots(city)
    assert catalogue.validate(DRAWN, fact) == 1
    rnd = (await city.get("/rounds/2026Q1", headers=ADMIN)).json()
    assert (fact["round_code"], fact["name"], fact["year"], fact["quarter"], fact["revision"]) == (
        "2026Q1",
        rnd["title"],
        2026,
        1,
        1,
    )
    assert fact["drawn_at"] == datetime.fromisoformat(record["drawn_at"].replace("Z", "+00:00")).isoformat()
    # Every district and zone of the directory, named as the directory names it (city_rows: 「<slug>区」).
    assert fact["districts"] == [{"code": slug, "name": f"{slug}区"} for slug in sorted(DISTRICTS)]
    rows = await assignments(city)
    team_names = {str(t["id"]): t["name"] for t in await teams(city)}
    assert [v["site"]["code"] for v in fact["visits"]] == sorted(a["site"]["code"] for a in rows)
    by_code = {a["site"]["code"]: a for a in rows}
    for v in fact["visits"]:
        a = by_code[v["site"]["code"]]
        assert v["site"] == a["site"]
        assert (v["team_id"], v["visit_on"], v["follow_up"]) == (str(a["team"]["id"]), a["visit_on"], False)
        assert v["team_name"] == team_names[v["team_id"]]


async def test_publishing_redrawing_and_moving_each_send_the_next_revision(city):
    await drawn_round(city, publish=True)
    assert [f["revision"] for f in await snapshots(city)] == [1, 2]
    rows = await assignments(city)
    # Move one visit to another day of its window (same team).
    a = next(
        a
        for a in rows
        for other in rows
        if other["team"]["id"] == a["team"]["id"] and other["visit_on"] != a["visit_on"]
    )
    day = next(
        o["visit_on"]
        for o in rows
        if o["team"]["id"] == a["team"]["id"]
        and o["visit_on"] != a["visit_on"]
        and o["visit_from"] == a["visit_from"]
    )
    r = await city.patch(
        f"/rounds/2026Q1/assignments/{a['site']['code']}",
        json={"visit_on": day, "reason": "调整"},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    got = await snapshots(city)
    assert [f["revision"] for f in got] == [1, 2, 3]
    moved = next(v for v in got[-1]["visits"] if v["site"]["code"] == a["site"]["code"])
    assert moved["visit_on"] == day
    r = await city.post(
        "/rounds/2026Q1/draws", json={"public_value": "99", "reason": "地区边界调整"}, headers=ADMIN
    )
    assert r.status_code == 201, r.text
    got = await snapshots(city)
    assert [f["revision"] for f in got] == [1, 2, 3, 4]
    new = {a["site"]["code"] for a in await assignments(city)}
    assert {v["site"]["code"] for v in got[-1]["visits"]} == new


async def test_rescheduling_a_drawn_round_sends_its_new_days_and_a_refused_change_nothing(city):
    await drawn_round(city)
    r = await city.put(
        "/rounds/2026Q1/visit-plan",
        json={"visit_start_on": "2026-09-28", "visit_days_per_district": 3, "max_visits_per_day": 4},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    got = await snapshots(city)
    assert [f["revision"] for f in got] == [1, 2]
    assert min(v["visit_on"] for v in got[-1]["visits"]) >= "2026-09-28"
    assert {v["visit_on"] for v in got[-1]["visits"]} == {a["visit_on"] for a in await assignments(city)}
    refused = await city.put(
        "/rounds/2026Q1/visit-plan",
        json={"visit_days_per_district": 1, "max_visits_per_day": 1},
        headers=ADMIN,
    )
    assert refused.status_code == 422
    assert [f["revision"] for f in await snapshots(city)] == [1, 2]


async def test_a_round_not_drawn_yet_sends_nothing(city):
    assert (await city.post("/rounds", json=round_body(), headers=ADMIN)).status_code == 201
    assert (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).status_code == 200
    assert await snapshots(city) == []


def test_the_builder_is_pure_and_names_districts_the_directory_lacks_by_their_slug():
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    rnd = Round(
        id=1,
        code="2026Q3-extra",
        title="2026年第三季度专项督查（补充）",
        status="drawn",
        districts=["cixi", "yinzhou"],
        plan={},
        visit_start_on=date(2026, 7, 6),
        created_by="u-admin",
        created_at=now,
        revision=5,
    )
    team = Team(
        id=7,
        round_id=1,
        draw_id=1,
        number=1,
        name="第一组",
        leader_user_id="u-l",
        member_user_ids=[],
        districts=[],
    )
    visit = Assignment(
        round_id=1,
        draw_id=1,
        site_code="330282001",
        site_name="浒山街道",
        site_type="street",
        org_unit="ningbo/cixi/330282001",
        district="cixi",
        follow_up=True,
        team_id=7,
        visit_from=date(2026, 7, 6),
        visit_to=date(2026, 7, 7),
        visit_on=date(2026, 7, 7),
    )
    fact = events.round_drawn_fact(
        rnd, drawn_at=now, teams=[team], visits=[visit], district_names={"cixi": "慈溪市"}
    )
    assert catalogue.validate(DRAWN, fact) == 1
    assert (fact["year"], fact["quarter"], fact["revision"]) == (2026, 3, 5)
    assert fact["districts"] == [{"code": "cixi", "name": "慈溪市"}, {"code": "yinzhou", "name": "yinzhou"}]
    assert fact["visits"] == [
        {
            "site": {
                "code": "330282001",
                "name": "浒山街道",
                "type": "street",
                "org_unit": "ningbo/cixi/330282001",
                "district": "cixi",
            },
            "team_id": "7",
            "team_name": "第一组",
            "visit_on": "2026-07-07",
            "follow_up": True,
        }
    ]
