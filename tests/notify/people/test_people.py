"""Directory and preferences: masking, channels per event type, quiet hours, daily digest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.kit.testing import principal_headers
from services.notify.digest import digest_once
from tests.notify.conftest import ADMIN, Caller

ME = Caller(roles=["responsible"], scope="ningbo/yinzhou", sub="u-a")


def _channels(deliveries: list[dict]) -> dict[str, str]:
    return {d["channel"]: d["status"] for d in deliveries}


class TestDirectory:
    async def test_list_masks_phone_and_email(self, notify):
        await notify.person("u-a", phone="13812345678", email="zhangwei@yinzhou.gov.cn")
        r = await notify.client.get("/people", headers=ADMIN)
        [p] = r.json()["items"]
        assert p["phone"] == "138****5678"
        assert p["email"] == "z***@yinzhou.gov.cn"
        one = await notify.client.get("/people/u-a", headers=ADMIN)
        assert one.json()["phone"] == "138****5678"

    async def test_district_admin_lists_only_their_scope(self, notify):
        await notify.person("u-yz", org_unit="ningbo/yinzhou/dongwu", roles=["responsible"])
        await notify.person("u-hs", org_unit="ningbo/haishu")
        r = await notify.client.get(
            "/people?role=responsible",
            headers=principal_headers(roles=["district_admin"], scope="ningbo/yinzhou"),
        )
        assert [p["user_id"] for p in r.json()["items"]] == ["u-yz"]

    async def test_bad_contact_points_name_the_field(self, notify):
        r = await notify.client.put(
            "/people/u-x", json={"name": "x", "org_unit": "ningbo", "phone": "call me"}, headers=ADMIN
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "phone"]

    async def test_an_unknown_role_is_refused_in_a_person_and_in_the_filter(self, notify):
        r = await notify.client.put(
            "/people/u-x", json={"name": "x", "org_unit": "ningbo", "roles": ["chairman"]}, headers=ADMIN
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "roles", 0]
        r = await notify.client.get("/people?role=chairman", headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "role"]


class TestPreferences:
    async def test_person_chooses_channels_per_event_type(self, notify):
        await notify.person("u-a")
        r = await notify.client.patch(
            "/people/u-a/preferences",
            json={"channels": {"rectification.problem.overdue": ["sms"], "*": ["inbox"]}},
            headers=ME,
        )
        assert r.status_code == 200, r.text
        a = await notify.event(
            "p1", "rectification.problem.overdue", recipients=[{"kind": "person", "user_id": "u-a"}]
        )
        b = await notify.event(
            "p2", "rectification.problem.closed", recipients=[{"kind": "person", "user_id": "u-a"}]
        )
        assert a.json()["deliveries"] == {"inbox": 0, "email": 0, "sms": 1, "webhook": 0}
        assert b.json()["deliveries"] == {"inbox": 1, "email": 0, "sms": 0, "webhook": 0}

    async def test_someone_else_may_not_change_my_preferences(self, notify):
        await notify.person("u-a")
        other = principal_headers(roles=["responsible"], sub="u-b")
        r = await notify.client.patch("/people/u-a/preferences", json={"digest_enabled": True}, headers=other)
        assert r.status_code == 403

    async def test_unknown_event_type_or_time_zone_is_refused(self, notify):
        await notify.person("u-a")
        r = await notify.prefs("u-a", channels={"no.such.event": ["sms"]})
        assert r.status_code == 422
        r = await notify.prefs("u-a", timezone="Mars/Olympus")
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "timezone"]
        r = await notify.prefs("u-a", quiet_start="25:00", quiet_end="07:00")
        assert r.status_code == 422


class TestQuietHours:
    @pytest.fixture
    async def sleeper(self, notify):
        await notify.person("u-a")
        await notify.prefs(
            "u-a", quiet_start="22:00", quiet_end="07:00", channels={"*": ["inbox", "email", "sms"]}
        )
        notify.clock.set(datetime(2026, 3, 2, 15, 30, tzinfo=UTC))  # 23:30 in Ningbo
        return notify

    async def test_sms_and_email_wait_until_quiet_hours_end_but_inbox_does_not(
        self, sleeper, receiver, monkeypatch
    ):
        notify = sleeper
        notify.app.state.settings.sms_url = receiver.sms_url
        r = await notify.event(
            "q1", "rectification.problem.closed", recipients=[{"kind": "person", "user_id": "u-a"}]
        )
        assert r.status_code == 202
        ds = {d["channel"]: d for d in await notify.deliveries("q1")}
        assert ds["sms"]["next_attempt_at"] == "2026-03-02T23:00:00Z"  # 07:00 next morning in Ningbo
        assert ds["email"]["next_attempt_at"] == "2026-03-02T23:00:00Z"
        await notify.deliver()
        ds = {d["channel"]: d for d in await notify.deliveries("q1")}
        assert (ds["inbox"]["status"], ds["sms"]["status"]) == ("sent", "pending")
        notify.clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
        notify.app.state.settings.smtp_port = (
            9  # email fails (nobody listens) and retries; not the point here
        )
        await notify.deliver()
        ds = {d["channel"]: d for d in await notify.deliveries("q1")}
        assert ds["sms"]["status"] == "sent"
        assert len((await receiver.received())["sms"]) == 1

    async def test_urgent_messages_ignore_quiet_hours(self, sleeper):
        notify = sleeper
        await notify.event(
            "q2",
            "rectification.problem.overdue",
            recipients=[{"kind": "person", "user_id": "u-a"}],
            priority="urgent",
        )
        ds = {d["channel"]: d for d in await notify.deliveries("q2")}
        assert ds["sms"]["next_attempt_at"] == "2026-03-02T15:30:00Z"


class TestDigest:
    async def test_non_urgent_messages_are_gathered_into_one_at_the_digest_time(self, notify):
        await notify.person("u-a", phone=None)
        await notify.prefs("u-a", digest_enabled=True, digest_at="18:00")
        for i in range(3):
            await notify.event(
                f"d{i}",
                "rectification.problem.closed",
                recipients=[{"kind": "person", "user_id": "u-a"}],
                title=f"问题{i}",
            )
        await notify.event(
            "d-urgent",
            "rectification.problem.overdue",
            recipients=[{"kind": "person", "user_id": "u-a"}],
            priority="urgent",
        )
        assert _channels(await notify.deliveries("d0")) == {"inbox": "pending", "email": "held"}
        assert _channels(await notify.deliveries("d-urgent"))["email"] == "pending"
        assert await digest_once(notify.app) == 0  # 10:00 local: not yet
        notify.clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # 18:00 in Ningbo
        assert await digest_once(notify.app) == 3
        assert await digest_once(notify.app) == 0  # once a day
        assert _channels(await notify.deliveries("d1"))["email"] == "digested"
        [digest] = await notify.deliveries("digest-u-a-2026-03-02")
        r = await notify.client.get("/deliveries?status=pending&channel=email", headers=ADMIN)
        subjects = [d for d in r.json()["items"] if d["notification_id"].startswith("digest-")]
        assert len(subjects) == 1 and digest["channel"] == "email"
        n = await notify.client.get("/notifications/digest-u-a-2026-03-02", headers=ADMIN)
        assert n.json()["data"] == {"count": 3}

    async def test_turning_the_digest_off_releases_what_was_held(self, notify):
        await notify.person("u-a", phone=None)
        await notify.prefs("u-a", digest_enabled=True)
        await notify.event(
            "h1", "rectification.problem.closed", recipients=[{"kind": "person", "user_id": "u-a"}]
        )
        assert _channels(await notify.deliveries("h1"))["email"] == "held"
        await notify.prefs("u-a", digest_enabled=False)
        assert _channels(await notify.deliveries("h1"))["email"] == "pending"


class TestDemoData:
    async def test_demo_directory_is_valid_and_covers_every_district(self, notify):
        from services.notify.demo import DISTRICTS, people

        for user_id, body in people():
            r = await notify.client.put(f"/people/{user_id}", json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
        admins = (await notify.client.get("/people?role=district_admin&limit=500", headers=ADMIN)).json()
        assert admins["total"] == len(DISTRICTS) == 16
