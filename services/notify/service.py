"""Notify's rules: who hears an event, on which channels, when, and in which words."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.notify import access, repository
from services.notify.config import Settings
from services.notify.errors import (
    InvalidWebhookTarget,
    NotificationIdTaken,
    TemplateRenderFailed,
    UnknownEventType,
    UnknownRecipient,
)
from services.notify.events import CATALOG, CHANNELS
from services.notify.models import Person, Template, WebhookSubscription, idempotency_key
from services.notify.schemas import (
    OrgUnitRecipient,
    PersonRecipient,
    PersonUpsert,
    PreferencesUpdate,
    Recipient,
    RoleRecipient,
    SubscriptionCreate,
)
from services.notify.signing import check_url_shape, new_secret, refuse_private, secret_key
from services.notify.templates import TemplateProblem, render

DEFAULT_CHANNELS = ("inbox", "email")
URGENT_EXTRA = ("sms",)
HELD_BY_DIGEST = ("email", "sms")


# ---- masking


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


# ---- time


def _hm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_release(person: Person, when: datetime) -> datetime:
    """The earliest moment at or after `when` outside the person's quiet hours."""
    if not person.quiet_start or not person.quiet_end:
        return when
    tz = ZoneInfo(person.timezone)
    local = when.astimezone(tz)
    start, end = _hm(person.quiet_start), _hm(person.quiet_end)
    now_t = local.time()
    if start == end:
        return when
    in_quiet = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not in_quiet:
        return when
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(when.tzinfo)


def digest_due(person: Person, now: datetime) -> tuple[bool, Any]:
    """Whether the person's digest should go out now, and the local date it is for."""
    local = now.astimezone(ZoneInfo(person.timezone))
    today = local.date()
    if person.last_digest_on is not None and person.last_digest_on >= today:
        return False, today
    return local.time() >= _hm(person.digest_at), today


# ---- recipients and channels


async def resolve_recipients(
    session: AsyncSession,
    recipients: Sequence[Recipient],
    *,
    principal: Principal,
    loc: list[str | int],
) -> list[Person]:
    """Every active person the recipient specs name, each once, all inside the caller's scope.

    422 naming a unit outside the scope, or a person who is not in the directory, inactive or
    outside the scope (the same words for each, so a refusal does not tell whether they exist).
    """
    access.check_recipient_units(principal, recipients, loc)
    wanted = [r.user_id for r in recipients if isinstance(r, PersonRecipient)]
    known = await repository.people_by_ids(session, wanted)

    def reachable(user_id: str) -> bool:
        p = known.get(user_id)
        return p is not None and p.active and principal.covers(p.org_unit)

    errors = [
        field_error([*loc, i, "user_id"], f"no person {r.user_id!r} in the directory within your scope")
        for i, r in enumerate(recipients)
        if isinstance(r, PersonRecipient) and not reachable(r.user_id)
    ]
    if errors:
        raise UnknownRecipient("A recipient is not in the directory within your scope", errors=errors)
    out: dict[str, Person] = {}
    units: dict[tuple[str, bool], list[Person]] = {}
    for r in recipients:
        if isinstance(r, PersonRecipient):
            out.setdefault(r.user_id, known[r.user_id])
            continue
        assert isinstance(r, RoleRecipient | OrgUnitRecipient)
        # A role reaches its holders anywhere within the unit (district_admin within "ningbo" =
        # every district's admin); an org unit's contacts are that unit's own.
        subtree = isinstance(r, RoleRecipient)
        if (r.org_unit, subtree) not in units:
            units[(r.org_unit, subtree)] = await repository.people_in_unit(
                session, r.org_unit, subtree=subtree
            )
        for p in units[(r.org_unit, subtree)]:
            if (isinstance(r, RoleRecipient) and r.role in p.roles) or (
                isinstance(r, OrgUnitRecipient) and p.is_contact
            ):
                out.setdefault(p.user_id, p)
    return list(out.values())


def channels_for(person: Person, event_type: str, priority: str) -> list[str]:
    """The person's channels for this event type, restricted to contact points they have."""
    chosen = person.channels.get(event_type) or person.channels.get("*")
    if chosen is None:
        chosen = [*DEFAULT_CHANNELS, *(URGENT_EXTRA if priority == "urgent" else ())]
    usable = {"inbox": True, "email": bool(person.email), "sms": bool(person.phone)}
    return [c for c in CHANNELS if c in chosen and usable[c]]


def subscribed(sub: WebhookSubscription, event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in sub.event_types)


