"""Thin routers: intake, directory, templates, inbox, webhooks, operations."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import ValidationError
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from services.kit.auth import Principal, PrincipalDep, allow, internal
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import (
    PROBLEM_BASE,
    BadRequest,
    ProblemError,
    UnprocessableEntity,
    field_error,
)
from services.kit.orgunit import OrgUnit
from services.kit.params import IdPath, OffsetQuery
from services.kit.text import control_character
from services.notify import access, repository, service
from services.notify.access import ADMIN, DIRECTORY, STATS
from services.notify.deps import SettingsDep, StreamSlots, UserIdPath, ValidPerson, ValidSubscription
from services.notify.errors import (
    DeliveryNotFound,
    EventTypeNotFound,
    IdempotencyKeyRequired,
    InboxMessageNotFound,
    NotificationTooLarge,
    TooManyStreams,
)
from services.notify.events import CATALOG, CHANNELS
from services.notify.models import Delivery, InboxMessage, Person, WebhookSubscription
from services.notify.schemas import (
    EVENT_TYPE_PATTERN,
    ROLE_PATTERN,
    Channel,
    ChannelStats,
    DeliveryAttemptRead,
    DeliveryRead,
    DeliveryStatus,
    EventBatch,
    EventBatchResults,
    EventEnvelope,
    EventTypeRead,
    InboxMessageRead,
    MessageChannel,
    NotificationAccepted,
    NotificationCreate,
    NotificationRead,
    Page,
    PersonRead,
    PersonUpsert,
    PreferencesRead,
    PreferencesUpdate,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    TemplateRead,
    TemplateUpdate,
    UnreadCount,
    Updated,
)

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500)")]
Offset = OffsetQuery
EventTypeQuery = Annotated[str | None, Query(alias="type", max_length=100, pattern=EVENT_TYPE_PATTERN)]
NotificationIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f/]+$", description="The event id")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Unique per request; the event id for events."
    ),
]
intake = APIRouter(tags=["intake"])
directory = APIRouter(tags=["directory"])
templates = APIRouter(tags=["templates"])
inbox = APIRouter(tags=["inbox"])
webhooks = APIRouter(tags=["webhooks"])
operations = APIRouter(tags=["operations"])


def _accepted(status: int, answer: dict[str, Any]) -> Response:
    return Response(orjson.dumps(answer), status_code=status, media_type="application/json")


async def _raw_body(request: Request, settings: Any) -> bytes:
    body = await request.body()
    if len(body) > settings.max_payload_bytes:
        raise NotificationTooLarge(
            f"The body is {len(body)} bytes; the limit is {settings.max_payload_bytes}",
            limit=settings.max_payload_bytes,
        )
    return body


def _require_key(key: str | None) -> str:
    if not key:
        raise IdempotencyKeyRequired(
            "Send an Idempotency-Key header (the event id for events)",
            errors=[field_error(["header", "Idempotency-Key"], "required")],
        )
    return key


def _validation_problem(exc: ValidationError, prefix: list[str | int] | None = None) -> Exception:
    errors = [field_error([*(prefix or ["body"]), *e["loc"]], e["msg"], e["type"]) for e in exc.errors()]
    return UnprocessableEntity(f"{len(errors)} invalid field(s)", errors=errors)


@intake.post("/events", status_code=202, response_model=NotificationAccepted, **internal())
async def receive_event(
    envelope: EventEnvelope,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Accept a domain event from another service's outbox (once per Idempotency-Key; services only)."""
    key = _require_key(idempotency_key)
    body = await _raw_body(request, settings)
    status, answer = await _accept_event(
        session, clock.now(), settings, principal, key, body, loc_prefix=["body"]
    )
    request.app.state.delivery_wake.set()
    return _accepted(status, answer)


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc


