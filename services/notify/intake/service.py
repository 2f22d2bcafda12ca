"""Accepting notifications: validate, resolve recipients, render, queue deliveries; each exactly once.

A notification comes in as an event from another service's outbox (``POST /events``, or many at
once through ``/events/batch``) or as a request from a person or an integration
(``POST /notifications``). Either way it becomes an :class:`Incoming`, which :func:`plan` turns
into the rows to write (:class:`PlannedNotification`) or the answer stored for a replay;
:func:`write_planned` writes many planned notifications in a few statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import orjson
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import events as contracts
from services.kit import i18n, outbox
from services.kit.auth import Principal
from services.kit.errors import BadRequest, ProblemError, UnprocessableEntity, field_error, problem_response
from services.kit.text import control_character
from services.notify.config import Settings
from services.notify.deliveries import repository as delivery_repository
from services.notify.enums import Channel, DeliveryStatus, Priority
from services.notify.errors import (
    InvalidEventData,
    NotificationIdTaken,
    NotificationTooLarge,
    TemplateRenderFailed,
    UnknownEventType,
    UnknownEventVersion,
    UnknownRecipient,
)
from services.notify.events import CATALOG, CHANNELS
from services.notify.intake import access, repository
from services.notify.intake.repository import StoredAnswer
from services.notify.intake.schemas import (
    EventEnvelope,
    NotificationCreate,
    OrgUnitRecipient,
    PersonRecipient,
    Recipient,
    RoleRecipient,
)
from services.notify.models import Person, Template, WebhookSubscription
from services.notify.people import repository as people_repository
from services.notify.people.service import channels_for, quiet_release
from services.notify.rendering import TemplateProblem
from services.notify.subscriptions import service as subscription_service
from services.notify.templates import repository as template_repository
from services.notify.templates.service import render_message, template_context

HELD_BY_DIGEST = (Channel.EMAIL, Channel.SMS)

Answer = tuple[int, Mapping[str, Any]]
"""(status, body) of an accepted or replayed notification."""


@dataclass(frozen=True)
class Sender:
    """Who sends, when, under which settings: what every notification of one request shares."""

    principal: Principal
    now: datetime
    settings: Settings


@dataclass(frozen=True)
class FieldPaths:
    """Where the event type, the recipients and the data sit in the request, for 422 ``errors``."""

    type: list[str | int]
    recipients: list[str | int]
    data: list[str | int]

    @classmethod
    def of_envelope(cls, prefix: list[str | int]) -> FieldPaths:
        return cls([*prefix, "type"], [*prefix, "data", "recipients"], [*prefix, "data"])


REQUEST_FIELDS = FieldPaths(["body", "event_type"], ["body", "recipients"], ["body", "data"])


@dataclass(frozen=True)
class Incoming:
    """One notification to accept, whichever way it came in."""

    key: str
    """Its idempotency key: the event id, or ``<sender>:<Idempotency-Key>`` for a request."""
    body: bytes
    """The bytes hashed to tell a replay from a different request under the same key."""
    notification_id: str
    event_type: str
    source: str
    occurred_at: datetime
    data: dict[str, Any]
    recipients: Sequence[Recipient]
    priority: Priority
    not_before: datetime | None
    place: str
    """The org unit it concerns: who may read it, and which webhook subscriptions receive it."""
    webhook_payload: bytes
    """What webhooks receive: the event as sent."""
    fields: FieldPaths
    contract: Mapping[str, Any]
    """The data as its event type's schema describes it (recipients and priority included)."""
    version: int | None
    """The schema version the sender named (None: the newest)."""
    contract_loc: Callable[[Sequence[str | int]], list[str | int]]
    """Where a path into `contract` lies in the request, for 422 ``errors``."""


@dataclass
class Lookups:
    """What a batch looks up once for all its events (None: look up per event)."""

    answers: dict[str, StoredAnswer] | None = None
    existing: set[str] | None = None
    templates: dict[str, dict[tuple[str, str], Template]] = field(default_factory=dict)
    subscriptions: list[WebhookSubscription] | None = None


