"""Routes of notifications and the caller's inbox, with its live Server-Sent Events stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from services.kit.auth import Principal, PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.pagination import Page, PageDep
from services.kit.params import IdPath
from services.notify.deliveries.schemas import DeliveryRead, Updated
from services.notify.deps import StreamSlots
from services.notify.errors import TooManyStreams
from services.notify.events import EventTypeName
from services.notify.notifications import service
from services.notify.notifications.schemas import InboxMessageRead, NotificationRead, UnreadCount
from services.notify.scope import ADMIN

TAG = "notify.notifications"
router = APIRouter(tags=[TAG])

NotificationIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f/]+$", description="The event id")
]


@router.get("/notifications/{notification_id}", response_model=NotificationRead, **allow(*ADMIN))
async def get_notification(
    notification_id: NotificationIdPath, session: SessionDep, principal: PrincipalDep
) -> NotificationRead:
    """Read one notification with each delivery in your scope and its attempts."""
    n, views = await service.get_notification(session, principal=principal, notification_id=notification_id)
    read = NotificationRead.model_validate(n)
    read.deliveries = [DeliveryRead.of(v) for v in views]
    return read


@router.get("/inbox", response_model=Page[InboxMessageRead])
async def list_inbox(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    event_type: Annotated[
        EventTypeName | None, Query(alias="type", description="Only messages of this event type")
    ] = None,
    unread_only: Annotated[bool, Query(description="Only unread messages")] = False,
) -> Page[InboxMessageRead]:
    """List your in-app messages, unread first, newest first; filter by event type."""
    items, total = await service.list_inbox(
        session,
        principal=principal,
        event_type=event_type,
        unread_only=unread_only,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of([InboxMessageRead.model_validate(m) for m in items], total, page)


@router.get("/inbox/unread-count", response_model=UnreadCount)
async def count_unread(session: SessionDep, principal: PrincipalDep) -> UnreadCount:
    """Count your unread in-app messages."""
    return UnreadCount(unread=await service.unread_count(session, principal=principal))


@router.post("/inbox/{message_id}/read", response_model=Updated)
async def mark_message_read(
    message_id: IdPath, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> Updated:
    """Mark one of your messages read."""
    return Updated(
        updated=await service.mark_read(session, principal=principal, message_id=message_id, now=clock.now())
    )


@router.post("/inbox/read-all", response_model=Updated)
async def mark_all_read(session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Updated:
    """Mark all your messages read."""
    return Updated(updated=await service.mark_all_read(session, principal=principal, now=clock.now()))


@router.get(
    "/inbox/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events, one per message"}
    },
)
async def stream_inbox(
    request: Request,
    principal: PrincipalDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="The id of the last message received: resume after it"),
    ] = None,
) -> EventSourceResponse:
    """Stream your new in-app messages as Server-Sent Events; reconnect with Last-Event-ID to miss nothing."""
    app = request.app
    user_id = principal.sub
    async with app.state.sessionmaker() as session:
        start = await service.stream_start(session, user_id=user_id, last_event_id=last_event_id)
    slots: StreamSlots = app.state.stream_slots
    key = _stream_key(principal)
    limit = app.state.settings.stream_max_per_principal
    if not slots.acquire(key, limit):
        retry_after = app.state.settings.stream_retry_after_seconds
        raise TooManyStreams(
            f"You already have {limit} open streams; close one or retry later",
            zh=f"您已打开 {limit} 个消息流；请关闭一个或稍后重试",
            headers={"retry-after": str(retry_after)},
            limit=limit,
        )

    async def events() -> AsyncIterator[ServerSentEvent]:
        last = start
        yield ServerSentEvent(comment="connected", retry=2000)
        while True:
            async with app.state.sessionmaker() as session:
                messages = await service.messages_after(session, user_id=user_id, after_id=last)
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
