"""Notify's tables (its own metadata: no other service's tables are visible here)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.kit.db import UtcDateTime, service_metadata
from services.kit.outbox import idempotency_table, outbox_table


class Base(SQLModel, registry=registry(metadata=service_metadata())):
    pass


metadata = Base.metadata
outbox_event = outbox_table(metadata)
idempotency_key = idempotency_table(metadata)


class Person(Base, table=True):
    """Someone in the recipient directory, with contact points and preferences."""

    __tablename__ = "person"

    user_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=100)
    org_unit: str = Field(max_length=300, index=True)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    is_contact: bool = False  # one of the org unit's contacts
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    # Preferences: {"<event type>" | "*": ["inbox", "email", "sms"]}; missing = the defaults.
    channels: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON)
    quiet_start: str | None = Field(default=None, max_length=5)  # "22:00" local
    quiet_end: str | None = Field(default=None, max_length=5)  # "07:00" local
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    digest_enabled: bool = False
    digest_at: str = Field(default="18:00", max_length=5)  # local time the digest goes out
    last_digest_on: date | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Notification(Base, table=True):
    """One accepted notification request or domain event (its id is the event id)."""

    __tablename__ = "notification"

    id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=100, index=True)
    source: str = Field(max_length=100)
    priority: str = Field(default="normal", max_length=10)
    not_before: datetime | None = Field(default=None, sa_type=UtcDateTime)
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    recipients: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # The place it concerns (the event's org_unit, or the sender's scope): who may read it.
    org_unit: str = Field(max_length=400, index=True)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Template(Base, table=True):
    """One version of the template for an event type on one channel (the highest version is used)."""

    __tablename__ = "template"
    __table_args__ = (UniqueConstraint("event_type", "channel", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=100)
    channel: str = Field(max_length=10)
    version: int
    subject: str | None = Field(default=None, sa_type=Text)
    body: str = Field(sa_type=Text)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)


class WebhookSubscription(Base, table=True):
    """Another system that receives events of some types, signed with its secret."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)
    # The creator's scope (or a part of it): only events whose org_unit lies inside it are sent.
    scope: str = Field(max_length=400, index=True)
    enabled: bool = True
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)


class Delivery(Base, table=True):
    """One notification to one recipient on one channel, with its delivery state."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "recipient"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        # One subscription's due rows, for claims bounded per subscription.
        Index("ix_delivery_subscription_due", "subscription_id", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: str = Field(max_length=64, index=True)
    event_type: str = Field(max_length=100)
    channel: str = Field(max_length=10)  # inbox | email | sms | webhook
    recipient: str = Field(max_length=120)  # a user id, or "webhook:<subscription id>"
    person_id: str | None = Field(default=None, max_length=100, index=True)
    subscription_id: int | None = Field(default=None, index=True)
    destination: str | None = Field(default=None, max_length=2000)  # email, phone or URL
    priority: str = Field(default="normal", max_length=10)
    subject: str | None = Field(default=None, sa_type=Text)
    body: str = Field(sa_type=Text)  # rendered text, or the exact webhook payload
    # pending -> sent | failed (dead letter); held -> digested (gathered into a digest)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The worker (process) holding the lease: its heartbeat renews only its own rows.
    leased_by: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, sa_type=Text)
    digest_id: int | None = None  # the digest delivery this one was gathered into
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class DeliveryAttempt(Base, table=True):
    """Every try of a delivery, successful or not."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(index=True)
    number: int
    attempted_at: datetime = Field(sa_type=UtcDateTime)
    ok: bool
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    duration_ms: float = 0.0


class InboxMessage(Base, table=True):
    """An in-app message; its increasing id is the Server-Sent Events id."""

    __tablename__ = "inbox_message"
    __table_args__ = (Index("ix_inbox_message_user_read", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=100)
    delivery_id: int = Field(unique=True)
    notification_id: str = Field(max_length=64)
    event_type: str = Field(max_length=100)
    priority: str = Field(default="normal", max_length=10)
    title: str = Field(sa_type=Text)
    body: str = Field(sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