class DeliveryRow(TypedDict):
    """One delivery to insert."""

    notification_id: str
    event_type: str
    channel: str
    recipient: str
    person_id: str | None
    subscription_id: int | None
    destination: str | None
    priority: str
    subject: str | None
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime


class NotificationRow(TypedDict):
    """One notification to insert."""

    id: str
    event_type: str
    source: str
    priority: str
    not_before: datetime | None
    occurred_at: datetime
    data: dict[str, Any]
    recipients: list[dict[str, Any]]
    org_unit: str
    created_by: str
    created_at: datetime


class Accepted(TypedDict):
    """The 202 answer (the shape of ``NotificationAccepted``), stored for replays."""

    id: str
    event_type: str
    recipients: list[str]
    deliveries: dict[str, int]


@dataclass
class PlannedNotification:
    """Everything one accepted notification writes, ready for one bulk insert."""

    key: str
    body_hash: str
    notification: NotificationRow
    deliveries: list[DeliveryRow]
    answer: Accepted


# ---- reading what came in


def canonical(obj: Any) -> bytes:
    """One byte form per JSON value, so the same event hashes the same however it was sent."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(
            f"The request body is not valid JSON: {exc}", zh=f"请求体不是有效的 JSON：{exc}"
        ) from exc


_SIZE_WHAT_ZH = {"event": "事件", "body": "请求体", "batch": "批量请求体"}


def require_size(size: int, limit: int, what: str) -> None:
    """413 when a body or event is larger than `limit` bytes."""
    if size > limit:
        raise NotificationTooLarge(
            f"The {what} is {size} bytes; the limit is {limit}",
            zh=f"{_SIZE_WHAT_ZH.get(what, what)}为 {size} 字节，上限为 {limit} 字节",
            limit=limit,
        )


def usable_id(value: Any) -> bool:
    """An event id that may be looked up (each event's other fields are checked on their own)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and control_character(value) is None


def _invalid(exc: ValidationError, prefix: list[str | int]) -> UnprocessableEntity:
    errors = [
        field_error([*prefix, *e["loc"]], e["msg"], e["type"], zh=i18n.field_msg_zh(e)) for e in exc.errors()
    ]
    return UnprocessableEntity(
        f"{len(errors)} invalid field(s)", zh=f"{len(errors)} 个字段无效", errors=errors
    )


def from_envelope(
    obj: Any, *, key: str, raw: bytes | None, prefix: list[str | int], body: bytes | None = None
) -> Incoming:
    """An event envelope (`raw` as sent, or None for a batch item) as a notification to accept.

    `body` is its canonical form, when the caller has it already.
    """
    try:
        env = EventEnvelope.model_validate(obj)
    except ValidationError as exc:
        raise _invalid(exc, prefix) from exc
    data = env.data.model_dump(mode="json", exclude={"recipients", "priority", "not_before"}) | (
        env.data.model_extra or {}
    )
    return Incoming(
        key=key,
        body=body if body is not None else canonical(obj),
        notification_id=env.id,
        event_type=env.type,
        source=env.source,
        occurred_at=env.occurred_at,
        data=data,
        recipients=env.data.recipients,
        priority=env.data.priority,
        not_before=env.data.not_before,
        place=access.event_place(data),
        webhook_payload=raw if raw is not None else orjson.dumps(obj),
        fields=FieldPaths.of_envelope(prefix),
        contract=obj["data"],
        version=env.version,
        contract_loc=lambda path: [*prefix, "data", *path],
    )


def from_request(request: NotificationCreate, *, sender: Sender, key: str, body: bytes) -> Incoming:
    """A notification request as a notification to accept; its id derives from sender and key."""
    principal = sender.principal
    place = access.request_place(principal, request.data, ["body", "data"])
    nid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"notify:{principal.sub}:{key}"))
    envelope: dict[str, Any] = {
        "id": nid,
        "type": request.event_type,
        "source": principal.sub,
        "occurred_at": sender.now,
        "data": request.data,
    }
    known = contracts.versions(request.event_type)
    if known:
        envelope["version"] = known[-1]  # what webhooks get has the outbox envelope's shape
    return Incoming(
        key=f"{principal.sub}:{key}",
        body=body,
        notification_id=nid,
        event_type=request.event_type,
        source=principal.sub,
        occurred_at=sender.now,
        data=dict(request.data),
        recipients=request.recipients,
        priority=request.priority,
        not_before=request.not_before,
        place=place,
        webhook_payload=orjson.dumps(envelope),
        fields=REQUEST_FIELDS,
        contract=_request_contract(request),
        version=None,
        contract_loc=_request_loc,
    )


