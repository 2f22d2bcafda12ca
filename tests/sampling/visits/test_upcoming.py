"""The evening-before reminder (sampling.visit.upcoming): held back until 18:00 Beijing time the day
before, taken back and enqueued again when the schedule changes; and visit days in the other events."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update

from services.kit import outbox
from services.sampling.models import outbox_event
from services.sampling.schedule import evening_before
from tests.sampling.conftest import ADMIN, drawn_round, outbox_rows
from tests.sampling.visits.conftest import assignments, teams

UPCOMING = "sampling.visit.upcoming"
FIELDS = {
    "recipients",
    "priority",
    "round_code",
    "name",
    "org_unit",
    "district",
    "team",
    "visit_on",
    "visits",
    "link",
}


async def upcoming(client) -> list[dict[str, Any]]:
    return [r for r in await outbox_rows(client) if r["event_type"] == UPCOMING]


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def relay(client) -> int:
    cfg = outbox.RelayConfig(table=outbox_event, targets={"notify": "http://notify"}, source="sampling")
    return await outbox.relay_once(client.app, cfg)


class TestAtPublication:
    async def test_one_reminder_per_team_and_day_held_until_the_evening_before(self, city):
        await drawn_round(city, publish=True)
        rows = await assignments(city)
        tms = {t["id"]: t for t in await teams(city)}
        want: dict[tuple[int, str], list[str]] = defaultdict(list)
        for a in rows:
            want[(tms[a["team"]["id"]]["number"], a["visit_on"])].append(a["site"]["code"])
        events = await upcoming(city)
        assert len(events) == len(want)
        for e in events:
            p = e["payload"]
            assert set(p) == FIELDS
            day = date.fromisoformat(p["visit_on"])
            assert (
                as_utc(e["next_attempt_at"])
                == evening_before(day)
                == datetime.combine(day - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
                + timedelta(hours=10)
            )
            assert e["target"] == "notify" and e["path"] == "/events" and e["status"] == "pending"
            team = tms[p["team"]["id"]]
            assert [v["site"]["code"] for v in p["visits"]] == sorted(want[(team["number"], p["visit_on"])])
            assert all(set(v) == {"site", "follow_up"} for v in p["visits"])
            assert p["team"]["number"] == team["number"] and p["team"]["districts"] == team["districts"]
            assert p["recipients"] == [
                {"kind": "person", "user_id": u} for u in [team["leader_user_id"], *team["member_user_ids"]]
            ]
            assert p["org_unit"] == "ningbo" and p["district"] is None and p["priority"] == "normal"
            assert p["round_code"] == "2026Q1" and p["name"]
            assert (
                p["link"]
                == f"http://127.0.0.1:8000/api/v1/sampling/rounds/2026Q1/teams/{team['number']}/visits"
            )

    async def test_published_lists_visit_days_sorted(self, city):
        await drawn_round(city, publish=True)
        team_events = [
            r["payload"]
            for r in await outbox_rows(city)
            if r["event_type"] == "sampling.round.published" and r["payload"]["audience"] == "team"
        ]
        by_code = {a["site"]["code"]: a["visit_on"] for a in await assignments(city)}
        for p in team_events:
            keys = [(v["visit_on"], v["site"]["code"]) for v in p["visits"]]
            assert keys == sorted(keys) and all(by_code[c] == d for d, c in keys)
            assert all(v["visit_from"] <= v["visit_on"] <= v["visit_to"] for v in p["visits"])

    async def test_the_relay_sends_a_reminder_only_from_its_evening(self, city, peers, clock):
        await drawn_round(city, publish=True)
        first = min(date.fromisoformat(e["payload"]["visit_on"]) for e in await upcoming(city))
        await relay(city)
        assert [e["type"] for e in peers.events].count(UPCOMING) == 0
        clock.set(evening_before(first) - timedelta(seconds=1))
        await relay(city)
        assert [e["type"] for e in peers.events].count(UPCOMING) == 0
        clock.set(evening_before(first))
        await relay(city)
        sent = [e for e in peers.events if e["type"] == UPCOMING]
        assert sent and {e["data"]["visit_on"] for e in sent} == {first.isoformat()}


class TestScheduleChanges:
    async def test_a_moved_visit_takes_back_the_unsent_reminders_and_enqueues_the_new_schedule(
        self, city, clock
    ):
        await drawn_round(city, publish=True)
        before = {e["id"] for e in await upcoming(city)}
        rows = await assignments(city)
        a = rows[0]
        window = [d for d in (date.fromisoformat(a["visit_from"]) + timedelta(days=i) for i in range(3))]
        target = next(
            d.isoformat() for d in window if d.isoformat() != a["visit_on"] and d.isoformat() <= a["visit_to"]
        )
        clock.advance(hours=1)
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{a['site']['code']}",
            json={"visit_on": target, "reason": "被检单位另有安排"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        after = await upcoming(city)
        assert not before & {e["id"] for e in after}, "the held-back reminders were taken back"
        assert all(as_utc(e["created_at"]) == clock.now() for e in after)
        day_events = [e["payload"] for e in after if e["payload"]["team"]["id"] == a["team"]["id"]]
        assert any(
            e["visit_on"] == target and a["site"]["code"] in [v["site"]["code"] for v in e["visits"]]
            for e in day_events
        )
        assert not any(
            e["visit_on"] == a["visit_on"] and a["site"]["code"] in [v["site"]["code"] for v in e["visits"]]
            for e in day_events
        )
        [changed] = [
            e["payload"] for e in await outbox_rows(city) if e["event_type"] == "sampling.assignment.changed"
        ]
        assert changed["visit_on"] == target and changed["previous_visit_on"] == a["visit_on"]
        assert changed["visit_from"] == a["visit_from"] and changed["previous_visit_from"] == a["visit_from"]

    async def test_a_redraw_and_closing_take_the_reminders_back(self, city):
        await drawn_round(city, publish=True)
        assert await upcoming(city)
        r = await city.post(
            "/rounds/2026Q1/draws", json={"public_value": "99", "reason": "重抽"}, headers=ADMIN
        )
        assert r.status_code == 201, r.text
        assert await upcoming(city) == []
        assert (await city.post("/rounds/2026Q1/publish", headers=ADMIN)).status_code == 200
        assert await upcoming(city)
        assert (await city.post("/rounds/2026Q1/close", headers=ADMIN)).status_code == 200
        assert await upcoming(city) == []

    async def test_after_the_evening_a_sent_reminder_is_repeated_only_if_its_day_changed(self, city, clock):
        await drawn_round(city, publish=True)
        events = await upcoming(city)
        first = min(e["payload"]["visit_on"] for e in events)
        todays = [e for e in events if e["payload"]["visit_on"] == first]
        # 19:00 the evening before the first day: its reminders went out.
        clock.set(evening_before(date.fromisoformat(first)) + timedelta(hours=1))
        async with city.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            await conn.execute(
                update(outbox_event)
                .where(outbox_event.c.id.in_([e["id"] for e in todays]))
                .values(status="sent", attempts=1, sent_at=clock.now())
            )
        # A visit of another day moves within its window, not touching the first day: nothing is repeated.
        rows = await assignments(city)
        later = next(a for a in rows if a["visit_on"] != first and a["visit_on"] != a["visit_to"])
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{later['site']['code']}",
            json={"visit_on": later["visit_to"], "reason": "调整"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        fresh = [e for e in await upcoming(city) if e["status"] == "pending"]
        assert all(e["payload"]["visit_on"] != first for e in fresh)
        assert all(as_utc(e["next_attempt_at"]) > clock.now() for e in fresh)
        # A visit of the first day moves to its second day: the first day's team hears again, now.
        moved = next(a for a in rows if a["visit_on"] == first and a["visit_to"] != first)
        r = await city.patch(
            f"/rounds/2026Q1/assignments/{moved['site']['code']}",
            json={"visit_on": moved["visit_to"], "reason": "调整"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        again = [
            e for e in await upcoming(city) if e["status"] == "pending" and e["payload"]["visit_on"] == first
        ]
        assert len(again) == 1 and as_utc(again[0]["next_attempt_at"]) == clock.now()
        assert again[0]["payload"]["team"]["id"] == moved["team"]["id"]
        assert moved["site"]["code"] not in [v["site"]["code"] for v in again[0]["payload"]["visits"]]