# ---- templates


def template_context(
    *, data: dict[str, Any], event_type: str, event_id: str, occurred_at: datetime, person: Person | None
) -> dict[str, Any]:
    ctx = dict(data)
    ctx["event"] = {"id": event_id, "type": event_type, "occurred_at": occurred_at.isoformat()}
    if person is not None:
        ctx["recipient"] = {"user_id": person.user_id, "name": person.name, "org_unit": person.org_unit}
    return ctx


def render_message(
    template: Template | None, event_type: str, channel: str, ctx: dict[str, Any], settings: Settings
) -> tuple[str | None, str]:
    """(subject, body) for one channel; saved templates are strict, built-ins lenient."""
    if template is not None:
        subject_src, body_src, strict = template.subject, template.body, True
    else:
        subject_src, body_src = CATALOG[event_type].default_template(channel)
        strict = False
    subject = render(subject_src, ctx, strict=strict) if subject_src and channel != "sms" else None
    body = render(body_src, ctx, strict=strict)
    if channel == "sms" and len(body) > settings.sms_max_length:
        body = body[: settings.sms_max_length - 1] + "…"
    return subject, body


def validate_template(
    *, event_type: str, channel: str, subject: str | None, body: str, settings: Settings
) -> dict[str, str | None]:
    """Render a candidate template against the event's sample payload; 422 with the line when it fails."""
    spec = CATALOG[event_type]
    sample_person = Person(
        user_id="u-sample",
        name="张三",
        org_unit="ningbo/yinzhou",
        created_at=datetime.min,
        updated_at=datetime.min,
    )
    ctx = template_context(
        data=spec.sample,
        event_type=event_type,
        event_id="sample",
        occurred_at=datetime(2026, 3, 2),
        person=sample_person,
    )
    errors = []
    out: dict[str, str | None] = {"subject": None, "body": ""}
    for field, source in (("subject", subject), ("body", body)):
        if source is None or (field == "subject" and channel == "sms"):
            continue
        try:
            out[field] = render(source, ctx, strict=True)
        except TemplateProblem as exc:
            errors.append(field_error(["body", field], exc.describe(), "template_error") | {"line": exc.line})
    if not errors and channel == "sms" and len(out["body"] or "") > settings.sms_max_length:
        errors.append(
            field_error(
                ["body", "body"],
                f"the SMS renders to {len(out['body'] or '')} characters with the sample payload; the limit is {settings.sms_max_length}",
                "too_long",
            )
        )
    if errors:
        raise TemplateRenderFailed(
            f"The {channel} template for {event_type} does not render with the sample payload: {errors[0]['msg']}",
            errors=errors,
        )
    return out


async def save_template(
    session: AsyncSession,
    *,
    event_type: str,
    channel: str,
    subject: str | None,
    body: str,
    by: str,
    now: datetime,
    settings: Settings,
) -> tuple[Template, dict[str, str | None]]:
    preview = validate_template(
        event_type=event_type, channel=channel, subject=subject, body=body, settings=settings
    )
    version = await repository.next_template_version(session, event_type, channel)
    template = Template(
        event_type=event_type,
        channel=channel,
        version=version,
        subject=subject,
        body=body,
        created_by=by,
        created_at=now,
    )
    session.add(template)
    await session.flush()
    return template, preview


# ---- intake


@dataclass
class PlannedNotification:
    """Everything one accepted notification writes, ready for one bulk insert."""

    key: str
    body_hash: str
    notification: dict[str, Any]
    deliveries: list[dict[str, Any]]
    answer: dict[str, Any]


async def accept_notification(session: AsyncSession, **kw: Any) -> tuple[int, dict[str, Any]]:
    """Accept a notification once: validate, resolve, render, queue; a replay returns the first answer."""
    planned = await plan_notification(session, **kw)
    if isinstance(planned, tuple):
        return planned
    await write_planned(session, [planned], now=kw["now"])
    return 202, planned.answer


async def write_planned(
    session: AsyncSession, planned: Sequence[PlannedNotification], *, now: datetime
) -> None:
    """Insert the notifications, their deliveries and their idempotency keys, a few statements for all."""
    if not planned:
        return
    try:
        # A twin of one of these requests, committed meanwhile, makes one of the unique keys
        # (notification id, idempotency key) fail; the sender retries and gets the stored answer.
        await repository.insert_notifications(session, [p.notification for p in planned])
        await repository.insert_deliveries(session, [d for p in planned for d in p.deliveries])
        await repository.insert_idempotency_keys(
            session,
            [
                {
                    "key": p.key,
                    "request_hash": p.body_hash,
                    "status_code": 202,
                    "response": p.answer,
                    "created_at": now,
                }
                for p in planned
            ],
        )
    except IntegrityError as exc:
        raise outbox.IdempotencyKeyInUse(
            "A request with this Idempotency-Key is being processed; retry shortly",
            headers={"retry-after": "1"},
        ) from exc


