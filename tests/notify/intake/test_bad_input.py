"""Bad input is a 4xx problem naming the field, never a 500, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notify.conftest import ADMIN, SYSTEM, complete

HUGE = 2**63  # one past BIGINT


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


async def _queued(notify) -> int:
    r = await notify.client.get("/deliveries?status=pending&limit=1", headers=ADMIN)
    return r.json()["total"]  # type: ignore[no-any-return]


class TestNotificationBody:
    @pytest.mark.parametrize(
        "data",
        [{"count": 2**70}, {"title": "a\x00b"}, {"title": "bell\x07"}, {"tree": _nested(40)}],
        ids=["huge integer", "NUL", "control character", "nested 40 deep"],
    )
    async def test_bad_data_is_422_naming_the_field_and_nothing_is_queued(self, notify, data):
        await notify.person("u-a")
        r = await notify.client.post(
            "/notifications",
            json={"data": data, "recipients": [{"kind": "person", "user_id": "u-a"}]},
            headers={**ADMIN, "Idempotency-Key": "bad"},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "data" in r.json()["errors"][0]["msg"]
        assert await _queued(notify) == 0

    async def test_a_control_character_in_an_event_is_refused_per_event(self, notify):
        await notify.person("u-a")
        env = {
            "id": "ctl",
            "type": "rectification.problem.assigned",
            "source": "rectification",
            "occurred_at": notify.clock.now().isoformat(),
            "data": complete(
                "rectification.problem.assigned",
                {"recipients": [{"kind": "person", "user_id": "u-a"}], "title": "x\x00"},
            ),
        }
        single = await notify.client.post("/events", json=env, headers={**SYSTEM, "Idempotency-Key": "ctl"})
        assert single.status_code == 422
        assert single.json()["errors"][0]["loc"][:2] == ["body", "data"]
        assert await _queued(notify) == 0
        good = env | {"id": "ok", "data": {**env["data"], "title": "好"}}
        nul_id = env | {"id": "n\x00"}
        batch = await notify.client.post(
            "/events/batch", json={"events": [env, good, nul_id]}, headers=SYSTEM
        )
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        # One bad event is refused alone; the rest of the batch goes through.
        assert [(x["id"], x["status"]) for x in results] == [("ctl", 422), ("ok", 202), (None, 422)]
        assert results[0]["body"]["errors"][0]["loc"][:4] == ["body", "events", 0, "data"]
        assert await _queued(notify) == 2


class TestPersonBody:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("name", "张\x00三"), ("name", "x\x1b[31m"), ("roles", ["responsible\x00"]), ("roles", ["Boss!"])],
    )
    async def test_bad_text_is_422_and_nobody_is_written(self, notify, field, value):
        body = {"name": "x", "org_unit": "ningbo/yinzhou", field: value}
        r = await notify.client.put("/people/u-bad", json=body, headers=ADMIN)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert (await notify.client.get("/people/u-bad", headers=ADMIN)).status_code == 404

    async def test_an_org_unit_longer_than_the_directory_holds_is_422(self, notify):
        unit = "ningbo/" + "/".join(["x" * 64] * 5)  # valid grammar, 331 characters
        r = await notify.client.put("/people/u-long", json={"name": "x", "org_unit": unit}, headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "org_unit"]

    async def test_control_characters_in_preferences_are_refused(self, notify):
        await notify.person("u-a")
        r = await notify.prefs("u-a", channels={"notify.message\x00": ["inbox"]})
        assert r.status_code == 422
        assert (await notify.client.get("/people/u-a/preferences", headers=ADMIN)).json()["channels"] == {}


class TestIdsAndOffsets:
    @pytest.mark.parametrize(
        ("method", "url", "loc"),
        [
            ("get", f"/webhooks/subscriptions/{HUGE}", ["path", "subscription_id"]),
            ("get", f"/webhooks/subscriptions/{HUGE}/deliveries", ["path", "subscription_id"]),
            ("post", f"/webhooks/subscriptions/{HUGE}/disable", ["path", "subscription_id"]),
            ("post", f"/deliveries/{HUGE}/retry", ["path", "delivery_id"]),
            ("post", f"/inbox/{HUGE}/read", ["path", "message_id"]),
            ("get", f"/people?offset={HUGE}", ["query", "offset"]),
            ("get", f"/deliveries?offset={HUGE}", ["query", "offset"]),
            ("get", f"/inbox?offset={HUGE}", ["query", "offset"]),
            ("get", f"/webhooks/subscriptions?offset={HUGE}", ["query", "offset"]),
            ("get", "/people?role=%00", ["query", "role"]),
            ("get", "/people?org_unit=ningbo%00", ["query", "org_unit"]),
            ("get", "/inbox?type=%00", ["query", "type"]),
            ("get", "/deliveries?channel=pigeon", ["query", "channel"]),
            ("get", "/notifications/a%00b", ["path", "notification_id"]),
            ("get", "/people/a%00b/preferences", ["path", "user_id"]),
        ],
    )
    async def test_out_of_range_or_malformed_parameters_are_422_naming_them(self, notify, method, url, loc):
        r = await notify.client.request(method, url, headers=ADMIN)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert loc in [e["loc"] for e in r.json()["errors"]]
