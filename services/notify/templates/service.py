"""Templates' rules: the built-in and saved versions, strict rendering, checks against sample payloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import i18n
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.notify.config import Settings
from services.notify.enums import MessageChannel
from services.notify.errors import EventTypeNotFound, TemplateRenderFailed
from services.notify.events import CATALOG, CHANNELS, EventType
from services.notify.models import Person, Template
from services.notify.rendering import TemplateProblem, render
from services.notify.templates import access, repository


@dataclass
class TemplateVersion:
    """One version of a template: saved (version 1 and up) or built in (version 0)."""

    event_type: str
    channel: str
    version: int
    subject: str | None
    body: str
    created_by: str | None = None
    created_at: datetime | None = None
    preview: dict[str, str | None] | None = None

    @classmethod
    def saved(cls, t: Template) -> TemplateVersion:
        return cls(t.event_type, t.channel, t.version, t.subject, t.body, t.created_by, t.created_at)

    @classmethod
    def built_in(cls, event_type: str, channel: str) -> TemplateVersion:
        subject, body = CATALOG[event_type].default_template(channel)
        return cls(event_type, channel, 0, subject, body)


def event_types() -> list[EventType]:
    """The event types notify understands, with the sample payload templates are checked against."""
    return list(CATALOG.values())


def event_type(name: str) -> EventType:
    """One event type notify understands; 404 otherwise."""
    check_event_type(name)
    return CATALOG[name]


def check_event_type(event_type: str) -> None:
    """404 unless notify knows `event_type`."""
    if event_type not in CATALOG:
        raise EventTypeNotFound(
            f"Unknown event type {event_type!r}; see GET /event-types",
            zh=f"未知的事件类型 {event_type!r}；参见 GET /event-types",
            event_type=event_type,
        )


async def list_templates(session: AsyncSession, *, event_type: str | None) -> list[TemplateVersion]:
    """The template in use for every event type (or one) and channel: the newest saved, else the built-in."""
    types = [event_type] if event_type else list(CATALOG)
    for t in types:
        check_event_type(t)
    saved = await repository.latest_templates(session, [(t, c) for t in types for c in CHANNELS])
    return [
        TemplateVersion.saved(saved[(t, c)]) if (t, c) in saved else TemplateVersion.built_in(t, c)
        for t in types
        for c in CHANNELS
    ]


async def list_versions(
    session: AsyncSession, *, event_type: str, channel: MessageChannel
) -> list[TemplateVersion]:
    """Every saved version of one template, newest first, then the built-in one."""
    check_event_type(event_type)
    saved = await repository.template_versions(session, event_type, channel)
    return [*(TemplateVersion.saved(t) for t in saved), TemplateVersion.built_in(event_type, channel)]


def template_context(
    *, data: dict[str, Any], event_type: str, event_id: str, occurred_at: datetime, person: Person | None
) -> dict[str, Any]:
    """What a template sees: the event's data, ``event`` and (per recipient) ``recipient``."""
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
    """Render a candidate template against every sample payload of the event type (one per audience);
    422 with the line when it fails. The preview is the first sample's."""
    sample_person = Person(
        user_id="u-sample",
        name="张三",
        org_unit="ningbo/yinzhou",
        created_at=datetime.min,
        updated_at=datetime.min,
    )
    preview: dict[str, str | None] | None = None
    for sample in CATALOG[event_type].samples:
        ctx = template_context(
            data=sample,
            event_type=event_type,
            event_id="sample",
            occurred_at=datetime(2026, 3, 2),
            person=sample_person,
        )
        out = _render_sample(channel, subject, body, ctx, settings, event_type)
        preview = preview or out
    assert preview is not None
    return preview


def _render_sample(
    channel: str,
    subject: str | None,
    body: str,
    ctx: dict[str, Any],
    settings: Settings,
    event_type: str,
) -> dict[str, str | None]:
    errors = []
    out: dict[str, str | None] = {"subject": None, "body": ""}
    for field, source in (("subject", subject), ("body", body)):
        if source is None or (field == "subject" and channel == "sms"):
            continue
        try:
            out[field] = render(source, ctx, strict=True)
        except TemplateProblem as exc:
            errors.append(
                field_error(
                    ["body", field], exc.describe(), "template_error", zh=f"模板无法渲染：{exc.describe()}"
                )
                | {"line": exc.line}
            )
    if not errors and channel == "sms" and len(out["body"] or "") > settings.sms_max_length:
        errors.append(
            field_error(
                ["body", "body"],
                f"the SMS renders to {len(out['body'] or '')} characters with the sample payload; the limit is {settings.sms_max_length}",
                "too_long",
                zh=f"用示例数据渲染出的短信有 {len(out['body'] or '')} 个字符，上限为 {settings.sms_max_length}",
            )
        )
    if errors:
        raise TemplateRenderFailed(
            f"The {channel} template for {event_type} does not render with the sample payload: {errors[0]['msg']}",
            zh=f"{event_type} 的 {channel} 模板无法用示例数据渲染：{i18n.field_msg_zh(errors[0])}",
            errors=errors,
        )
    return out


async def save_template(
    session: AsyncSession,
    *,
    principal: Principal,
    event_type: str,
    channel: MessageChannel,
    subject: str | None,
    body: str,
    now: datetime,
    settings: Settings,
) -> TemplateVersion:
    """Save a new version once it renders with the sample payload; returns it with the preview."""
    access.require_template_editor(principal)
    check_event_type(event_type)
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
        created_by=principal.sub,
        created_at=now,
    )
    repository.add(session, template)
    await session.flush()
    saved = TemplateVersion.saved(template)
    saved.preview = preview
    return saved
