"""The shapes scripts handle most, as TypedDicts (the full schemas are in docs/openapi.json).

The API may add fields; these list the ones documented when this package was written. Datetimes are
ISO 8601 strings in UTC with `Z`, as the API sends them.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "ApiKey",
    "ApiKeyCreated",
    "BulletinItem",
    "ImportReport",
    "ImportRowError",
    "InboxMessage",
    "NotificationAccepted",
    "Page",
    "Person",
    "Role",
]

Role = Literal["city_admin", "inspector", "team_leader", "district_admin", "responsible", "leader", "system"]


class Page(TypedDict):
    """The one list envelope of every list operation."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class ApiKey(TypedDict):
    """An API key as listed (never its secret)."""

    id: str
    name: str
    roles: list[Role]
    scope: str
    created_at: str
    created_by: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: NotRequired[str | None]


class ApiKeyCreated(ApiKey):
    """A key just created: `key` is the full secret, shown only this once."""

    key: str


class ImportRowError(TypedDict):
    """One bad row of an import; `reason` is Chinese, `problem` and `column` are identifiers."""

    line: int
    column: str | None
    code: str | None
    problem: str
    reason: str


class ImportReport(TypedDict):
    """What a directory import did (or, on a dry run, would do)."""

    applied: bool
    dry_run: bool
    format: str
    mode: str
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[ImportRowError]


class Person(TypedDict):
    user_id: str
    name: str | None


class BulletinItem(TypedDict):
    """An overdue problem as the bulletin (问题通报) names it."""

    problem_id: int
    site_code: str
    site_name: str
    district: str
    org_unit: str
    category: str
    description: str
    severity: str
    severity_label: str
    status: str
    deadline_at: str
    days_overdue: int
    responsible_unit: str
    responsible_person: Person | None
    district_name: NotRequired[str]


class InboxMessage(TypedDict):
    """An in-app message, as the inbox and its event stream carry it."""

    id: int
    notification_id: str
    event_type: str
    title: str
    body: str
    priority: str
    created_at: str
    data: dict[str, Any]
    read_at: NotRequired[str | None]


class NotificationAccepted(TypedDict):
    """The answer to a notification request: who it reaches, deliveries queued per channel."""

    id: str
    event_type: str
    recipients: list[str]
    deliveries: dict[str, int]
