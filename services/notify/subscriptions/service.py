"""Webhook subscriptions' rules: valid targets, which events each receives, health and disabling."""

from __future__ import annotations

import fnmatch
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import i18n
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.kit.logs import get_logger
from services.notify.channels import Outcome, send_webhook
from services.notify.config import Settings
from services.notify.deliveries import repository as delivery_repository
from services.notify.deliveries.repository import ClaimedDelivery
from services.notify.errors import InvalidWebhookTarget
from services.notify.events import CATALOG
from services.notify.models import WebhookSubscription
from services.notify.signing import (
    check_url_shape,
    current_secret,
    keyring,
    new_secret,
    previous_secret,
    refuse_private,
    secret_key,
    signing_secrets,
)
from services.notify.subscriptions import access, repository
from services.notify.subscriptions.errors import SubscriptionDisabled
from services.notify.subscriptions.schemas import (
    ReplayRange,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionUpdate,
)

PING_EVENT_TYPE = "notify.webhook.ping"

log = get_logger("notify.subscriptions")


def subscribed(sub: WebhookSubscription, event_type: str) -> bool:
    """Whether one of the subscription's patterns matches `event_type`."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in sub.event_types)


async def receivers(session: AsyncSession) -> list[WebhookSubscription]:
    """The enabled subscriptions (an intake batch reads them once)."""
    return await repository.subscriptions(session, enabled_only=True)


def receives(sub: WebhookSubscription, event_type: str, place: str) -> bool:
    """Whether `sub` receives an event of `event_type` concerning `place`."""
    return subscribed(sub, event_type) and access.receives(sub, place)


async def create_subscription(
    session: AsyncSession,
    *,
    sub_in: SubscriptionCreate,
    settings: Settings,
    principal: Principal,
    now: datetime,
) -> WebhookSubscription:
    """Subscribe a URL to event types within a scope (the caller's, or a part of it)."""
    scope = access.subscription_scope(principal, sub_in.scope)
    errors = [*await _url_errors(sub_in.url, settings), *_event_type_errors(sub_in.event_types)]
    secret = sub_in.secret or new_secret()
    errors += _secret_errors(secret)
    if errors:
        raise InvalidWebhookTarget(errors[0]["msg"], zh=i18n.field_msg_zh(errors[0]), errors=errors)
    sub = WebhookSubscription(
        name=sub_in.name,
        url=sub_in.url,
        secret=secret,
        event_types=sub_in.event_types,
        scope=scope,
        created_by=principal.sub,
        created_at=now,
    )
    repository.add(session, sub)
    await session.flush()
    return sub


# The reasons of services.notify.signing (a target URL, a secret) in Chinese.
_REASONS_ZH = [
    (re.compile(r"not a valid URL: (.*)", re.S), "不是有效的网址：{0}"),
    (re.compile(r"only http and https targets are allowed"), "只允许 http 或 https 地址"),
    (re.compile(r"the URL has no host"), "网址中没有主机名"),
    (
        re.compile(r"credentials in the URL are not allowed; use the signing secret"),
        "网址中不能带用户名和密码；请使用签名密钥",
    ),
    (
        re.compile(r"(.*) resolves to a non-public address \((.*)\); set (\w+) to allow it", re.S),
        "{0} 解析为非公网地址（{1}）；如需允许，请设置 {2}",
    ),
    (re.compile(r"cannot resolve (.*?): (.*)", re.S), "无法解析 {0}：{1}"),
    (
        re.compile(r"a webhook secret starts with 'whsec_' followed by base64"),
        "Webhook 密钥应以 'whsec_' 开头，后接 base64 编码",
    ),
    (re.compile(r"the part after 'whsec_' is not valid base64"), "'whsec_' 之后的部分不是有效的 base64"),
    (re.compile(r"the secret must decode to between 24 and 64 bytes"), "密钥解码后应为 24 到 64 字节"),
]


def _reason_zh(reason: str) -> str:
    for pattern, zh in _REASONS_ZH:
        m = pattern.fullmatch(reason)
        if m:
            return zh.format(*m.groups())
    return f"取值无效：{reason}"


async def _url_errors(url: str, settings: Settings) -> list[dict[str, Any]]:
    """Why `url` cannot be a target (shape, then a non-public address unless allowed), as field errors."""
    reason = check_url_shape(url)
    if reason is None and not settings.webhook_allow_private:
        reason = await refuse_private(url)
    return [field_error(["body", "url"], reason, zh=_reason_zh(reason))] if reason else []


def _secret_errors(secret: str) -> list[dict[str, Any]]:
    try:
        secret_key(secret)
    except ValueError as exc:
        return [field_error(["body", "secret"], str(exc), zh=_reason_zh(str(exc)))]
    return []


def _event_type_errors(event_types: list[str]) -> list[dict[str, Any]]:
    return [
        field_error(
            ["body", "event_types", i],
            f"{t!r} matches no known event type",
            zh=f"{t!r} 不匹配任何已知的事件类型",
        )
        for i, t in enumerate(event_types)
        if not any(fnmatch.fnmatchcase(known, t) for known in CATALOG)
    ]


async def get_visible(
    session: AsyncSession, *, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    """The subscription, if its scope lies inside the caller's; else 404 as if missing."""
    sub = await repository.get(session, subscription_id)
    if sub is None:
        raise access.subscription_not_found(subscription_id)
    access.require_visible(principal, sub)
    return sub


async def list_visible(session: AsyncSession, *, principal: Principal) -> list[WebhookSubscription]:
    """The subscriptions of the caller's scope, oldest first."""
    return await repository.subscriptions(session, visible=principal.scope_filter(WebhookSubscription.scope))


async def enable(session: AsyncSession, sub: WebhookSubscription) -> WebhookSubscription:
    """Send to it again, its failure count cleared; its dead letters are re-driven separately."""
    sub.enabled = True
    sub.disabled_at = None
    sub.disabled_reason = None
    sub.consecutive_failures = 0
    sub.failing_since = None
    await session.flush()
    return sub


async def disable(session: AsyncSession, sub: WebhookSubscription, *, now: datetime) -> WebhookSubscription:
    """Stop sending to it; its pending deliveries go to the dead-letter list."""
    sub.enabled = False
    sub.disabled_at = now
    sub.disabled_reason = "disabled by an administrator"
    await session.flush()
    await delivery_repository.fail_pending_for_subscription(
        session, sub.id or 0, "subscription disabled by an administrator"
    )
    return sub


async def record_results(
    session: AsyncSession, settings: Settings, results: dict[int, list[bool]], now: datetime
) -> None:
    """Count failures in a row per subscription; disable one that keeps failing for long enough."""
    subs = await repository.subscriptions_by_ids(session, list(results))
    for sub_id, oks in results.items():
        sub = subs.get(sub_id)
        if sub is None or not sub.enabled:
            continue
        for ok in oks:
            if ok:
                sub.consecutive_failures = 0
                sub.failing_since = None
            else:
                sub.consecutive_failures += 1
                sub.failing_since = sub.failing_since or now
        if (
            sub.failing_since is not None
            and sub.consecutive_failures >= settings.webhook_disable_after_failures
            and (now - sub.failing_since).total_seconds() >= settings.webhook_disable_after_seconds
        ):
            sub.enabled = False
            sub.disabled_at = now
            sub.disabled_reason = (
                f"{sub.consecutive_failures} failed attempts in a row since {sub.failing_since.isoformat()}"
            )
            n = await delivery_repository.fail_pending_for_subscription(
                session, sub_id, "subscription disabled after repeated failure"
            )
            log.warning("webhook subscription disabled", subscription_id=sub_id, dead_lettered=n)
    await session.flush()


async def update_subscription(
    session: AsyncSession,
    sub: WebhookSubscription,
    *,
    sub_in: SubscriptionUpdate,
    settings: Settings,
    principal: Principal,
) -> WebhookSubscription:
    """Change the fields sent; a new URL is checked like a new subscription's and receives what is still to come."""
    sent = sub_in.model_fields_set
    errors = [
        field_error(
            ["body", name],
            f"{name} cannot be null; leave it out to keep it",
            "null_not_allowed",
            zh=f"{name} 不能为 null；如要保持不变，请不要发送该字段",
        )
        for name in sorted(sent)
        if getattr(sub_in, name) is None
    ]
    if not sent:
        errors.append(
            field_error(
                ["body"],
                "send at least one of name, url, event_types, scope",
                "missing",
                zh="请至少发送 name、url、event_types、scope 中的一项",
            )
        )
    if sub_in.url is not None:
        errors += await _url_errors(sub_in.url, settings)
    if sub_in.event_types is not None:
        errors += _event_type_errors(sub_in.event_types)
    if errors:
        raise InvalidWebhookTarget(errors[0]["msg"], zh=i18n.field_msg_zh(errors[0]), errors=errors)
    scope = access.subscription_scope(principal, sub_in.scope) if sub_in.scope is not None else sub.scope
    if sub_in.name is not None:
        sub.name = sub_in.name
    if sub_in.event_types is not None:
        sub.event_types = list(sub_in.event_types)
    sub.scope = scope
    if sub_in.url is not None and sub_in.url != sub.url:
        sub.url = sub_in.url
        await delivery_repository.repoint_pending_for_subscription(session, sub.id or 0, sub.url)
    await session.flush()
    return sub


async def delete_subscription(session: AsyncSession, sub: WebhookSubscription) -> None:
    """Delete it; its deliveries still to come are dead-lettered, its delivery log is kept."""
    await delivery_repository.fail_pending_for_subscription(session, sub.id or 0, "subscription deleted")
    await repository.delete(session, sub)
    await session.flush()


def previous_secret_expiry(sub: WebhookSubscription, *, now: datetime) -> datetime | None:
    """Until when a rotated-out secret still signs beside the current one (None: it no longer does)."""
    previous = previous_secret(sub.secret, int(now.timestamp()))
    return datetime.fromtimestamp(previous[1], UTC) if previous else None


async def rotate_secret(
    session: AsyncSession,
    sub: WebhookSubscription,
    *,
    rotation: SecretRotation,
    settings: Settings,
    now: datetime,
) -> tuple[str, datetime | None]:
    """Sign with a new secret; the current one keeps signing beside it for the overlap.

    Only one secret is kept being rotated out: rotating again during an overlap drops the oldest.
    """
    errors = []
    secret = rotation.secret or new_secret()
    errors += _secret_errors(secret)
    overlap = (
        settings.webhook_secret_overlap_seconds
        if rotation.overlap_seconds is None
        else rotation.overlap_seconds
    )
    if overlap > settings.webhook_secret_overlap_max_seconds:
        errors.append(
            field_error(
                ["body", "overlap_seconds"],
                f"at most {settings.webhook_secret_overlap_max_seconds} seconds",
                "less_than_equal",
                zh=f"最多 {settings.webhook_secret_overlap_max_seconds} 秒",
            )
        )
    old = current_secret(sub.secret)
    if secret == old:
        errors.append(
            field_error(
                ["body", "secret"],
                "the new secret must differ from the current one",
                zh="新密钥须与当前密钥不同",
            )
        )
    if errors:
        raise UnprocessableEntity(errors[0]["msg"], zh=i18n.field_msg_zh(errors[0]), errors=errors)
    expires = now + timedelta(seconds=overlap)
    if overlap > 0:
        sub.secret = keyring(secret, old, int(expires.timestamp()))
    else:
        sub.secret = keyring(secret)
    await session.flush()
    return secret, expires if overlap > 0 else None


async def ping(
    client: aiohttp.ClientSession, settings: Settings, sub: WebhookSubscription, *, now: datetime
) -> tuple[Outcome, str, int]:
    """Send a signed test event now (not queued, not retried); what the receiver answered, the id, the signatures."""
    webhook_id = f"ping-{uuid.uuid4().hex}"
    envelope = {
        "id": webhook_id,
        "type": PING_EVENT_TYPE,
        "source": "notify",
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": {
            "subscription_id": sub.id,
            "name": sub.name,
            "message": "这是一条测试消息：收到即表示订阅地址和签名密钥可用，无需处理。",
        },
    }
    row: ClaimedDelivery = {
        "id": 0,
        "notification_id": webhook_id,
        "event_type": PING_EVENT_TYPE,
        "channel": "webhook",
        "recipient": f"webhook:{sub.id}",
        "person_id": None,
        "subscription_id": sub.id,
        "destination": sub.url,
        "priority": "normal",
        "subject": None,
        "body": orjson.dumps(envelope).decode(),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "leased_until": None,
        "leased_by": None,
        "last_error": None,
        "digest_id": None,
        "created_at": now,
        "sent_at": None,
    }
    # Like every delivery, the signature timestamp is wall time: the receiver checks it against its clock.
    sent_at = int(time.time())
    started = time.perf_counter()
    outcome = await send_webhook(client, settings, row, sub.secret, sent_at)
    outcome.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return outcome, webhook_id, len(signing_secrets(sub.secret, sent_at))


async def replay(
    session: AsyncSession, sub: WebhookSubscription, *, window: ReplayRange, settings: Settings, now: datetime
) -> int:
    """Queue again the sent and dead-lettered deliveries queued for it in [from, to), to its current URL."""
    errors = []
    bounds: dict[str, datetime] = {}
    for name, value in (("from", window.from_), ("to", window.to)):
        try:
            bounds[name] = value.astimezone(UTC)
        except OverflowError:
            errors.append(
                field_error(
                    ["body", name],
                    "out of the range of representable times",
                    "datetime_range",
                    zh="超出可表示的时间范围",
                )
            )
    if errors:
        raise UnprocessableEntity(errors[0]["msg"], zh=i18n.field_msg_zh(errors[0]), errors=errors)
    if window.to <= window.from_:
        errors.append(field_error(["body", "to"], "must be after from", "greater_than", zh="须晚于 from"))
    elif (window.to - window.from_).total_seconds() > settings.webhook_replay_max_seconds:
        errors.append(
            field_error(
                ["body", "to"],
                f"a replay covers at most {settings.webhook_replay_max_seconds} seconds",
                "less_than_equal",
                zh=f"一次重放最多覆盖 {settings.webhook_replay_max_seconds} 秒",
            )
        )
    if errors:
        raise UnprocessableEntity(errors[0]["msg"], zh=i18n.field_msg_zh(errors[0]), errors=errors)
    if not sub.enabled:
        raise SubscriptionDisabled(
            f"Webhook subscription {sub.id} is disabled: enable it before replaying",
            zh=f"Webhook 订阅 {sub.id} 已停用：请先启用再重放",
            subscription_id=sub.id,
        )
    return await delivery_repository.replay_for_subscription(
        session,
        subscription_id=sub.id or 0,
        start=bounds["from"],
        end=bounds["to"],
        url=sub.url,
        now=now,
    )