def _request_contract(request: NotificationCreate) -> dict[str, Any]:
    """A request's data as its event type's schema sees it: with the request's recipients and priority."""
    out: dict[str, Any] = {
        **request.data,
        "recipients": [r.model_dump(mode="json") for r in request.recipients],
        "priority": request.priority.value,
    }
    if request.not_before is not None:
        out["not_before"] = request.not_before.isoformat()
    return out


def _request_loc(path: Sequence[str | int]) -> list[str | int]:
    """A request's recipients, priority and not_before are its own members; the rest is in `data`."""
    if path and path[0] in contracts.ENVELOPE_FIELDS:
        return ["body", *path]
    return ["body", "data", *path]


# ---- accepting


async def accept(session: AsyncSession, sender: Sender, incoming: Incoming) -> Answer:
    """Accept a notification once: validate, resolve, render, queue; a replay returns the first answer."""
    planned = await plan(session, sender, incoming, Lookups())
    if not isinstance(planned, PlannedNotification):
        return planned
    await write_planned(session, [planned], now=sender.now)
    return 202, planned.answer


async def accept_event(session: AsyncSession, sender: Sender, *, key: str, raw: bytes) -> Answer:
    """Accept one event envelope sent as `raw` under `key`."""
    incoming = from_envelope(parse_json(raw), key=key, raw=raw, prefix=["body"])
    return await accept(session, sender, incoming)


async def accept_request(
    session: AsyncSession, sender: Sender, request: NotificationCreate, *, key: str, body: bytes
) -> Answer:
    """Accept a notification request sent as `body` under the sender's `key`."""
    return await accept(session, sender, from_request(request, sender=sender, key=key, body=body))


async def accept_batch(
    session: AsyncSession, sender: Sender, events: Sequence[dict[str, Any]]
) -> list[tuple[str | None, int, Mapping[str, Any]]]:
    """Accept or refuse each event on its own; (id, status, body) per event, in order.

    What every event would look up on its own is fetched once for all, and the accepted ones are
    written together.
    """
    ids = [e["id"] for e in events if usable_id(e.get("id"))]
    lookups = Lookups(
        answers=await repository.stored_answers(session, ids),
        existing=await repository.existing_notification_ids(session, ids),
    )
    results: list[tuple[str | None, int, Mapping[str, Any]]] = []
    planned: list[PlannedNotification] = []
    for i, item in enumerate(events):
        item_id = item.get("id") if usable_id(item.get("id")) else None
        try:
            outcome = await _plan_item(session, sender, item, item_id, i, lookups)
        except ProblemError as exc:
            results.append((item_id, exc.status, problem_document(exc)))
            continue
        if isinstance(outcome, PlannedNotification):
            planned.append(outcome)
            # A later event of the batch with the same key or id sees this one as already accepted.
            if lookups.answers is not None:
                lookups.answers[outcome.key] = (outcome.body_hash, 202, outcome.answer)
            if lookups.existing is not None:
                lookups.existing.add(outcome.notification["id"])
            results.append((item_id, 202, outcome.answer))
        else:
            results.append((item_id, *outcome))
    await write_planned(session, planned, now=sender.now)
    return results


async def _plan_item(
    session: AsyncSession,
    sender: Sender,
    item: dict[str, Any],
    item_id: str | None,
    index: int,
    lookups: Lookups,
) -> Answer | PlannedNotification:
    prefix: list[str | int] = ["body", "events", index]
    if item_id is None:
        raise UnprocessableEntity(
            "Every event needs a string id (1-64 characters, no control characters)",
            zh="每个事件都需要字符串编号（1-64 个字符，不含控制字符）",
            errors=[field_error([*prefix, "id"], "required", zh="必填")],
        )
    body = canonical(item)
    require_size(len(body), sender.settings.max_payload_bytes, "event")
    incoming = from_envelope(item, key=item_id, raw=None, prefix=prefix, body=body)
    return await plan(session, sender, incoming, lookups)


