"""Intake: events and notification requests, accepted once, refused clearly with nothing queued."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.notify.events import CATALOG
from tests.notify.conftest import ADMIN, MISSING, SYSTEM, Caller, complete


async def _count_deliveries(notify) -> int:
    r = await notify.client.get("/deliveries?status=pending&limit=1", headers=ADMIN)
    return r.json()["total"]


class TestReceiveEvent:
    async def test_event_for_a_person_is_queued_on_their_channels(self, notify):
        await notify.person("u-li-na", name="李娜")
        r = await notify.event(
            "e1",
            recipients=[{"kind": "person", "user_id": "u-li-na"}],
            title="台账不全",
            deadline="2026-04-30",
        )
        assert r.status_code == 202, r.text
        assert r.json() == {
            "id": "e1",
            "event_type": "rectification.problem.assigned",
            "recipients": ["u-li-na"],
            "deliveries": {"inbox": 1, "email": 1, "sms": 0, "webhook": 0},
        }
        await notify.deliver()
        inbox = await notify.client.get("/inbox", headers={**ADMIN, **_as("u-li-na")})
        [msg] = inbox.json()["items"]
        assert msg["title"] == "整改任务：台账不全"
        assert "2026-04-30" in msg["body"]

    async def test_role_within_an_org_unit_reaches_only_that_units_holders(self, notify):
        await notify.person("u-yz-admin", org_unit="ningbo/yinzhou", roles=["district_admin"])
        await notify.person("u-hs-admin", org_unit="ningbo/haishu", roles=["district_admin"])
        await notify.person("u-yz-insp", org_unit="ningbo/yinzhou", roles=["inspector"])
        r = await notify.event(
            "e2",
            "rectification.problem.overdue",
            recipients=[{"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"}],
        )
        assert r.json()["recipients"] == ["u-yz-admin"]
        r = await notify.event(
            "e2b",
            "scoring.results.published",
            recipients=[{"kind": "role", "role": "district_admin", "org_unit": "ningbo"}],
        )
        assert sorted(r.json()["recipients"]) == ["u-hs-admin", "u-yz-admin"]

    async def test_org_unit_contacts_are_the_units_contact_people(self, notify):
        await notify.person("u-contact", org_unit="ningbo/yinzhou/dongwu", is_contact=True)
        await notify.person("u-other", org_unit="ningbo/yinzhou/dongwu")
        r = await notify.event("e3", recipients=[{"kind": "org_unit", "org_unit": "ningbo/yinzhou/dongwu"}])
        assert r.json()["recipients"] == ["u-contact"]

    async def test_a_person_named_twice_hears_it_once(self, notify):
        await notify.person("u-a", org_unit="ningbo/yinzhou", roles=["district_admin"])
        r = await notify.event(
            "e4",
            recipients=[
                {"kind": "person", "user_id": "u-a"},
                {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"},
            ],
        )
        assert r.json()["deliveries"]["inbox"] == 1

    async def test_redelivery_with_the_same_key_returns_the_first_answer_and_queues_nothing(self, notify):
        await notify.person("u-a")
        first = await notify.event("e5", recipients=[{"kind": "person", "user_id": "u-a"}])
        before = await _count_deliveries(notify)
        notify.clock.advance(seconds=5)  # a later redelivery carries the same body (same occurred_at below)
        env_again = await notify.client.post(
            "/events",
            content=first.request.content,
            headers={**SYSTEM, "Idempotency-Key": "e5", "content-type": "application/json"},
        )
        assert env_again.status_code == 202
        assert env_again.json() == first.json()
        assert await _count_deliveries(notify) == before

    async def test_same_key_with_a_different_body_is_409(self, notify):
        await notify.person("u-a")
        await notify.event("e6", recipients=[{"kind": "person", "user_id": "u-a"}], title="A")
        r = await notify.event("e6", recipients=[{"kind": "person", "user_id": "u-a"}], title="B")
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/idempotency-key-reused"

    async def test_missing_idempotency_key_is_refused(self, notify):
        r = await notify.client.post(
            "/events",
            json={
                "id": "x",
                "type": "notify.message",
                "source": "t",
                "occurred_at": "2026-03-02T00:00:00Z",
                "data": {},
            },
            headers=SYSTEM,
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/idempotency-key-required"

    @pytest.mark.parametrize("path", ["/events", "/events/batch"])
    @pytest.mark.parametrize(
        "caller",
        [
            Caller(roles=["inspector"], scope="ningbo"),
            Caller(roles=["city_admin"], scope="ningbo", sub="u-admin"),
            Caller(roles=["system"], scope="ningbo", sub="apikey:1", kind="api_key"),
        ],
        ids=["inspector", "city_admin", "city-wide system key"],
    )
    async def test_only_the_services_own_principal_may_send_events(self, notify, path, caller):
        await notify.person("u-a")
        env = {
            "id": "forged",
            "type": "rectification.problem.overdue",
            "source": "rectification",
            "occurred_at": notify.clock.now().isoformat(),
            "data": complete(
                "rectification.problem.overdue", {"recipients": [{"kind": "person", "user_id": "u-a"}]}
            ),
        }
        body = env if path == "/events" else {"events": [env]}
        r = await notify.client.post(path, json=body, headers={**caller, "Idempotency-Key": "forged"})
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "No such route"
        assert await _count_deliveries(notify) == 0
        # The services' own principal (what the outbox relay signs) is accepted.
        r = await notify.client.post(path, json=body, headers={**SYSTEM, "Idempotency-Key": "forged"})
        assert r.status_code in (200, 202), r.text
        assert await _count_deliveries(notify) == 2


class TestBadInput:
    async def test_unknown_event_type_is_named_and_nothing_is_queued(self, notify):
        await notify.person("u-a")
        r = await notify.event(
            "b1", "rectification.problem.exploded", recipients=[{"kind": "person", "user_id": "u-a"}]
        )
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/unknown-event-type"
        assert body["errors"][0]["loc"] == ["body", "type"]
        assert await _count_deliveries(notify) == 0

    async def test_recipient_that_does_not_exist_is_named_and_nothing_is_queued(self, notify):
        await notify.person("u-a")
        r = await notify.event(
            "b2", recipients=[{"kind": "person", "user_id": "u-a"}, {"kind": "person", "user_id": "u-ghost"}]
        )
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/unknown-recipient"
        assert body["errors"][0]["loc"] == ["body", "data", "recipients", 1, "user_id"]
        assert await _count_deliveries(notify) == 0
        # ...and the key is not burnt: the corrected event goes through.
        await notify.person("u-ghost")
        r = await notify.event(
            "b2", recipients=[{"kind": "person", "user_id": "u-a"}, {"kind": "person", "user_id": "u-ghost"}]
        )
        assert r.status_code == 202

    async def test_missing_template_variable_is_refused_with_the_template_line(self, notify):
        # The schema lets `responsible_person` be null (nobody assigned yet); a saved template that
        # prints it unguarded does not render such an event.
        await notify.person("u-a")
        saved = await notify.client.put(
            "/templates/rectification.problem.assigned/inbox",
            json={
                "subject": "整改：{{ title }}",
                "body": "负责人：{{ responsible_person.name }}\n期限：{{ deadline }}",
            },
            headers=ADMIN,
        )
        assert saved.status_code == 201, saved.text
        r = await notify.event(
            "b3", recipients=[{"kind": "person", "user_id": "u-a"}], responsible_person=None
        )
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/template-error"
        assert "name" in body["detail"] and "line 1" in body["detail"]
        assert body["template"] == {
            "event_type": "rectification.problem.assigned",
            "channel": "inbox",
            "version": 1,
        }
        assert await _count_deliveries(notify) == 0

    async def test_oversized_payload_is_413_and_nothing_is_queued(self, notify):
        await notify.person("u-a")
        r = await notify.event("b4", recipients=[{"kind": "person", "user_id": "u-a"}], blob="x" * 70_000)
        assert r.status_code == 413
        assert r.json()["type"] == "/problems/payload-too-large"
        assert await _count_deliveries(notify) == 0

    async def test_malformed_recipient_names_the_field(self, notify):
        r = await notify.event("b5", recipients=[{"kind": "role", "role": "district_admin"}])
        assert r.status_code == 422
        locs = [e["loc"] for e in r.json()["errors"]]
        assert ["body", "data", "recipients", 0, "role", "org_unit"] in locs


class TestCreateNotification:
    async def test_request_reaches_people_and_is_idempotent(self, notify):
        await notify.person("u-a")
        body = {
            "event_type": "notify.message",
            "data": {"title": "迎检准备", "body": "请于周五前准备材料"},
            "recipients": [{"kind": "person", "user_id": "u-a"}],
        }
        r1 = await notify.client.post(
            "/notifications", json=body, headers={**ADMIN, "Idempotency-Key": "req-1"}
        )
        r2 = await notify.client.post(
            "/notifications", json=body, headers={**ADMIN, "Idempotency-Key": "req-1"}
        )
        assert r1.status_code == r2.status_code == 202
        assert r1.json() == r2.json()
        r3 = await notify.client.post(
            "/notifications",
            json={**body, "priority": "urgent"},
            headers={**ADMIN, "Idempotency-Key": "req-1"},
        )
        assert r3.status_code == 409

    async def test_not_before_holds_the_message_until_then(self, notify):
        await notify.person("u-a")
        later = notify.clock.now() + timedelta(hours=2)
        r = await notify.client.post(
            "/notifications",
            json={
                "data": {"title": "t", "body": "b"},
                "recipients": [{"kind": "person", "user_id": "u-a"}],
                "not_before": later.isoformat(),
            },
            headers={**ADMIN, "Idempotency-Key": "nb"},
        )
        assert r.status_code == 202
        await notify.deliver()
        assert (await notify.client.get("/inbox/unread-count", headers=_as("u-a"))).json() == {"unread": 0}
        notify.clock.set(later)
        await notify.deliver()
        assert (await notify.client.get("/inbox/unread-count", headers=_as("u-a"))).json() == {"unread": 1}

    async def test_event_types_are_listed_with_samples(self, notify):
        r = await notify.client.get("/event-types", headers=ADMIN)
        types = {e["type"] for e in r.json()["items"]}
        assert "rectification.problem.overdue" in types and "sampling.round.published" in types
        assert r.json()["total"] == len(types)


def _as(user_id: str) -> dict[str, str]:
    from services.kit.testing import principal_headers

    return principal_headers(roles=["responsible"], scope="ningbo/yinzhou", sub=user_id)


class TestReceiveEventBatch:
    def _env(self, notify, event_id: str, event_type: str = "rectification.problem.assigned", **data):
        return {
            "id": event_id,
            "type": event_type,
            "source": "rectification",
            "occurred_at": notify.clock.now().isoformat(),
            "data": complete(event_type, data),
        }

    async def test_each_event_is_accepted_or_refused_on_its_own(self, notify):
        await notify.person("u-a")
        to_a = [{"kind": "person", "user_id": "u-a"}]
        batch = {
            "events": [
                self._env(notify, "bt1", recipients=to_a, title="一"),
                self._env(notify, "bt2", "no.such.type", recipients=to_a),
                self._env(notify, "bt3", recipients=[{"kind": "person", "user_id": "u-ghost"}]),
                self._env(notify, "bt4", recipients=to_a, title="四"),
            ]
        }
        r = await notify.client.post("/events/batch", json=batch, headers=SYSTEM)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [(x["id"], x["status"]) for x in results] == [
            ("bt1", 202),
            ("bt2", 422),
            ("bt3", 422),
            ("bt4", 202),
        ]
        assert results[1]["body"]["type"] == "/problems/unknown-event-type"
        assert results[2]["body"]["errors"][0]["loc"] == [
            "body",
            "events",
            2,
            "data",
            "recipients",
            0,
            "user_id",
        ]
        await notify.deliver()
        inbox = await notify.client.get("/inbox", headers=_as("u-a"))
        assert sorted(m["notification_id"] for m in inbox.json()["items"]) == ["bt1", "bt4"]

    async def test_an_event_sent_singly_and_again_in_a_batch_is_accepted_once(self, notify):
        await notify.person("u-a")
        env = self._env(notify, "bt5", recipients=[{"kind": "person", "user_id": "u-a"}], title="五")
        single = await notify.client.post("/events", json=env, headers={**SYSTEM, "Idempotency-Key": "bt5"})
        again = await notify.client.post("/events/batch", json={"events": [env]}, headers=SYSTEM)
        assert again.json()["results"][0] == {"id": "bt5", "status": 202, "body": single.json()}
        assert await _count_deliveries(notify) == 2  # inbox + email, once

    async def test_batch_without_events_is_refused(self, notify):
        r = await notify.client.post("/events/batch", json={"events": []}, headers=SYSTEM)
        assert r.status_code == 422

    async def test_the_same_event_twice_in_one_batch_is_queued_once(self, notify):
        await notify.person("u-a")
        env = self._env(notify, "bt6", recipients=[{"kind": "person", "user_id": "u-a"}])
        r = await notify.client.post("/events/batch", json={"events": [env, env]}, headers=SYSTEM)
        a, b = r.json()["results"]
        assert a == b and a["status"] == 202
        assert await _count_deliveries(notify) == 2


class TestConcurrentTwins:
    async def test_a_twin_committed_meanwhile_is_told_to_retry_then_gets_the_first_answer(self, notify):
        import os

        import pytest

        from services.kit import outbox
        from services.kit.auth import service_principal
        from services.kit.orgunit import city_root
        from services.notify.enums import Priority
        from services.notify.intake import service

        if os.environ.get("TEST_DB", "sqlite") != "postgres":
            pytest.skip("SQLite serialises writers at BEGIN: a twin cannot interleave there")
        await notify.person("u-a")
        sender = service.Sender(
            principal=service_principal("rectification"),
            now=notify.clock.now(),
            settings=notify.app.state.settings,
        )
        incoming = service.Incoming(
            key="twin",
            body=b"{}",
            notification_id="twin",
            event_type="notify.message",
            source="rectification",
            occurred_at=notify.clock.now(),
            data={"title": "t", "body": "b"},
            recipients=[],
            priority=Priority.NORMAL,
            not_before=None,
            place=city_root(),
            webhook_payload=b"{}",
            fields=service.FieldPaths.of_envelope(["body"]),
            contract={"title": "t", "body": "b", "recipients": [], "priority": "normal"},
            version=None,
            contract_loc=lambda path: ["body", "data", *path],
        )
        sm = notify.app.state.sessionmaker
        async with sm() as first, sm() as second:
            plan_a = await service.plan(first, sender, incoming, service.Lookups())
            plan_b = await service.plan(second, sender, incoming, service.Lookups())
            assert isinstance(plan_a, service.PlannedNotification)
            assert isinstance(plan_b, service.PlannedNotification)
            await service.write_planned(first, [plan_a], now=notify.clock.now())
            await first.commit()
            with pytest.raises(outbox.IdempotencyKeyInUse):
                await service.write_planned(second, [plan_b], now=notify.clock.now())
            await second.rollback()
        async with sm() as third:
            assert await service.accept(third, sender, incoming) == (202, plan_a.answer)


class TestSchema:
    """Every event's data is checked against its type's JSON Schema (services/kit/events/schemas)."""

    async def test_a_field_that_breaks_the_schema_is_named_by_its_path_and_nothing_is_queued(self, notify):
        await notify.person("u-a")
        sample = CATALOG["rectification.problem.merged"].sample
        r = await notify.event(
            "s1",
            "rectification.problem.merged",
            recipients=[{"kind": "person", "user_id": "u-a"}],
            merged_into={**sample["merged_into"], "title": ""},
            site={k: v for k, v in sample["site"].items() if k != "name"},
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["type"] == "/problems/invalid-event-data"
        assert body["event_type"] == "rectification.problem.merged" and body["schema_version"] == 1
        locs = {tuple(e["loc"]) for e in body["errors"]}
        assert locs == {("body", "data", "merged_into", "title"), ("body", "data", "site", "name")}
        assert "$.merged_into.title" in body["detail"]
        assert await _count_deliveries(notify) == 0

    async def test_an_undocumented_field_or_a_missing_one_is_refused(self, notify):
        await notify.person("u-a")
        to_a = [{"kind": "person", "user_id": "u-a"}]
        extra = await notify.event("s2", recipients=to_a, secret="x")
        assert extra.status_code == 422
        assert extra.json()["errors"][0]["loc"] == ["body", "data", "secret"]
        missing = await notify.event("s3", recipients=to_a, deadline=MISSING)
        assert missing.status_code == 422
        assert missing.json()["errors"] == [
            {"loc": ["body", "data", "deadline"], "msg": "required", "type": "schema"}
        ]

    async def test_a_version_notify_does_not_know_is_refused_and_a_known_one_accepted(self, notify):
        await notify.person("u-a")
        data = complete(
            "rectification.problem.created", {"recipients": [{"kind": "person", "user_id": "u-a"}]}
        )

        def env(event_id: str, version: int) -> dict[str, Any]:
            return {
                "id": event_id,
                "type": "rectification.problem.created",
                "source": "rectification",
                "occurred_at": notify.clock.now().isoformat(),
                "version": version,
                "data": data,
            }

        r = await notify.client.post(
            "/events", json=env("v9", 9), headers={**SYSTEM, "Idempotency-Key": "v9"}
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unknown-event-version"
        assert r.json()["errors"][0]["loc"] == ["body", "version"]
        batch = await notify.client.post(
            "/events/batch", json={"events": [env("v9b", 9), env("v1", 1)]}, headers=SYSTEM
        )
        assert [(x["id"], x["status"]) for x in batch.json()["results"]] == [("v9b", 422), ("v1", 202)]
        assert batch.json()["results"][0]["body"]["errors"][0]["loc"] == ["body", "events", 0, "version"]

    async def test_a_notification_request_is_checked_too_with_its_own_recipients(self, notify):
        await notify.person("u-a")
        r = await notify.client.post(
            "/notifications",
            json={
                "data": {"title": "通知", "body": ""},
                "recipients": [{"kind": "person", "user_id": "u-a"}],
            },
            headers={**ADMIN, "Idempotency-Key": "n1"},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "data", "body"]
        ok = await notify.client.post(
            "/notifications",
            json={
                "data": {"title": "通知", "body": "请做好准备。"},
                "recipients": [{"kind": "person", "user_id": "u-a"}],
            },
            headers={**ADMIN, "Idempotency-Key": "n2"},
        )
        assert ok.status_code == 202, ok.text