async def plan_notification(
    session: AsyncSession,
    *,
    settings: Settings,
    now: datetime,
    principal: Principal,
    idempotency: str,
    body: bytes,
    notification_id: str,
    event_type: str,
    source: str,
    occurred_at: datetime,
    data: dict[str, Any],
    recipients: Sequence[Recipient],
    priority: str,
    not_before: datetime | None,
    place: str,
    loc: dict[str, list[str | int]],
    webhook_payload: bytes,
    cache: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]] | PlannedNotification:
    """Validate, resolve and render one notification without writing it; a replay returns the stored answer.

    `place` is the org unit it concerns: who may read it, and which webhook subscriptions receive it.

    `cache` lets a batch share what it looked up: templates, subscriptions, and (prefetched under
    "keys" and "existing") the idempotency rows and notification ids of all its events.
    """
    cache = {} if cache is None else cache
    body_hash = outbox.request_hash(body)
    if "keys" in cache:
        stored_row = cache["keys"].get(idempotency)
        stored = None
        if stored_row is not None:
            if stored_row[0] != body_hash:
                raise outbox.IdempotencyKeyReused(
                    "This Idempotency-Key was already used with a different request body",
                    idempotency_key=idempotency,
                )
            stored = (stored_row[1], stored_row[2])
    else:
        stored = await outbox.idempotent_replay(
            session, idempotency_key, key=idempotency, body_hash=body_hash
        )
    if stored is not None:
        return stored
    if event_type not in CATALOG:
        raise UnknownEventType(
            f"Unknown event type {event_type!r}; see GET /event-types",
            errors=[field_error(loc["type"], f"unknown event type {event_type!r}")],
        )
    taken = (
        notification_id in cache["existing"]
        if "existing" in cache
        else await repository.get_notification(session, notification_id) is not None
    )
    if taken:
        raise NotificationIdTaken(
            f"Event {notification_id} was already accepted under another Idempotency-Key"
        )
    people = await resolve_recipients(session, recipients, principal=principal, loc=loc["recipients"])

    if f"templates:{event_type}" not in cache:
        cache[f"templates:{event_type}"] = await repository.latest_templates(
            session, [(event_type, c) for c in CHANNELS]
        )
    templates = cache[f"templates:{event_type}"]
    start = max(now, not_before) if not_before else now
    rows: list[dict[str, Any]] = []
    counts = {"inbox": 0, "email": 0, "sms": 0, "webhook": 0}
    for person in people:
        ctx = template_context(
            data=data, event_type=event_type, event_id=notification_id, occurred_at=occurred_at, person=person
        )
        for channel in channels_for(person, event_type, priority):
            template = templates.get((event_type, channel))
            try:
                subject, text = render_message(template, event_type, channel, ctx, settings)
            except TemplateProblem as exc:
                where = f"template {event_type}/{channel} v{template.version if template else 0}"
                raise TemplateRenderFailed(
                    f"The event does not fit the {where}: {exc.describe()}",
                    errors=[field_error(loc["data"], f"{where}: {exc.describe()}", "template_error")],
                    template={
                        "event_type": event_type,
                        "channel": channel,
                        "version": template.version if template else 0,
                    },
                    line=exc.line,
                ) from exc
            due = start
            status = "pending"
            if channel in HELD_BY_DIGEST and priority != "urgent":
                if person.digest_enabled:
                    status = "held"
                else:
                    due = quiet_release(person, due)
            rows.append(
                {
                    "notification_id": notification_id,
                    "event_type": event_type,
                    "channel": channel,
                    "recipient": person.user_id,
                    "person_id": person.user_id,
                    "destination": {"email": person.email, "sms": person.phone}.get(channel),
                    "priority": priority,
                    "subject": subject,
                    "body": text,
                    "status": status,
                    "attempts": 0,
                    "next_attempt_at": due,
                    "created_at": now,
                }
            )
            counts[channel] += 1
    if "subscriptions" not in cache:
        cache["subscriptions"] = await repository.subscriptions(session, enabled_only=True)
    for sub in cache["subscriptions"]:
        if subscribed(sub, event_type) and access.subscription_receives(sub, place):
            rows.append(
                {
                    "notification_id": notification_id,
                    "event_type": event_type,
                    "channel": "webhook",
                    "recipient": f"webhook:{sub.id}",
                    "subscription_id": sub.id,
                    "destination": sub.url,
                    "priority": priority,
                    "subject": None,
                    "body": webhook_payload.decode(),
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": start,
                    "created_at": now,
                }
            )
            counts["webhook"] += 1
    answer = {
        "id": notification_id,
        "event_type": event_type,
        "recipients": [p.user_id for p in people],
        "deliveries": counts,
    }
    return PlannedNotification(
        key=idempotency,
        body_hash=body_hash,
        notification={
            "id": notification_id,
            "event_type": event_type,
            "source": source,
            "priority": priority,
            "not_before": not_before,
            "occurred_at": occurred_at,
            "data": data,
            "recipients": [r.model_dump() for r in recipients],
            "org_unit": place,
            "created_by": principal.sub,
            "created_at": now,
        },
        deliveries=rows,
        answer=answer,
    )


