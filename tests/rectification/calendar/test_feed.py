"""The iCalendar feed of a person's milestones, and its secret token."""

from datetime import UTC, datetime

from icalendar import Calendar

from services.rectification.calendar.service import beijing_time, public_base_url, reminder_moment
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
        assert completion.decoded("dtstart").isoformat() == "2026-01-12T23:59:59+08:00"
        assert "天童村" in str(completion["summary"])

    async def test_deadlines_are_beijing_times_with_their_vtimezone(self, client):
        await create(client, severity="severe")
        token = (await client.post("/calendar-token", headers=ZHANG)).json()["token"]
        body = (await client.get(f"/calendar/{token}.ics")).content.decode()
        # What a calendar app reads: local times named by TZID, never UTC, and the zone defined.
        assert "DTSTART;TZID=Asia/Shanghai:20260112T235959" in body
        lines = body.replace("\r\n ", "").split("\r\n")
        assert not [line for line in lines if line.startswith("DTSTART") and line.endswith("Z")]
        assert "截止：2026年1月12日 23:59（北京时间）" in body.replace("\r\n ", "")
        cal = Calendar.from_ical(body)
        (zone,) = cal.walk("VTIMEZONE")
        assert str(zone["tzid"]) == "Asia/Shanghai"
        (standard,) = zone.walk("STANDARD")
        assert standard.to_ical().decode().count("TZOFFSETTO:+0800") == 1
        completion = next(e for e in cal.walk("VEVENT") if "completion" in str(e["uid"]))
        (alarm,) = completion.walk("VALARM")
        # 09:00 Beijing time the day before the deadline's day.
        assert alarm.decoded("trigger") == datetime(2026, 1, 11, 1, 0, tzinfo=UTC)

    async def test_feed_url_starts_at_the_gateways_public_url(self, client):
        headers = {
            **ZHANG,
            "x-gateway-public-url": "https://dangjian.example.gov.cn:9443",
            "x-forwarded-prefix": "/api/v1/rectification",
        }
        r = await client.post("/calendar-token", headers=headers)
        token = r.json()["token"]
        assert r.json()["url"] == (
            f"https://dangjian.example.gov.cn:9443/api/v1/rectification/calendar/{token}.ics"
        )

    async def test_feed_url_without_the_gateway_uses_the_configured_base(self, client):
        r = await client.post("/calendar-token", headers=ZHANG)
        base = client.app.state.settings.calendar_base_url.rstrip("/")
        assert r.json()["url"] == f"{base}/calendar/{r.json()['token']}.ics"

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


class TestPublicBaseUrl:
    def test_gateway_public_url_and_prefix_make_the_base(self):
        assert (
            public_base_url(
                gateway_url="http://10.0.0.5:9000/",
                prefix="/api/v1/rectification",
                configured="http://x:8000/a",
            )
            == "http://10.0.0.5:9000/api/v1/rectification"
        )

    def test_a_public_url_with_a_path_keeps_it(self):
        assert (
            public_base_url(
                gateway_url="https://gov.example.cn/dangjian",
                prefix="/api/v1/rectification",
                configured="http://x:8000/a",
            )
            == "https://gov.example.cn/dangjian/api/v1/rectification"
        )

    def test_missing_or_malformed_headers_fall_back_to_the_configured_base(self):
        configured = "https://configured.example.cn/api/v1/rectification/"
        expected = configured.rstrip("/")
        assert public_base_url(gateway_url=None, prefix=None, configured=configured) == expected
        assert public_base_url(gateway_url="http://a:1", prefix=None, configured=configured) == expected
        assert (
            public_base_url(
                gateway_url="javascript:alert(1)", prefix="/api/v1/rectification", configured=configured
            )
            == expected
        )


class TestBeijingTime:
    def test_a_utc_moment_reads_as_beijing_time(self):
        assert (
            beijing_time(datetime(2026, 1, 12, 15, 59, 59, tzinfo=UTC)) == "2026年1月12日 23:59（北京时间）"
        )


class TestReminderMoment:
    def test_reminder_is_nine_in_the_morning_beijing_time_the_day_before(self):
        due = datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)  # 1 March 23:59:59 in Beijing
        assert reminder_moment(due) == datetime(2026, 2, 28, 1, 0, tzinfo=UTC)