async def _accept_event(
    session: Any,
    now: Any,
    settings: Any,
    principal: Any,
    key: str,
    body: bytes | Any,
    *,
    loc_prefix: list[str | int],
    cache: dict[str, Any] | None = None,
) -> Any:
    """Validate and accept one envelope; for a batch item (with `cache`), plan it without writing."""
    raw = body if isinstance(body, bytes) else None
    obj = _parse_json(body) if isinstance(body, bytes) else body
    canonical = service.canonical(obj)
    if raw is None and len(canonical) > settings.max_payload_bytes:
        raise NotificationTooLarge(
            f"The event is {len(canonical)} bytes; the limit is {settings.max_payload_bytes}",
            limit=settings.max_payload_bytes,
        )
    try:
        env = EventEnvelope.model_validate(obj)
    except ValidationError as exc:
        raise _validation_problem(exc, loc_prefix) from exc
    data = env.data.model_dump(mode="json", exclude={"recipients", "priority", "not_before"}) | (
        env.data.model_extra or {}
    )
    accept: Any = service.plan_notification if cache is not None else service.accept_notification
    return await accept(  # type: ignore[no-any-return]
        session,
        settings=settings,
        now=now,
        principal=principal,
        idempotency=key,
        body=canonical,
        notification_id=env.id,
        event_type=env.type,
        source=env.source,
        occurred_at=env.occurred_at,
        data=data,
        recipients=env.data.recipients,
        priority=env.data.priority,
        not_before=env.data.not_before,
        place=access.event_place(data),
        loc={
            "type": [*loc_prefix, "type"],
            "recipients": [*loc_prefix, "data", "recipients"],
            "data": [*loc_prefix, "data"],
        },
        webhook_payload=raw if raw is not None else orjson.dumps(obj),
        cache=cache,
    )


def _usable_id(value: Any) -> bool:
    """An event id that may be looked up (each event's other fields are checked on their own)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and control_character(value) is None


def _problem_body(exc: ProblemError) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        **exc.extensions,
    }


@intake.post("/events/batch", response_model=EventBatchResults, **internal())
async def receive_event_batch(
    batch: EventBatch,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> Response:
    """Accept up to 500 events at once; each is accepted or refused on its own, keyed by its id (services only)."""
    body = await request.body()
    if len(body) > settings.max_payload_bytes * 100:
        raise NotificationTooLarge(
            f"The batch is {len(body)} bytes; the limit is {settings.max_payload_bytes * 100}"
        )
    now = clock.now()
    ids = [e["id"] for e in batch.events if _usable_id(e.get("id"))]
    # Prefetch what each event would look up on its own, then write all accepted ones at once.
    cache: dict[str, Any] = {
        "keys": await repository.stored_answers(session, ids),
        "existing": await repository.existing_notification_ids(session, ids),
    }
    results: list[dict[str, Any]] = []
    planned: list[service.PlannedNotification] = []
    for i, item in enumerate(batch.events):
        item_id = item.get("id") if _usable_id(item.get("id")) else None
        try:
            if item_id is None:
                raise UnprocessableEntity(
                    "Every event needs a string id (1-64 characters, no control characters)",
                    errors=[field_error(["body", "events", i, "id"], "required")],
                )
            outcome = await _accept_event(
                session,
                now,
                settings,
                principal,
                item_id,
                item,
                loc_prefix=["body", "events", i],
                cache=cache,
            )
        except ProblemError as exc:
            results.append({"id": item_id, "status": exc.status, "body": _problem_body(exc)})
            continue
        if isinstance(outcome, service.PlannedNotification):
            planned.append(outcome)
            cache["keys"][outcome.key] = (outcome.body_hash, 202, outcome.answer)
            cache["existing"].add(item_id)
            results.append({"id": item_id, "status": 202, "body": outcome.answer})
        else:
            results.append({"id": item_id, "status": outcome[0], "body": outcome[1]})
    await service.write_planned(session, planned, now=now)
    request.app.state.delivery_wake.set()
    return Response(orjson.dumps({"results": results}), media_type="application/json")


@intake.post("/notifications", status_code=202, response_model=NotificationAccepted, **allow(*ADMIN))
async def create_notification(
    notification_in: NotificationCreate,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Send a notification to people, roles or org units inside your scope (once per Idempotency-Key)."""
    key = _require_key(idempotency_key)
    body = await _raw_body(request, settings)
    req = notification_in
    place = access.request_place(principal, req.data, ["body", "data"])
    now = clock.now()
    nid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"notify:{principal.sub}:{key}"))
    payload = service.envelope_bytes(
        event_id=nid, event_type=req.event_type, source=principal.sub, occurred_at=now, data=req.data
    )
    status, answer = await service.accept_notification(
        session,
        settings=settings,
        now=now,
        principal=principal,
        idempotency=f"{principal.sub}:{key}",
        body=body,
        notification_id=nid,
        event_type=req.event_type,
        source=principal.sub,
        occurred_at=now,
        data=req.data,
        recipients=req.recipients,
        priority=req.priority,
        not_before=req.not_before,
        place=place,
        loc={"type": ["body", "event_type"], "recipients": ["body", "recipients"], "data": ["body", "data"]},
        webhook_payload=payload,
    )
    request.app.state.delivery_wake.set()
    return _accepted(status, answer)


