"""Channels against real local receivers: SMTP (aiosmtpd), an SMS provider and webhook endpoints."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import mailbox
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.kit.testing import ManagedProcess, free_port
from services.notify.channels import webhook_client
from services.notify.signing import (
    TargetRefused,
    VettedResolver,
    check_url_shape,
    refuse_private,
    secret_key,
)
from tests.notify.conftest import ADMIN, ROOT


@pytest.fixture
async def smtp(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    port = free_port()
    maildir = tmp_path / "maildir"
    proc = ManagedProcess(
        "smtpd",
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        cwd=ROOT,
    ).start()
    try:
        import asyncio
        import socket

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield port, maildir
    finally:
        proc.stop()


async def _subscribe(notify, url: str, event_types: list[str], **kw) -> dict:
    r = await notify.client.post(
        "/webhooks/subscriptions",
        json={"name": "OA", "url": url, "event_types": event_types, **kw},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    return r.json()


class TestEmail:
    async def test_email_reaches_a_real_smtp_server(self, notify, smtp):
        port, maildir = smtp
        notify.app.state.settings.smtp_port = port
        await notify.person("u-a", email="lina@yinzhou.gov.cn")
        await notify.event(
            "m1", recipients=[{"kind": "person", "user_id": "u-a"}], title="台账不全", deadline="2026-04-30"
        )
        await notify.deliver()
        [msg] = list(mailbox.Maildir(maildir, create=False))
        assert msg["To"] == "lina@yinzhou.gov.cn"
        assert (
            str(email.header.make_header(email.header.decode_header(msg["Subject"]))) == "整改任务：台账不全"
        )
        assert "2026-04-30" in msg.get_payload(decode=True).decode()
        ds = {d["channel"]: d for d in await notify.deliveries("m1")}
        assert ds["email"]["status"] == "sent"
        assert ds["email"]["destination"] == "l***@yinzhou.gov.cn"
        assert ds["email"]["attempt_log"][0]["ok"] is True

    async def test_smtp_down_is_retried_with_backoff_and_every_attempt_recorded(self, notify, smtp):
        port, maildir = smtp
        notify.app.state.settings.smtp_port = free_port()  # nobody listens there
        await notify.person("u-a")
        await notify.event("m2", recipients=[{"kind": "person", "user_id": "u-a"}])
        await notify.deliver()
        [d] = [d for d in await notify.deliveries("m2") if d["channel"] == "email"]
        assert d["status"] == "pending" and d["attempts"] == 1 and d["last_error"]
        notify.app.state.settings.smtp_port = port
        notify.clock.advance(seconds=40)
        await notify.deliver()
        [d] = [d for d in await notify.deliveries("m2") if d["channel"] == "email"]
        assert d["status"] == "sent"
        assert [a["ok"] for a in d["attempt_log"]] == [False, True]
        assert len(list(mailbox.Maildir(maildir, create=False))) == 1


class TestSms:
    async def test_sms_follows_the_provider_contract(self, notify, receiver):
        notify.app.state.settings.sms_url = receiver.sms_url
        await notify.person("u-a", phone="13812345678")
        await notify.event(
            "s1",
            "rectification.problem.overdue",
            recipients=[{"kind": "person", "user_id": "u-a"}],
            priority="urgent",
        )
        await notify.deliver()
        [sms] = (await receiver.received())["sms"]
        assert sms["authorization"] == "Bearer dev-sms-key"
        payload = sms["payload"]
        assert payload["to"] == "13812345678"
        assert payload["text"].startswith("【党建督查】") and "逾期" in payload["text"]
        assert payload["sign_name"] == "党建督查"
        assert payload["client_ref"].startswith("delivery-")

    async def test_provider_refusal_is_dead_lettered_and_retry_resends(self, notify, receiver):
        notify.app.state.settings.sms_url = receiver.sms_url
        await notify.person("u-a")
        await receiver.set_status(400)
        await notify.event("s2", recipients=[{"kind": "person", "user_id": "u-a"}], priority="urgent")
        await notify.deliver()
        dead = (await notify.client.get("/deliveries?status=failed&channel=sms", headers=ADMIN)).json()
        assert dead["total"] == 1 and dead["items"][0]["last_error"].startswith("HTTP 400")
        await receiver.set_status(200)
        r = await notify.client.post(f"/deliveries/{dead['items'][0]['id']}/retry", headers=ADMIN)
        assert r.json() == {"updated": 1}
        await notify.deliver()
        assert len((await receiver.received())["sms"]) == 1


class TestWebhooks:
    async def test_signed_per_standard_webhooks_and_verified_independently(self, notify, receiver):
        sub = await _subscribe(notify, receiver.hook_url, ["rectification.*"], secret=receiver.secret)
        assert sub["secret"] == receiver.secret
        r = await notify.event("w1", "rectification.problem.created", title="台账不全")
        assert r.json()["deliveries"]["webhook"] == 1
        await notify.deliver()
        seen = await receiver.received()
        assert seen["ids"] == {"w1": 1} and seen["bad_signatures"] == 0
        assert seen["bodies"]["w1"]["type"] == "rectification.problem.created"
        assert seen["bodies"]["w1"]["data"]["title"] == "台账不全"

    async def test_signature_matches_the_specification_by_hand(self, notify):
        from services.notify.signing import sign

        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        # The worked example of the Standard Webhooks specification.
        body = b'{"test": 2432232314}'
        got = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + body, hashlib.sha256).digest()
        ).decode()
        assert got == "v1," + expected == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    async def test_unsubscribed_types_are_not_sent(self, notify, receiver):
        await _subscribe(notify, receiver.hook_url, ["scoring.results.published"], secret=receiver.secret)
        r = await notify.event("w2", "rectification.problem.created")
        assert r.json()["deliveries"]["webhook"] == 0

    async def test_retried_for_more_than_a_day_with_backoff_then_dead_lettered(self, notify, receiver):
        await _subscribe(notify, receiver.hook_url, ["*"], secret=receiver.secret)
        await receiver.set_status(503)
        await notify.event("w3", "rectification.problem.created")
        start = notify.clock.now()
        waits = []
        for _ in range(20):
            await notify.deliver()
            [d] = [d for d in await notify.deliveries("w3") if d["channel"] == "webhook"]
            if d["status"] != "pending":
                break
            from datetime import datetime

            due = datetime.fromisoformat(d["next_attempt_at"])
            waits.append((due - notify.clock.now()).total_seconds())
            notify.clock.set(due)
        assert d["status"] == "failed"
        assert notify.clock.now() - start >= timedelta(hours=24)
        assert waits == sorted(waits) or waits[-1] >= waits[0]  # backing off, not hammering
        assert len(d["attempt_log"]) == d["attempts"] == 8
        assert all(a["status_code"] == 503 for a in d["attempt_log"])
        await receiver.set_status(200)
        await notify.client.post("/deliveries/retry-failed?channel=webhook", headers=ADMIN)
        await notify.deliver()
        assert (await receiver.received())["ids"] == {"w3": 1}

    async def test_subscription_disabled_after_repeated_failure_and_reenabled_by_admin(
        self, notify, receiver
    ):
        notify.app.state.settings.webhook_disable_after_failures = 3
        notify.app.state.settings.webhook_disable_after_seconds = 3600
        sub = await _subscribe(notify, receiver.hook_url, ["*"], secret=receiver.secret)
        await receiver.set_status(500)
        for i in range(3):
            await notify.event(f"wd{i}", "rectification.problem.created")
        await notify.deliver()
        s = (await notify.client.get(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN)).json()
        assert s["enabled"] is True and s["consecutive_failures"] == 3  # failing, but not for an hour yet
        notify.clock.advance(hours=2)
        await notify.deliver()
        s = (await notify.client.get(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN)).json()
        assert s["enabled"] is False and "failed attempts" in s["disabled_reason"]
        log = (
            await notify.client.get(f"/webhooks/subscriptions/{sub['id']}/deliveries", headers=ADMIN)
        ).json()
        assert log["total"] == 3 and {d["status"] for d in log["items"]} == {"failed"}
        assert (
            await notify.event("wd9", "rectification.problem.created")
            and (await notify.deliveries("wd9")) == []
        )  # a disabled subscription gets nothing new
        await receiver.set_status(200)
        r = await notify.client.post(f"/webhooks/subscriptions/{sub['id']}/enable", headers=ADMIN)
        assert r.json()["enabled"] is True
        await notify.client.post("/deliveries/retry-failed?channel=webhook", headers=ADMIN)
        await notify.deliver()
        assert set((await receiver.received())["ids"]) == {"wd0", "wd1", "wd2"}

    async def test_a_successful_delivery_resets_the_failure_count(self, notify, receiver):
        sub = await _subscribe(notify, receiver.hook_url, ["*"], secret=receiver.secret)
        await receiver.set_status(500)
        await notify.event("wr1", "rectification.problem.created")
        await notify.deliver()
        await receiver.set_status(200)
        notify.clock.advance(seconds=10)
        await notify.deliver()
        s = (await notify.client.get(f"/webhooks/subscriptions/{sub['id']}", headers=ADMIN)).json()
        assert s["consecutive_failures"] == 0 and s["failing_since"] is None


class TestWebhookTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "ftp://oa.example.cn/hook",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://user:pw@oa.example.cn/h",
            "not a url",
            "http://h:99999/",
        ],
    )
    def test_non_http_targets_have_a_reason(self, url):
        assert check_url_shape(url) is not None

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9000/h",
            "http://10.1.2.3/h",
            "http://192.168.1.1/h",
            "http://[::1]/h",
            "http://169.254.169.254/latest",
            "http://localhost/h",
            "http://[::ffff:10.0.0.1]/h",
        ],
    )
    async def test_private_addresses_have_a_reason(self, url):
        assert "non-public address" in (await refuse_private(url) or "")

    async def test_public_addresses_pass(self):
        assert await refuse_private("http://8.8.8.8/hook") is None
        assert check_url_shape("https://oa.example.gov.cn:8443/hooks/x") is None

    @pytest.mark.parametrize(
        "secret", ["plain-text", "whsec_%%%", "whsec_" + base64.b64encode(b"short").decode()]
    )
    def test_malformed_secrets_have_a_reason(self, secret):
        with pytest.raises(ValueError):
            secret_key(secret)

    async def test_non_http_target_is_refused_with_the_field(self, notify):
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "x", "url": "ftp://oa.example.cn/h", "event_types": ["*"]},
            headers=ADMIN,
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/invalid-webhook-target"
        assert r.json()["errors"][0]["loc"] == ["body", "url"]

    @pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
    async def test_private_address_is_refused_unless_allowed(self, notify):
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "x", "url": "http://10.1.2.3/h", "event_types": ["*"]},
            headers=ADMIN,
        )
        assert r.status_code == 422
        assert "non-public address" in r.json()["errors"][0]["msg"]
        notify.app.state.settings.webhook_allow_private = True
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "x", "url": "http://10.1.2.3/h", "event_types": ["*"]},
            headers=ADMIN,
        )
        assert r.status_code == 201

    @pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
    async def test_private_target_is_refused_again_at_send_time(self, notify, receiver):
        # Created while private targets were allowed (or DNS changed since): the send is refused.
        notify.app.state.settings.webhook_allow_private = True
        await _subscribe(notify, receiver.hook_url, ["*"], secret=receiver.secret)
        notify.app.state.settings.webhook_allow_private = False
        await notify.event("wp", "rectification.problem.created")
        await notify.deliver()
        [d] = await notify.deliveries("wp")
        assert d["status"] == "failed" and "non-public" in d["last_error"]
        assert (await receiver.received())["requests"] == 0

    async def test_invalid_secret_is_refused_with_the_field(self, notify):
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "x", "url": "http://127.0.0.1/h", "event_types": ["*"], "secret": "plain-text"},
            headers=ADMIN,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "secret"]

    async def test_unknown_event_type_pattern_is_refused(self, notify):
        r = await notify.client.post(
            "/webhooks/subscriptions",
            json={"name": "x", "url": "http://127.0.0.1/h", "event_types": ["nothing.*"]},
            headers=ADMIN,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "event_types", 0]

    async def test_secret_is_generated_and_never_listed(self, notify):
        created = await _subscribe(notify, "http://127.0.0.1/h", ["*"])
        assert created["secret"].startswith("whsec_")
        listed = (await notify.client.get("/webhooks/subscriptions", headers=ADMIN)).json()
        assert "secret" not in listed["items"][0]


PUBLIC = "93.184.216.34"


def _rebinding(*answers: list[str]):
    """A fake DNS: each lookup gets the next answer (the last one repeats); records every lookup."""
    calls: list[str] = []

    async def lookup(host: str) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    return lookup, calls


class TestDnsRebinding:
    """A webhook host is resolved once, checked, and the connection goes to what was checked."""

    async def test_the_resolver_gives_the_connection_only_the_addresses_it_checked(self):
        lookup, _ = _rebinding([PUBLIC], ["127.0.0.1"])
        resolver = VettedResolver(lookup=lookup)
        [first] = await resolver.resolve("oa.example.cn", 8443, family=socket.AF_UNSPEC)
        assert (first["host"], first["hostname"], first["port"]) == (PUBLIC, "oa.example.cn", 8443)
        with pytest.raises(TargetRefused, match=r"127\.0\.0\.1"):
            await resolver.resolve("oa.example.cn", 8443, family=socket.AF_UNSPEC)

    async def test_one_private_address_in_the_answer_refuses_the_host(self):
        lookup, _ = _rebinding([PUBLIC, "10.0.0.7"])
        with pytest.raises(TargetRefused, match=r"10\.0\.0\.7"):
            await VettedResolver(lookup=lookup).resolve("oa.example.cn", 443)

    async def test_private_answers_pass_only_when_allowed(self):
        lookup, _ = _rebinding(["127.0.0.1"])
        [res] = await VettedResolver(allow_private=True, lookup=lookup).resolve("localhost", 80)
        assert res["host"] == "127.0.0.1"

    @pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private": False}])
    async def test_a_host_answering_loopback_at_send_time_is_dead_lettered(self, notify, receiver):
        lookup, _ = _rebinding(["127.0.0.1"])
        notify.app.state.webhook_session = webhook_client(notify.app.state.settings, lookup=lookup)
        notify.app.state.settings.webhook_allow_private = True
        await _subscribe(notify, f"http://oa.example.cn:{receiver.port}/hook", ["*"], secret=receiver.secret)
        notify.app.state.settings.webhook_allow_private = False
        await notify.event("dns2", "rectification.problem.created")
        await notify.deliver()
        [d] = await notify.deliveries("dns2")
        assert d["status"] == "failed" and "non-public address (127.0.0.1)" in d["last_error"]
        assert (await receiver.received())["requests"] == 0
