"""Managing a webhook subscription after creating it: update, delete, ping, replay, local receivers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.notify.access_support import YINZHOU_KEY
from tests.notify.conftest import ADMIN, T0, Harness
from tests.notify.subscriptions.conftest import subscribe

URL = "/webhooks/subscriptions"


async def webhook_deliveries(notify: Harness, sub_id: int, status: str | None = None) -> list[dict[str, Any]]:
    q = f"?status={status}&limit=500" if status else "?limit=500"
    r = await notify.client.get(f"{URL}/{sub_id}/deliveries{q}", headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


class TestUpdateSubscription:
    async def test_only_the_fields_sent_change(self, notify):
        sub = await subscribe(notify, event_types=["rectification.*"])
        r = await notify.client.patch(f"{URL}/{sub['id']}", json={"name": "宁波市OA"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "宁波市OA"
        assert r.json()["event_types"] == ["rectification.*"] and r.json()["url"] == sub["url"]
        again = (await notify.client.get(f"{URL}/{sub['id']}", headers=ADMIN)).json()
        assert again["name"] == "宁波市OA"

    async def test_new_event_types_decide_what_is_queued_next(self, notify):
        sub = await subscribe(notify, event_types=["scoring.*"])
        before = await notify.event("e1", "rectification.problem.created")
        assert before.json()["deliveries"]["webhook"] == 0
        r = await notify.client.patch(
            f"{URL}/{sub['id']}", json={"event_types": ["rectification.problem.*"]}, headers=ADMIN
        )
        assert r.status_code == 200, r.text
        after = await notify.event("e2", "rectification.problem.created")
        assert after.json()["deliveries"]["webhook"] == 1

    async def test_a_new_url_receives_the_deliveries_still_to_come(self, notify, receiver):
        sub = await subscribe(notify, secret=receiver.secret)  # an unreachable URL first
        await notify.event("queued", "rectification.problem.created")
        r = await notify.client.patch(f"{URL}/{sub['id']}", json={"url": receiver.hook_url}, headers=ADMIN)
        assert r.status_code == 200, r.text
        await notify.deliver()
        seen = await receiver.received()
        assert seen["ids"] == {"queued": 1} and seen["bad_signatures"] == 0
        [d] = await webhook_deliveries(notify, sub["id"])
        assert d["status"] == "sent" and d["destination"] == receiver.hook_url

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"url": "ftp://oa.example.cn/hook"}, ["body", "url"]),
            ({"url": "https://user:pw@oa.example.cn/hook"}, ["body", "url"]),
            ({"event_types": ["nothing.like.this"]}, ["body", "event_types", 0]),
            ({"event_types": []}, ["body", "event_types"]),
            ({"name": None}, ["body", "name"]),
            ({"secret": "whsec_x"}, ["body", "secret"]),
            ({}, ["body"]),
        ],
    )
    async def test_bad_input_is_refused_naming_the_field_and_nothing_changes(self, notify, body, loc):
        sub = await subscribe(notify)
        r = await notify.client.patch(f"{URL}/{sub['id']}", json=body, headers=ADMIN)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert loc in [e["loc"] for e in r.json()["errors"]]
        unchanged = {k: v for k, v in sub.items() if k != "secret"}
        assert (await notify.client.get(f"{URL}/{sub['id']}", headers=ADMIN)).json() == unchanged

    async def test_a_scope_outside_the_callers_is_refused(self, notify):
        sub = await subscribe(notify, headers=YINZHOU_KEY)
        r = await notify.client.patch(f"{URL}/{sub['id']}", json={"scope": "ningbo"}, headers=YINZHOU_KEY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "scope"]
        narrower = await notify.client.patch(
            f"{URL}/{sub['id']}", json={"scope": "ningbo/yinzhou/dongwu"}, headers=YINZHOU_KEY
        )
        assert narrower.status_code == 200 and narrower.json()["scope"] == "ningbo/yinzhou/dongwu"


class TestDeleteSubscription:
    async def test_a_deleted_subscription_is_gone_and_receives_nothing_more(self, notify):
        sub = await subscribe(notify)
        await notify.event("before", "rectification.problem.created")
        r = await notify.client.delete(f"{URL}/{sub['id']}", headers=ADMIN)
        assert r.status_code == 204 and r.content == b""
        assert (await notify.client.get(f"{URL}/{sub['id']}", headers=ADMIN)).status_code == 404
        assert (await notify.client.delete(f"{URL}/{sub['id']}", headers=ADMIN)).status_code == 404
        listed = (await notify.client.get(URL, headers=ADMIN)).json()
        assert listed["total"] == 0
        after = await notify.event("after", "rectification.problem.created")
        assert after.json()["deliveries"]["webhook"] == 0
        dead = (await notify.client.get("/deliveries?status=failed&channel=webhook", headers=ADMIN)).json()
        assert [(d["notification_id"], d["last_error"]) for d in dead["items"]] == [
            ("before", "subscription deleted")
        ]


class TestPing:
    async def test_a_ping_is_signed_and_answers_what_the_receiver_said(self, notify, receiver):
        sub = await subscribe(notify, receiver)
        r = await notify.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True and body["status_code"] == 200 and body["error"] is None
        assert body["signatures"] == 1 and body["webhook_id"].startswith("ping-")
        seen = await receiver.received()
        assert seen["ids"] == {body["webhook_id"]: 1} and seen["bad_signatures"] == 0
        assert await webhook_deliveries(notify, sub["id"]) == []  # a ping is not queued or logged

    async def test_a_refusing_receiver_is_reported_with_its_answer(self, notify, receiver):
        sub = await subscribe(notify, receiver)
        await receiver.set_status(503)
        body = (await notify.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert body["ok"] is False and body["status_code"] == 503
        assert body["error"].startswith("HTTP 503")

    async def test_a_receiver_with_another_secret_says_so(self, notify, receiver):
        sub = await subscribe(notify, url=receiver.hook_url)  # notify generated another secret
        body = (await notify.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert body["ok"] is False and body["status_code"] == 401
        assert "bad signature" in body["error"]

    async def test_an_unreachable_receiver_is_reported_without_a_status(self, notify):
        sub = await subscribe(notify)  # port 9: nothing listens
        r = await notify.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)
        assert r.status_code == 200
        assert r.json()["ok"] is False and r.json()["status_code"] is None and r.json()["error"]


class TestReplay:
    async def test_the_deliveries_of_the_range_are_sent_again_with_their_ids(self, notify, receiver):
        sub = await subscribe(notify, receiver)
        await notify.event("early", "rectification.problem.created")
        notify.clock.advance(hours=2)
        await notify.event("inside", "rectification.problem.created")
        notify.clock.advance(hours=2)
        await notify.event("late", "rectification.problem.created")
        await notify.deliver()
        assert (await receiver.received())["ids"] == {"early": 1, "inside": 1, "late": 1}
        window = {
            "from": (T0 + timedelta(hours=1)).isoformat(),
            "to": (T0 + timedelta(hours=3)).isoformat(),
        }
        r = await notify.client.post(f"{URL}/{sub['id']}/replay", json=window, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json() == {"replayed": 1}
        await notify.deliver()
        assert (await receiver.received())["ids"] == {"early": 1, "inside": 2, "late": 1}

    async def test_dead_letters_of_the_range_are_replayed_too(self, notify, receiver):
        sub = await subscribe(notify, receiver)
        await receiver.set_status(400)  # not retried: dead-lettered at once
        await notify.event("lost", "rectification.problem.created")
        await notify.deliver()
        assert [d["status"] for d in await webhook_deliveries(notify, sub["id"])] == ["failed"]
        await receiver.set_status(200)
        window = {"from": T0.isoformat(), "to": (T0 + timedelta(minutes=1)).isoformat()}
        r = await notify.client.post(f"{URL}/{sub['id']}/replay", json=window, headers=ADMIN)
        assert r.json() == {"replayed": 1}
        await notify.deliver()
        [d] = await webhook_deliveries(notify, sub["id"])
        assert d["status"] == "sent"

    @pytest.mark.parametrize(
        ("window", "loc"),
        [
            ({"from": "2026-03-02T10:00:00+08:00", "to": "2026-03-02T09:00:00+08:00"}, ["body", "to"]),
            ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, ["body", "to"]),
            ({"from": "2026-03-02T00:00:00", "to": "2026-03-02T10:00:00Z"}, ["body", "from"]),
            ({"to": "2026-03-02T10:00:00Z"}, ["body", "from"]),
            ({"from": "0001-01-01T00:00:00+01:00", "to": "2026-03-02T10:00:00Z"}, ["body", "from"]),
            ({"from": "2026-03-02T00:00:00Z", "to": "9999-12-31T23:59:59-01:00"}, ["body", "to"]),
            ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T10:00:00Z", "extra": 1}, ["body", "extra"]),
        ],
    )
    async def test_a_bad_range_is_refused_naming_the_field(self, notify, window, loc):
        sub = await subscribe(notify)
        await notify.event("e", "rectification.problem.created")
        r = await notify.client.post(f"{URL}/{sub['id']}/replay", json=window, headers=ADMIN)
        assert r.status_code == 422, r.text
        assert loc in [e["loc"] for e in r.json()["errors"]]

    async def test_a_disabled_subscription_is_not_replayed(self, notify):
        sub = await subscribe(notify)
        await notify.client.post(f"{URL}/{sub['id']}/disable", headers=ADMIN)
        window = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()}
        r = await notify.client.post(f"{URL}/{sub['id']}/replay", json=window, headers=ADMIN)
        assert r.status_code == 409
        assert r.json()["type"].endswith("/webhook-subscription-disabled")


class TestLocalReceivers:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"webhook_allow_private": False}

    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook", "http://192.168.1.20/hook"]
    )
    async def test_a_local_receiver_is_refused_naming_the_setting(self, notify, url):
        r = await notify.client.post(
            URL, json={"name": "本机", "url": url, "event_types": ["*"]}, headers=ADMIN
        )
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["loc"] == ["body", "url"] and "NOTIFY_WEBHOOK_ALLOW_PRIVATE" in error["msg"]

    async def test_an_update_to_a_local_receiver_is_refused(self, notify):
        notify.app.state.settings.webhook_allow_private = True
        sub = await subscribe(notify)
        notify.app.state.settings.webhook_allow_private = False
        r = await notify.client.patch(
            f"{URL}/{sub['id']}", json={"url": "http://localhost:8080/hook"}, headers=ADMIN
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "url"]

    async def test_a_ping_to_a_local_receiver_is_refused_unless_allowed(self, notify, receiver):
        notify.app.state.settings.webhook_allow_private = True
        sub = await subscribe(notify, receiver)
        notify.app.state.settings.webhook_allow_private = False
        body = (await notify.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert body["ok"] is False and "non-public address" in body["error"]
        assert (await receiver.received())["requests"] == 0