async def _delivery_reads(session: Any, deliveries: list[Delivery]) -> list[DeliveryRead]:
    attempts = await repository.attempts_of(session, [d.id for d in deliveries if d.id is not None])
    out = []
    for d in deliveries:
        read = DeliveryRead.model_validate(d)
        read.attempt_log = [DeliveryAttemptRead.model_validate(a) for a in attempts.get(d.id or 0, [])]
        if d.channel in ("email", "sms"):
            read.destination = (
                service.mask_email(d.destination)
                if d.channel == "email"
                else service.mask_phone(d.destination)
            )
        out.append(read)
    return out


@intake.get("/notifications/{notification_id}", response_model=NotificationRead, **allow(*ADMIN))
async def get_notification(
    notification_id: NotificationIdPath, session: SessionDep, principal: PrincipalDep
) -> NotificationRead:
    """Read one notification with each delivery in your scope and its attempts."""
    n = await repository.get_notification(session, notification_id)
    if n is None:
        raise access.notification_not_found(notification_id)
    deliveries = await repository.deliveries_of(
        session, notification_id, visible=access.delivery_scope(principal)
    )
    if not access.can_see_notification(principal, n, deliveries):
        raise access.notification_not_found(notification_id)
    read = NotificationRead.model_validate(n)
    read.deliveries = await _delivery_reads(session, deliveries)
    return read


@intake.get("/event-types", response_model=list[EventTypeRead])
async def list_event_types() -> list[EventTypeRead]:
    """List the event types notify understands, with the sample payload templates are checked against."""
    return [EventTypeRead(type=e.type, title=e.title, sample=e.sample) for e in CATALOG.values()]


# ---- directory


def _person_read(p: Person) -> PersonRead:
    return PersonRead(
        user_id=p.user_id,
        name=p.name,
        org_unit=p.org_unit,
        roles=p.roles,
        is_contact=p.is_contact,
        phone=service.mask_phone(p.phone),
        email=service.mask_email(p.email),
        active=p.active,
        preferences=PreferencesRead.model_validate(p),
    )


