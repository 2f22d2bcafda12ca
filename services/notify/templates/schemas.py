"""API shapes of templates and event types."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pydantic import ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from services.kit.events import schema, versions
from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.notify.enums import MessageChannel
from services.notify.events import MESSAGE, EventType, EventTypeName


class TemplateUpdate(InputModel):
    """A new version of one template (Jinja2, rendered in a sandbox)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "整改任务：{{ title }}",
                    "body": "{{ recipient.name }}，您被指定为“{{ title }}”的整改责任人，请于 {{ deadline }} 前完成整改。",
                }
            ]
        }
    )

    subject: str | None = Field(
        None, max_length=2000, description="Email subject or inbox title (not for SMS)."
    )
    body: str = Field(min_length=1, max_length=20000)
    """The message text."""


class TemplatePreview(OutputModel):
    """A template rendered with its event type's sample payload."""

    subject: str | None = None
    """The subject rendered (null for SMS or when the template has none)."""
    body: str | None = None
    """The body rendered."""


class TemplateRead(OutputModel):
    """One version of the template of an event type on one channel."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_type": "rectification.problem.assigned",
                    "channel": "email",
                    "version": 2,
                    "subject": "整改任务：{{ title }}",
                    "body": "您被指定为“{{ title }}”的整改责任人，请于 {{ deadline }} 前完成整改。",
                    "created_by": "u-admin",
                    "created_at": "2026-03-02T02:00:00Z",
                    "preview": {
                        "subject": "整改任务：党员活动室台账记录不完整",
                        "body": "您被指定为“党员活动室台账记录不完整”的整改责任人，请于 2026-04-30 前完成整改。",
                    },
                }
            ]
        }
    )

    event_type: str
    """The event type it renders."""
    channel: MessageChannel
    """The channel it renders for."""
    version: int = Field(description="0 is the built-in default; saved versions count from 1.")
    subject: str | None = None
    """Email subject or inbox title (null for SMS)."""
    body: str
    """The message text (Jinja2)."""
    created_by: str | None = None
    """Who saved it (null for the built-in one)."""
    created_at: datetime | None = None
    """When it was saved (null for the built-in one)."""
    preview: TemplatePreview | None = Field(None, description="The sample payload rendered (on save).")


_MESSAGE_SCHEMA = schema(MESSAGE)


class EventTypeRead(OutputModel):
    """An event type notify understands: its schema (newest version) and a sample payload."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": MESSAGE.value,
                    "title": _MESSAGE_SCHEMA.title,
                    "description": _MESSAGE_SCHEMA.description,
                    "version": _MESSAGE_SCHEMA.version,
                    "versions": [1],
                    "data_schema": cast(JsonDict, _MESSAGE_SCHEMA.schema),
                    "sample": {"title": "关于开展季度督查的通知", "body": "请各单位做好迎检准备。"},
                    "samples": [{"title": "关于开展季度督查的通知", "body": "请各单位做好迎检准备。"}],
                }
            ]
        }
    )

    type: EventTypeName
    """The event type (its name in events and templates)."""
    title: str
    """What it means, in Chinese."""
    description: str
    """Who sends it, when, and who hears it."""
    version: int
    """The newest version of its schema (what `data_schema` is; events name theirs in `version`)."""
    versions: list[int]
    """Every version of its schema notify accepts, oldest first."""
    data_schema: dict[str, JsonValue]
    """The JSON Schema (draft 2020-12) an event's `data` must satisfy (recipients and priority included)."""
    sample: dict[str, JsonValue]
    """A sample `data` payload less recipients and priority: templates are checked against it."""
    samples: list[dict[str, JsonValue]]
    """Every sample (one per audience where the type has several): saved templates must render each."""

    @classmethod
    def of(cls, event_type: EventType) -> EventTypeRead:
        contract = event_type.contract
        return cls(
            type=EventTypeName(event_type.type),
            title=contract.title,
            description=contract.description,
            version=contract.version,
            versions=versions(event_type.type),
            data_schema=cast(dict[str, JsonValue], dict(contract.schema)),
            sample=cast(dict[str, JsonValue], event_type.sample),
            samples=cast(list[dict[str, JsonValue]], event_type.samples),
        )