def problem_document(exc: ProblemError) -> dict[str, Any]:
    """The problem document the kit would answer for `exc` (a batch answers one per refused event)."""
    response = problem_response(
        status=exc.status, slug=exc.slug, title=exc.title, detail=exc.detail, **exc.extensions
    )
    document: dict[str, Any] = orjson.loads(response.body)
    return document


async def plan(
    session: AsyncSession, sender: Sender, incoming: Incoming, lookups: Lookups
) -> Answer | PlannedNotification:
    """Validate, resolve and render one notification without writing it; a replay returns the stored answer."""
    body_hash = outbox.request_hash(incoming.body)
    replayed = await _replayed(session, incoming.key, body_hash, lookups)
    if replayed is not None:
        return replayed
    _require_known_type(incoming)
    _require_valid_data(incoming)
    await _require_new_id(session, incoming.notification_id, lookups)
    people = await resolve_recipients(
        session, incoming.recipients, principal=sender.principal, loc=incoming.fields.recipients
    )
    templates = await _templates(session, incoming.event_type, lookups)
    if lookups.subscriptions is None:
        lookups.subscriptions = await subscription_service.receivers(session)
    rows = [
        *(row for person in people for row in _person_deliveries(sender, incoming, person, templates)),
        *_webhook_deliveries(sender, incoming, lookups.subscriptions),
    ]
    counts = {c.value: 0 for c in Channel}
    for row in rows:
        counts[row["channel"]] += 1
    answer: Accepted = {
        "id": incoming.notification_id,
        "event_type": incoming.event_type,
        "recipients": [p.user_id for p in people],
        "deliveries": counts,
    }
    return PlannedNotification(
        key=incoming.key,
        body_hash=body_hash,
        notification=_notification_row(sender, incoming),
        deliveries=rows,
        answer=answer,
    )


async def _replayed(session: AsyncSession, key: str, body_hash: str, lookups: Lookups) -> Answer | None:
    """The answer stored under `key`; 409 when the key came with another body."""
    answers = (
        lookups.answers if lookups.answers is not None else await repository.stored_answers(session, [key])
    )
    stored = answers.get(key)
    if stored is None:
        return None
    if stored[0] != body_hash:
        raise outbox.IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body",
            zh="该 Idempotency-Key 已用于另一个请求体",
            idempotency_key=key,
        )
    return stored[1], stored[2]


def _require_known_type(incoming: Incoming) -> None:
    if incoming.event_type not in CATALOG:
        raise UnknownEventType(
            f"Unknown event type {incoming.event_type!r}; see GET /event-types",
            zh=f"未知的事件类型 {incoming.event_type!r}；参见 GET /event-types",
            errors=[
                field_error(
                    incoming.fields.type,
                    f"unknown event type {incoming.event_type!r}",
                    zh=f"未知的事件类型 {incoming.event_type!r}",
                )
            ],
        )