@directory.put("/people/{user_id}", response_model=PersonRead, **allow(*DIRECTORY))
async def upsert_person(
    user_id: UserIdPath,
    person_in: PersonUpsert,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> PersonRead:
    """Create or replace a person of your scope in the recipient directory (keyed by their user id)."""
    person, created = await service.upsert_person(
        session, principal=principal, user_id=user_id, person_in=person_in, now=clock.now()
    )
    response.status_code = 201 if created else 200
    return _person_read(person)


@directory.get("/people", response_model=Page[PersonRead], **allow(*DIRECTORY))
async def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    org_unit: Annotated[OrgUnit | None, Query()] = None,
    role: Annotated[str | None, Query(pattern=ROLE_PATTERN)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PersonRead]:
    """List people in your scope (phone and email masked)."""
    people, total = await repository.list_people(
        session,
        visible=principal.scope_filter(Person.org_unit),
        org_unit=org_unit,
        role=role,
        limit=limit,
        offset=offset,
    )
    return Page[PersonRead](items=[_person_read(p) for p in people], total=total, limit=limit, offset=offset)


@directory.get("/people/{user_id}", response_model=PersonRead, **allow(*DIRECTORY))
async def get_person(person: ValidPerson) -> PersonRead:
    """Read one person of your scope (phone and email masked)."""
    return _person_read(person)


@directory.get("/people/{user_id}/preferences", response_model=PreferencesRead)
async def get_preferences(person: ValidPerson, principal: PrincipalDep) -> PreferencesRead:
    """Read a person's notification preferences (yours, or as an administrator over them)."""
    access.require_preferences_access(principal, person)
    return PreferencesRead.model_validate(person)


@directory.patch("/people/{user_id}/preferences", response_model=PreferencesRead)
async def update_preferences(
    person: ValidPerson,
    prefs: PreferencesUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> PreferencesRead:
    """Change channels per event type, quiet hours and the daily digest (yours, or as an administrator over them)."""
    access.require_preferences_access(principal, person)
    person = await service.update_preferences(session, person=person, prefs=prefs, now=clock.now())
    return PreferencesRead.model_validate(person)


# ---- templates


def _check_event_channel(event_type: str) -> None:
    if event_type not in CATALOG:
        raise EventTypeNotFound(
            f"Unknown event type {event_type!r}; see GET /event-types", event_type=event_type
        )


@templates.get("/templates", response_model=list[TemplateRead], **allow(*ADMIN))
async def list_templates(
    session: SessionDep, event_type: Annotated[str | None, Query(max_length=100)] = None
) -> list[TemplateRead]:
    """List the template in use for every event type and channel (version 0 = built-in)."""
    types = [event_type] if event_type else list(CATALOG)
    for t in types:
        _check_event_channel(t)
    saved = await repository.latest_templates(session, [(t, c) for t in types for c in CHANNELS])
    out = []
    for t in types:
        for c in CHANNELS:
            s = saved.get((t, c))
            if s is not None:
                out.append(TemplateRead.model_validate(s, from_attributes=True))
            else:
                subject, body = CATALOG[t].default_template(c)
                out.append(TemplateRead(event_type=t, channel=c, version=0, subject=subject, body=body))
    return out


@templates.get(
    "/templates/{event_type}/{channel}/versions", response_model=list[TemplateRead], **allow(*ADMIN)
)
async def list_template_versions(
    event_type: Annotated[str, Path(max_length=100)], channel: MessageChannel, session: SessionDep
) -> list[TemplateRead]:
    """List every saved version of one template, newest first, then the built-in one."""
    _check_event_channel(event_type)
    saved = [
        TemplateRead.model_validate(t, from_attributes=True)
        for t in await repository.template_versions(session, event_type, channel)
    ]
    subject, body = CATALOG[event_type].default_template(channel)
    return [
        *saved,
        TemplateRead(event_type=event_type, channel=channel, version=0, subject=subject, body=body),
    ]


@templates.put(
    "/templates/{event_type}/{channel}", status_code=201, response_model=TemplateRead, **allow("city_admin")
)
async def save_template(
    event_type: Annotated[str, Path(max_length=100)],
    channel: MessageChannel,
    template_in: TemplateUpdate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> TemplateRead:
    """Save a new version of a template; refused with the error and line if the sample payload does not render."""
    access.require_city_wide(principal, "Saving a template")
    _check_event_channel(event_type)
    template, preview = await service.save_template(
        session,
        event_type=event_type,
        channel=channel,
        subject=template_in.subject,
        body=template_in.body,
        by=principal.sub,
        now=clock.now(),
        settings=settings,
    )
    read = TemplateRead.model_validate(template, from_attributes=True)
    read.preview = preview
    return read


# ---- inbox


@inbox.get("/inbox", response_model=Page[InboxMessageRead])
async def list_inbox(
    session: SessionDep,
    principal: PrincipalDep,
    event_type: EventTypeQuery = None,
    unread_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[InboxMessageRead]:
    """List your in-app messages, unread first, newest first; filter by event type."""
    items, total = await repository.list_inbox(
        session,
        user_id=principal.sub,
        event_type=event_type,
        unread_only=unread_only,
        limit=limit,
        offset=offset,
    )
    return Page[InboxMessageRead](
        items=[InboxMessageRead.model_validate(m) for m in items], total=total, limit=limit, offset=offset
    )


@inbox.get("/inbox/unread-count", response_model=UnreadCount)
async def count_unread(session: SessionDep, principal: PrincipalDep) -> UnreadCount:
    """Count your unread in-app messages."""
    return UnreadCount(unread=await repository.unread_count(session, principal.sub))


@inbox.post("/inbox/{message_id}/read", response_model=Updated)
async def mark_message_read(
    message_id: IdPath, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> Updated:
    """Mark one of your messages read."""
    n = await repository.mark_read(session, user_id=principal.sub, now=clock.now(), message_id=message_id)
    if n == 0:
        m = await session.get(InboxMessage, message_id)
        if m is None or m.user_id != principal.sub:
            raise InboxMessageNotFound(f"No message {message_id} in your inbox", message_id=message_id)
    return Updated(updated=n)


@inbox.post("/inbox/read-all", response_model=Updated)
async def mark_all_read(session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Updated:
    """Mark all your messages read."""
    return Updated(
        updated=await repository.mark_read(session, user_id=principal.sub, now=clock.now(), message_id=None)
    )


@inbox.get(
    "/inbox/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events, one per message"}
    },
)
async def stream_inbox(
    request: Request,
    principal: PrincipalDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Stream your new in-app messages as Server-Sent Events; reconnect with Last-Event-ID to miss nothing."""
    app = request.app
    user_id = principal.sub
    if last_event_id and last_event_id.isdigit() and len(last_event_id) <= 18:
        start = int(last_event_id)
    else:
        async with app.state.sessionmaker() as session:
            start = await repository.latest_inbox_id(session, user_id)
    slots: StreamSlots = app.state.stream_slots
    key = _stream_key(principal)
    limit = app.state.settings.stream_max_per_principal
    if not slots.acquire(key, limit):
        retry_after = app.state.settings.stream_retry_after_seconds
        raise TooManyStreams(
            f"You already have {limit} open streams; close one or retry later",
            headers={"retry-after": str(retry_after)},
            limit=limit,
        )

    async def events() -> AsyncIterator[ServerSentEvent]:
        last = start
        yield ServerSentEvent(comment="connected", retry=2000)
        while True:
            async with app.state.sessionmaker() as session:
                messages = await repository.inbox_after(session, user_id=user_id, after_id=last)
            for m in messages:
                data = InboxMessageRead.model_validate(m).model_dump_json()
                yield ServerSentEvent(data=data, id=str(m.id), event="message")
                last = m.id or last
            if not messages:
                await app.state.inbox_signal.wait(app.state.settings.stream_poll_seconds)

    return _SlotStreamResponse(events(), ping=15, release=lambda: slots.release(key))


def _stream_key(principal: Principal) -> str:
    return f"{principal.kind}:{principal.sub}"


class _SlotStreamResponse(EventSourceResponse):
    """A stream that gives its slot back when it ends, however it ends (closed, cancelled, failed)."""

    def __init__(self, *args: Any, release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._release: Callable[[], None] | None = release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


# ---- webhooks


@webhooks.post(
    "/webhooks/subscriptions", status_code=201, response_model=SubscriptionCreated, **allow(*ADMIN)
)
async def create_subscription(
    sub_in: SubscriptionCreate,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> SubscriptionCreated:
    """Subscribe another system to event types in your scope; the secret to verify signatures is shown only here."""
    sub = await service.create_subscription(
        session, sub_in=sub_in, settings=settings, principal=principal, now=clock.now()
    )
    return SubscriptionCreated.model_validate(sub)


@webhooks.get("/webhooks/subscriptions", response_model=Page[SubscriptionRead], **allow(*ADMIN))
async def list_subscriptions(
    session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> Page[SubscriptionRead]:
    """List the webhook subscriptions of your scope (secrets are never shown again)."""
    subs = await repository.subscriptions(session, visible=principal.scope_filter(WebhookSubscription.scope))
    items = [SubscriptionRead.model_validate(s) for s in subs[offset : offset + limit]]
    return Page[SubscriptionRead](items=items, total=len(subs), limit=limit, offset=offset)


@webhooks.get("/webhooks/subscriptions/{subscription_id}", response_model=SubscriptionRead, **allow(*ADMIN))
async def get_subscription(sub: ValidSubscription) -> SubscriptionRead:
    """Read one webhook subscription and its health."""
    return SubscriptionRead.model_validate(sub)


@webhooks.post(
    "/webhooks/subscriptions/{subscription_id}/enable", response_model=SubscriptionRead, **allow(*ADMIN)
)
async def enable_subscription(sub: ValidSubscription, session: SessionDep) -> SubscriptionRead:
    """Re-enable a subscription (after it was disabled for failing); retry its dead letters separately."""
    sub.enabled = True
    sub.disabled_at = None
    sub.disabled_reason = None
    sub.consecutive_failures = 0
    sub.failing_since = None
    await session.flush()
    return SubscriptionRead.model_validate(sub)


@webhooks.post(
    "/webhooks/subscriptions/{subscription_id}/disable",
    response_model=SubscriptionRead,
    **allow(*ADMIN),
)
async def disable_subscription(
    sub: ValidSubscription, session: SessionDep, clock: ClockDep
) -> SubscriptionRead:
    """Stop sending to a subscription; its pending deliveries go to the dead-letter list."""
    sub.enabled = False
    sub.disabled_at = clock.now()
    sub.disabled_reason = "disabled by an administrator"
    await session.flush()
    await repository.fail_pending_for_subscription(
        session, sub.id or 0, "subscription disabled by an administrator"
    )
    return SubscriptionRead.model_validate(sub)


@webhooks.get(
    "/webhooks/subscriptions/{subscription_id}/deliveries", response_model=Page[DeliveryRead], **allow(*ADMIN)
)
async def list_subscription_deliveries(
    sub: ValidSubscription,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DeliveryRead]:
    """The delivery log of one subscription, newest first, with every attempt."""
    items, total = await repository.list_deliveries(
        session, subscription_id=sub.id, status=status, limit=limit, offset=offset
    )
    return Page[DeliveryRead](
        items=await _delivery_reads(session, items), total=total, limit=limit, offset=offset
    )


# ---- operations


@operations.get("/deliveries", response_model=Page[DeliveryRead], **allow(*ADMIN))
async def list_deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    status: DeliveryStatus | None = "failed",
    channel: Channel | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DeliveryRead]:
    """List the deliveries of your scope (the dead-letter list by default: status=failed), newest first."""
    items, total = await repository.list_deliveries(
        session,
        status=status,
        channel=channel,
        visible=access.delivery_scope(principal),
        limit=limit,
        offset=offset,
    )
    return Page[DeliveryRead](
        items=await _delivery_reads(session, items), total=total, limit=limit, offset=offset
    )


@operations.post("/deliveries/{delivery_id}/retry", response_model=Updated, **allow(*ADMIN))
async def retry_delivery(
    delivery_id: IdPath, session: SessionDep, clock: ClockDep, request: Request, principal: PrincipalDep
) -> Updated:
    """Send a dead-lettered delivery again (its attempt count starts over; a city-wide action)."""
    access.require_city_wide(principal, "Re-driving deliveries")
    n = await repository.retry_failed_deliveries(session, now=clock.now(), delivery_id=delivery_id)
    if n == 0:
        raise DeliveryNotFound(f"No failed delivery {delivery_id}", delivery_id=delivery_id)
    request.app.state.delivery_wake.set()
    return Updated(updated=n)


@operations.post("/deliveries/retry-failed", response_model=Updated, **allow(*ADMIN))
async def retry_failed_deliveries(
    session: SessionDep,
    clock: ClockDep,
    request: Request,
    principal: PrincipalDep,
    channel: Channel | None = None,
) -> Updated:
    """Send every dead-lettered delivery (of one channel, if given) again (a city-wide action)."""
    access.require_city_wide(principal, "Re-driving deliveries")
    n = await repository.retry_failed_deliveries(session, now=clock.now(), channel=channel)
    request.app.state.delivery_wake.set()
    return Updated(updated=n)


@operations.get("/deliveries/stats", response_model=list[ChannelStats], **allow(*STATS))
async def delivery_statistics(session: SessionDep, principal: PrincipalDep) -> list[ChannelStats]:
    """Count the deliveries of your scope per channel and status, with attempts spent."""
    by: dict[str, dict[str, int]] = defaultdict(dict)
    attempts: dict[str, int] = defaultdict(int)
    sent_attempts: dict[str, int] = {}
    for channel, status, count, tries in await repository.delivery_stats(
        session, visible=access.delivery_scope(principal)
    ):
        by[channel][status] = count
        attempts[channel] += tries
        if status == "sent":
            sent_attempts[channel] = tries
    return [
        ChannelStats(
            channel=c,
            by_status=by.get(c, {}),
            attempts=attempts.get(c, 0),
            mean_attempts_when_sent=(
                round(sent_attempts[c] / by[c]["sent"], 3) if by.get(c, {}).get("sent") else None
            ),
        )
        for c in ("inbox", "email", "sms", "webhook")
    ]
