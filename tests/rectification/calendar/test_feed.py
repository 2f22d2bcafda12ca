"""The iCalendar feed of a person's milestones, and its secret token."""

from icalendar import Calendar

from tests.rectification.conftest import (
    ZHANG,
    create,
)


class TestCalendarFeed:
    async def test_feed_lists_open_milestones_without_the_gateway_principal(self, client):
        p = await create(client, severity="severe")
        r = await client.post("/calendar-token", headers=ZHANG)
        assert r.status_code == 200
        token = r.json()["token"]
        assert r.json()["url"].endswith(f"/calendar/{token}.ics")
        r = await client.get(f"/calendar/{token}.ics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(r.content)
        vevents = cal.walk("VEVENT")
        assert {str(e["uid"]) for e in vevents} == {
            f"problem-{p['id']}-plan@rectification",
            f"problem-{p['id']}-midterm@rectification",
            f"problem-{p['id']}-completion@rectification",
        }
        completion = next(e for e in vevents if "completion" in str(e["uid"]))
        assert completion.decoded("dtstart").isoformat() == "2026-01-12"
        assert "天童村" in str(completion["summary"])

    async def test_unknown_or_rotated_token_is_404(self, client):
        old = (await client.post("/calendar-token", headers=ZHANG)).json()["token"]
        new = (await client.post("/calendar-token", headers=ZHANG)).json()["token"]
        assert (await client.get(f"/calendar/{old}.ics")).status_code == 404
        assert (await client.get(f"/calendar/{new}.ics")).status_code == 200
        assert (await client.get("/calendar/" + "x" * 43 + ".ics")).status_code == 404

    async def test_token_is_stored_hashed(self, client):
        from sqlalchemy import select

        from services.rectification.models import CalendarToken

        token = (await client.post("/calendar-token", headers=ZHANG)).json()["token"]
        async with client.app.state.sessionmaker() as s:
            stored = (await s.execute(select(CalendarToken.__table__.c.token_hash))).scalar_one()
        assert stored != token
        assert len(stored) == 64
