"""Rotating a subscription's signing secret: both secrets sign during the overlap, then only the new one.

Signatures are checked with the independent verifier of tests/notify/receiver.py, not notify's code.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.notify.signing import (
    current_secret,
    keyring,
    new_secret,
    previous_secret,
    signing_secrets,
    webhook_headers,
)
from tests.notify.conftest import ADMIN, Harness, start_receiver
from tests.notify.receiver import verify
from tests.notify.subscriptions.conftest import subscribe

URL = "/webhooks/subscriptions"


class TestWebhookHeaders:
    def test_a_ring_signs_with_every_secret_until_its_expiry(self):
        old, new = new_secret(), new_secret()
        now = int(time.time())
        ring = keyring(new, old, now + 60)
        body = b'{"id": "e1"}'
        headers = webhook_headers(ring, "e1", now, body)
        assert headers["webhook-signature"].count("v1,") == 2
        assert verify(old, headers, body, 300) and verify(new, headers, body, 300)
        after = webhook_headers(ring, "e1", now + 60, body)
        assert after["webhook-signature"].count("v1,") == 1
        assert verify(new, {**after, "webhook-timestamp": str(now + 60)}, body, 300)
        assert not verify(old, after, body, 300)

    def test_a_single_secret_is_a_ring_of_one(self):
        secret = new_secret()
        assert keyring(secret) == secret and current_secret(secret) == secret
        assert signing_secrets(secret, 0) == [secret] and previous_secret(secret, 0) is None

    def test_the_longest_secrets_fit_the_column_together(self):
        longest = "whsec_" + "A" * 86 + "=="  # 64 bytes
        ring = keyring(longest, longest.replace("A", "B", 1), 9_999_999_999)
        assert len(ring) <= 200
        assert previous_secret(ring, 0) == (longest.replace("A", "B", 1), 9_999_999_999)


async def rotate(harness: Harness, sub_id: int, **body: Any) -> Any:
    return await harness.client.post(f"{URL}/{sub_id}/rotate-secret", json=body, headers=ADMIN)


class TestRotateSecret:
    async def test_during_the_overlap_receivers_with_either_secret_accept(self, live, receiver):
        sub = await subscribe(live, receiver)
        new_receiver = start_receiver(new_secret())
        try:
            await new_receiver.proc.wait_http(f"{new_receiver.base}/_received")
            r = await rotate(live, sub["id"], secret=new_receiver.secret, overlap_seconds=3600)
            assert r.status_code == 200, r.text
            expires = datetime.fromisoformat(r.json()["previous_secret_expires_at"])
            assert expires == live.clock.now() + timedelta(hours=1)
            assert r.json()["secret"] == new_receiver.secret
            old_ping = (await live.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
            assert old_ping["ok"] is True and old_ping["signatures"] == 2
            await live.event("during", "rectification.problem.created")
            await live.deliver()
            assert (await receiver.received())["ids"].get("during") == 1
            await live.client.patch(f"{URL}/{sub['id']}", json={"url": new_receiver.hook_url}, headers=ADMIN)
            new_ping = (await live.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
            assert new_ping["ok"] is True and new_ping["signatures"] == 2
            assert (await new_receiver.received())["bad_signatures"] == 0
        finally:
            new_receiver.proc.stop()

    async def test_without_overlap_the_old_secret_stops_at_once(self, live, receiver):
        sub = await subscribe(live, receiver)
        r = await rotate(live, sub["id"], overlap_seconds=0)
        assert r.status_code == 200 and r.json()["previous_secret_expires_at"] is None
        assert r.json()["secret"].startswith("whsec_") and r.json()["secret"] != receiver.secret
        ping = (await live.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert ping["signatures"] == 1 and ping["ok"] is False and ping["status_code"] == 401

    async def test_the_default_overlap_is_the_configured_window(self, live):
        live.app.state.settings.webhook_secret_overlap_seconds = 600
        sub = await subscribe(live)
        r = await rotate(live, sub["id"])
        assert r.status_code == 200, r.text
        assert datetime.fromisoformat(r.json()["previous_secret_expires_at"]) == live.clock.now() + timedelta(
            minutes=10
        )

    async def test_rotating_again_drops_the_oldest_secret(self, live):
        first = new_secret()
        sub = await subscribe(live, secret=first)
        second = (await rotate(live, sub["id"], overlap_seconds=3600)).json()["secret"]
        third = (await rotate(live, sub["id"], overlap_seconds=3600)).json()["secret"]
        ping = (await live.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert ping["signatures"] == 2
        assert len({first, second, third}) == 3

    async def test_the_secret_is_never_shown_again(self, live):
        sub = await subscribe(live)
        await rotate(live, sub["id"])
        read = (await live.client.get(f"{URL}/{sub['id']}", headers=ADMIN)).json()
        listed = (await live.client.get(URL, headers=ADMIN)).json()["items"]
        assert "secret" not in read and all("secret" not in s for s in listed)

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"secret": "not-a-secret"}, ["body", "secret"]),
            ({"secret": "whsec_c2hvcnQ="}, ["body", "secret"]),
            ({"overlap_seconds": -1}, ["body", "overlap_seconds"]),
            ({"overlap_seconds": 8 * 24 * 3600}, ["body", "overlap_seconds"]),
            ({"overlap": 60}, ["body", "overlap"]),
        ],
    )
    async def test_bad_input_is_refused_naming_the_field_and_the_secret_stays(
        self, live, receiver, body, loc
    ):
        sub = await subscribe(live, receiver)
        r = await rotate(live, sub["id"], **body)
        assert r.status_code == 422, r.text
        assert loc in [e["loc"] for e in r.json()["errors"]]
        ping = (await live.client.post(f"{URL}/{sub['id']}/ping", headers=ADMIN)).json()
        assert ping["ok"] is True and ping["signatures"] == 1

    async def test_the_same_secret_again_is_refused(self, live, receiver):
        sub = await subscribe(live, receiver)
        r = await rotate(live, sub["id"], secret=receiver.secret)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "secret"]
