"""The intake pipeline's pure steps: reading an envelope or a request into one typed `Incoming`."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity
from services.notify.config import Settings
from services.notify.enums import Priority
from services.notify.errors import NotificationTooLarge, OutOfScope
from services.notify.intake import service
from services.notify.intake.schemas import NotificationCreate

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ENVELOPE = {
    "id": "e-1",
    "type": "rectification.problem.assigned",
    "source": "rectification",
    "occurred_at": "2026-03-02T02:00:00Z",
    "data": {
        "recipients": [{"kind": "person", "user_id": "u-li-na"}],
        "priority": "urgent",
        "title": "党员活动室台账记录不完整",
        "org_unit": "ningbo/yinzhou/dongwu",
    },
}


def _sender(scope: str = "ningbo/yinzhou") -> service.Sender:
    principal = Principal(sub="u-admin", roles=("city_admin",), scope=scope, kind="user")
    return service.Sender(principal=principal, now=NOW, settings=Settings(environment="test"))


class TestFromEnvelope:
    def test_reads_the_fields_notify_uses_and_keeps_the_rest_for_templates(self):
        raw = orjson.dumps(ENVELOPE)
        incoming = service.from_envelope(ENVELOPE, key="e-1", raw=raw, prefix=["body"])
        assert (incoming.notification_id, incoming.event_type, incoming.priority) == (
            "e-1",
            "rectification.problem.assigned",
            Priority.URGENT,
        )
        assert incoming.data == {"title": "党员活动室台账记录不完整", "org_unit": "ningbo/yinzhou/dongwu"}
        assert incoming.place == "ningbo/yinzhou/dongwu"
        assert incoming.webhook_payload == raw
        assert incoming.body == service.canonical(ENVELOPE)

    def test_a_batch_item_names_its_fields_under_its_index(self):
        bad = {**ENVELOPE, "occurred_at": "yesterday"}
        with pytest.raises(UnprocessableEntity) as caught:
            service.from_envelope(bad, key="e-1", raw=None, prefix=["body", "events", 3])
        assert caught.value.extensions["errors"][0]["loc"] == ["body", "events", 3, "occurred_at"]
        paths = service.FieldPaths.of_envelope(["body", "events", 3])
        assert paths.recipients == ["body", "events", 3, "data", "recipients"]


class TestFromRequest:
    def test_the_id_derives_from_sender_and_key_and_the_key_is_per_sender(self):
        request = NotificationCreate.model_validate(
            {"recipients": [{"kind": "person", "user_id": "u-li-na"}], "data": {"title": "t", "body": "b"}}
        )
        one = service.from_request(request, sender=_sender(), key="k1", body=b"{}")
        again = service.from_request(request, sender=_sender(), key="k1", body=b"{}")
        assert one.notification_id == again.notification_id
        assert one.key == "u-admin:k1"
        assert one.place == "ningbo/yinzhou"  # no data.org_unit: the sender's scope
        assert orjson.loads(one.webhook_payload)["id"] == one.notification_id

    def test_a_place_outside_the_senders_scope_is_refused(self):
        request = NotificationCreate.model_validate(
            {"recipients": [{"kind": "person", "user_id": "u-x"}], "data": {"org_unit": "ningbo/haishu"}}
        )
        with pytest.raises(OutOfScope):
            service.from_request(request, sender=_sender(), key="k1", body=b"{}")


class TestLimits:
    def test_usable_ids_and_sizes(self):
        assert service.usable_id("e-1")
        assert not service.usable_id("") and not service.usable_id("a\x00") and not service.usable_id(7)
        assert not service.usable_id("x" * 65)
        service.require_size(10, 10, "event")
        with pytest.raises(NotificationTooLarge):
            service.require_size(11, 10, "event")