def _require_valid_data(incoming: Incoming) -> None:
    """422 unless the data satisfies the event type's schema (the version named, else the newest).

    Each violation is named by its path in the request; the sending outbox dead-letters the event
    (a 422 is a refusal for good).
    """
    try:
        version, found = contracts.violations(incoming.event_type, incoming.contract, incoming.version)
    except contracts.UnknownEventVersion as exc:
        raise UnknownEventVersion(
            str(exc),
            zh=f"事件类型 {incoming.event_type!r} 没有该版本的契约（已知版本：{'、'.join(map(str, exc.known))}）",
            errors=[
                field_error(
                    [*incoming.fields.type[:-1], "version"],
                    str(exc),
                    zh=f"事件类型 {incoming.event_type!r} 没有该版本的契约（已知版本：{'、'.join(map(str, exc.known))}）",
                )
            ],
            event_type=incoming.event_type,
            known_versions=exc.known,
        ) from exc
    except contracts.UnknownEventType as exc:
        # In notify's catalogue but not in the kit's: a bug test_contract catches.
        raise UnknownEventType(
            str(exc),
            zh=f"通知服务认识事件类型 {incoming.event_type!r}，但事件目录中没有它",
            errors=[
                field_error(
                    incoming.fields.type,
                    f"unknown event type {incoming.event_type!r}",
                    zh=f"未知的事件类型 {incoming.event_type!r}",
                )
            ],
        ) from exc
    if found:
        where = f"{incoming.event_type} v{version}"
        raise InvalidEventData(
            f"{len(found)} field(s) break the schema of {where}: "
            + "; ".join(f"{v.where}: {v.message}" for v in found[:10]),
            zh=f"有 {len(found)} 个字段不符合 {where} 的契约："
            + "；".join(f"{v.where}：{v.message}" for v in found[:10]),
            errors=[
                field_error(incoming.contract_loc(v.path), v.message, "schema", zh=f"不符合契约：{v.message}")
                for v in found
            ],
            event_type=incoming.event_type,
            schema_version=version,
        )


async def _require_new_id(session: AsyncSession, notification_id: str, lookups: Lookups) -> None:
    existing = (
        lookups.existing
        if lookups.existing is not None
        else await repository.existing_notification_ids(session, [notification_id])
    )
    if notification_id in existing:
        raise NotificationIdTaken(
            f"Event {notification_id} was already accepted under another Idempotency-Key",
            zh=f"事件 {notification_id} 已以另一个 Idempotency-Key 被接收",
        )


async def _templates(
    session: AsyncSession, event_type: str, lookups: Lookups
) -> dict[tuple[str, str], Template]:
    if event_type not in lookups.templates:
        lookups.templates[event_type] = await template_repository.latest_templates(
            session, [(event_type, c) for c in CHANNELS]
        )
    return lookups.templates[event_type]


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
    known = await people_repository.people_by_ids(session, wanted)

    def reachable(user_id: str) -> bool:
        p = known.get(user_id)
        return p is not None and p.active and access.can_reach(principal, p.org_unit)

    errors = [
        field_error(
            [*loc, i, "user_id"],
            f"no person {r.user_id!r} in the directory within your scope",
            zh=f"通讯录中您的范围内没有人员 {r.user_id!r}",
        )
        for i, r in enumerate(recipients)
        if isinstance(r, PersonRecipient) and not reachable(r.user_id)
    ]
    if errors:
        raise UnknownRecipient(
            "A recipient is not in the directory within your scope",
            zh="有接收人不在通讯录中您的范围内",
            errors=errors,
        )
    out: dict[str, Person] = {}
    units: dict[tuple[str, bool], list[Person]] = {}
    for r in recipients:
        if isinstance(r, PersonRecipient):
            out.setdefault(r.user_id, known[r.user_id])
            continue
        # A role reaches its holders anywhere within the unit (district_admin within "ningbo" =
        # every district's admin); an org unit's contacts are that unit's own.
        subtree = isinstance(r, RoleRecipient)
        if (r.org_unit, subtree) not in units:
            units[(r.org_unit, subtree)] = await people_repository.people_in_unit(
                session, r.org_unit, subtree=subtree
            )
        for p in units[(r.org_unit, subtree)]:
            if (isinstance(r, RoleRecipient) and r.role in p.roles) or (
                isinstance(r, OrgUnitRecipient) and p.is_contact
            ):
                out.setdefault(p.user_id, p)
    return list(out.values())


def _start(sender: Sender, incoming: Incoming) -> datetime:
    return max(sender.now, incoming.not_before) if incoming.not_before else sender.now