def canonical(obj: Any) -> bytes:
    """One byte form per JSON value, so the same event hashes the same however it was sent."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def envelope_bytes(
    *, event_id: str, event_type: str, source: str, occurred_at: datetime, data: dict[str, Any]
) -> bytes:
    return orjson.dumps(
        {"id": event_id, "type": event_type, "source": source, "occurred_at": occurred_at, "data": data}
    )


# ---- directory


async def upsert_person(
    session: AsyncSession, *, principal: Principal, user_id: str, person_in: PersonUpsert, now: datetime
) -> tuple[Person, bool]:
    """Create or replace a person; the stored one and the new org unit must both lie inside the caller's scope."""
    person = await repository.get_person(session, user_id)
    access.check_person_write(
        principal, user_id=user_id, existing=person, org_unit=person_in.org_unit, roles=person_in.roles
    )
    created = person is None
    if person is None:
        person = Person(user_id=user_id, created_at=now, updated_at=now, **person_in.model_dump())
        session.add(person)
    else:
        for k, v in person_in.model_dump().items():
            setattr(person, k, v)
        person.updated_at = now
    await session.flush()
    return person, created


async def update_preferences(
    session: AsyncSession, *, person: Person, prefs: PreferencesUpdate, now: datetime
) -> Person:
    was_digest = person.digest_enabled
    for k, v in prefs.model_dump(exclude_unset=True).items():
        if v is not None or k in ("quiet_start", "quiet_end"):
            setattr(person, k, v)
    unknown = [t for t in person.channels if t != "*" and t not in CATALOG]
    if unknown:
        raise UnknownEventType(
            f"Unknown event type {unknown[0]!r} in channels",
            errors=[field_error(["body", "channels", unknown[0]], "unknown event type")],
        )
    if bool(person.quiet_start) != bool(person.quiet_end):
        raise UnprocessableEntity(
            "Quiet hours need both quiet_start and quiet_end",
            errors=[
                field_error(
                    ["body", "quiet_end" if person.quiet_start else "quiet_start"], "set both or neither"
                )
            ],
        )
    person.updated_at = now
    await session.flush()
    if was_digest and not person.digest_enabled:
        await repository.release_held(session, user_id=person.user_id, now=now)  # nothing stays held
    return person


# ---- webhooks


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
    errors = []
    reason = check_url_shape(sub_in.url)
    if reason is None and not settings.webhook_allow_private:
        reason = await refuse_private(sub_in.url)
    if reason:
        errors.append(field_error(["body", "url"], reason))
    secret = sub_in.secret or new_secret()
    try:
        secret_key(secret)
    except ValueError as exc:
        errors.append(field_error(["body", "secret"], str(exc)))
    for i, t in enumerate(sub_in.event_types):
        if not any(fnmatch.fnmatchcase(known, t) for known in CATALOG):
            errors.append(field_error(["body", "event_types", i], f"{t!r} matches no known event type"))
    if errors:
        raise InvalidWebhookTarget(errors[0]["msg"], errors=errors)
    sub = WebhookSubscription(
        name=sub_in.name,
        url=sub_in.url,
        secret=secret,
        event_types=sub_in.event_types,
        scope=scope,
        created_by=principal.sub,
        created_at=now,
    )
    session.add(sub)
    await session.flush()
    return sub
