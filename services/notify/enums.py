"""Every status, channel, priority and role notify reads or writes, one StrEnum each."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """How urgent a notification is: urgent ones skip quiet hours and digests, and add SMS by default."""

    NORMAL = "normal"
    URGENT = "urgent"


class MessageChannel(StrEnum):
    """A channel that renders a template per recipient."""

    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"


class Channel(StrEnum):
    """Any delivery channel: the message channels, and webhooks (which carry the event itself)."""

    INBOX = "inbox"
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    """pending -> sent | failed (dead letter); held (for a digest) -> digested."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"
    DIGESTED = "digested"


class Role(StrEnum):
    """A role in the recipient directory (the roles of the platform)."""

    CITY_ADMIN = "city_admin"
    INSPECTOR = "inspector"
    TEAM_LEADER = "team_leader"
    DISTRICT_ADMIN = "district_admin"
    RESPONSIBLE = "responsible"
    LEADER = "leader"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


class RecipientKind(StrEnum):
    """How a recipient is named: a person, the holders of a role, or an org unit's contacts."""

    PERSON = "person"
    ROLE = "role"
    ORG_UNIT = "org_unit"