def _person_deliveries(
    sender: Sender, incoming: Incoming, person: Person, templates: dict[tuple[str, str], Template]
) -> list[DeliveryRow]:
    """One row per channel the person hears this on, rendered, held for a digest or for quiet hours."""
    ctx = template_context(
        data=incoming.data,
        event_type=incoming.event_type,
        event_id=incoming.notification_id,
        occurred_at=incoming.occurred_at,
        person=person,
    )
    rows = []
    for channel in channels_for(person, incoming.event_type, incoming.priority):
        subject, text = _render(sender, incoming, channel, ctx, templates.get((incoming.event_type, channel)))
        due = _start(sender, incoming)
        status = DeliveryStatus.PENDING
        if channel in HELD_BY_DIGEST and incoming.priority != Priority.URGENT:
            if person.digest_enabled:
                status = DeliveryStatus.HELD
            else:
                due = quiet_release(person, due)
        rows.append(
            _delivery_row(
                sender,
                incoming,
                channel=channel,
                recipient=person.user_id,
                person_id=person.user_id,
                destination={Channel.EMAIL: person.email, Channel.SMS: person.phone}.get(Channel(channel)),
                subject=subject,
                body=text,
                status=status,
                due=due,
            )
        )
    return rows


def _render(
    sender: Sender, incoming: Incoming, channel: str, ctx: dict[str, Any], template: Template | None
) -> tuple[str | None, str]:
    """(subject, body) for one channel; 422 naming the template and line when it does not render."""
    try:
        return render_message(template, incoming.event_type, channel, ctx, sender.settings)
    except TemplateProblem as exc:
        version = template.version if template else 0
        where = f"template {incoming.event_type}/{channel} v{version}"
        where_zh = f"模板 {incoming.event_type}/{channel} 第 {version} 版"
        raise TemplateRenderFailed(
            f"The event does not fit the {where}: {exc.describe()}",
            zh=f"事件与{where_zh}不符：{exc.describe()}",
            errors=[
                field_error(
                    incoming.fields.data,
                    f"{where}: {exc.describe()}",
                    "template_error",
                    zh=f"{where_zh}：{exc.describe()}",
                )
            ],
            template={"event_type": incoming.event_type, "channel": channel, "version": version},
            line=exc.line,
        ) from exc


def _webhook_deliveries(
    sender: Sender, incoming: Incoming, subscriptions: Sequence[WebhookSubscription]
) -> list[DeliveryRow]:
    """One row per enabled subscription that receives this event type at this place."""
    return [
        _delivery_row(
            sender,
            incoming,
            channel=Channel.WEBHOOK,
            recipient=f"webhook:{sub.id}",
            subscription_id=sub.id,
            destination=sub.url,
            subject=None,
            body=incoming.webhook_payload.decode(),
            status=DeliveryStatus.PENDING,
            due=_start(sender, incoming),
        )
        for sub in subscriptions
        if subscription_service.receives(sub, incoming.event_type, incoming.place)
    ]


def _delivery_row(
    sender: Sender,
    incoming: Incoming,
    *,
    channel: str,
    recipient: str,
    destination: str | None,
    subject: str | None,
    body: str,
    status: DeliveryStatus,
    due: datetime,
    person_id: str | None = None,
    subscription_id: int | None = None,
) -> DeliveryRow:
    return {
        "notification_id": incoming.notification_id,
        "event_type": incoming.event_type,
        "channel": str(channel),
        "recipient": recipient,
        "destination": destination,
        "priority": incoming.priority.value,
        "subject": subject,
        "body": body,
        "status": status.value,
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": sender.now,
        "person_id": person_id,
        "subscription_id": subscription_id,
    }


def _notification_row(sender: Sender, incoming: Incoming) -> NotificationRow:
    return {
        "id": incoming.notification_id,
        "event_type": incoming.event_type,
        "source": incoming.source,
        "priority": incoming.priority.value,
        "not_before": incoming.not_before,
        "occurred_at": incoming.occurred_at,
        "data": incoming.data,
        "recipients": [r.model_dump(mode="json") for r in incoming.recipients],
        "org_unit": incoming.place,
        "created_by": sender.principal.sub,
        "created_at": sender.now,
    }


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
        await delivery_repository.insert_deliveries(session, [d for p in planned for d in p.deliveries])
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
            zh="使用该 Idempotency-Key 的请求正在处理中，请稍后重试",
            headers={"retry-after": "1"},
        ) from exc
