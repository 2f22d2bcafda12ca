"""Routes of templates and the event-type catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.openapi import errors
from services.kit.pagination import Page
from services.notify.deps import SettingsDep
from services.notify.enums import MessageChannel
from services.notify.scope import ADMIN, TEMPLATE_EDITORS
from services.notify.templates import service
from services.notify.templates.schemas import EventTypeRead, TemplateRead, TemplateUpdate

TAG = "notify.templates"
router = APIRouter(tags=[TAG])

EventTypePath = Annotated[str, Path(max_length=100, description="The event type (see GET /event-types)")]
ChannelPath = Annotated[MessageChannel, Path(description="The channel the template renders for")]


@router.get("/event-types", response_model=Page[EventTypeRead])
async def list_event_types() -> Page[EventTypeRead]:
    """List the event types notify understands: each one's JSON Schema and version, and its sample payload."""
    return Page.whole([EventTypeRead.of(e) for e in service.event_types()])


@router.get("/event-types/{event_type}", response_model=EventTypeRead, responses=errors(404))
async def read_event_type(event_type: EventTypePath) -> EventTypeRead:
    """Read one event type: its JSON Schema (newest version), the versions accepted, and its samples."""
    return EventTypeRead.of(service.event_type(event_type))


@router.get("/templates", response_model=Page[TemplateRead], **allow(*ADMIN))
async def list_templates(
    session: SessionDep,
    event_type: Annotated[
        str | None, Query(max_length=100, description="Only the templates of this event type")
    ] = None,
) -> Page[TemplateRead]:
    """List the template in use for every event type and channel (version 0 = built-in)."""
    templates = await service.list_templates(session, event_type=event_type)
    return Page.whole([TemplateRead.model_validate(t) for t in templates])


@router.get("/templates/{event_type}/{channel}/versions", response_model=Page[TemplateRead], **allow(*ADMIN))
async def list_template_versions(
    event_type: EventTypePath, channel: ChannelPath, session: SessionDep
) -> Page[TemplateRead]:
    """List every saved version of one template, newest first, then the built-in one."""
    versions = await service.list_versions(session, event_type=event_type, channel=channel)
    return Page.whole([TemplateRead.model_validate(t) for t in versions])


@router.put(
    "/templates/{event_type}/{channel}",
    status_code=201,
    response_model=TemplateRead,
    **allow(*TEMPLATE_EDITORS),
)
async def save_template(
    event_type: EventTypePath,
    channel: ChannelPath,
    template_in: TemplateUpdate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> TemplateRead:
    """Save a new version of a template; refused with the error and line if the sample payload does not render."""
    saved = await service.save_template(
        session,
        principal=principal,
        event_type=event_type,
        channel=channel,
        subject=template_in.subject,
        body=template_in.body,
        now=clock.now(),
        settings=settings,
    )
    return TemplateRead.model_validate(saved)
