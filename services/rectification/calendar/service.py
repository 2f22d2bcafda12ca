"""A person's milestones as an iCalendar feed (RFC 5545), read by calendar apps through a secret URL
(no FastAPI here)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.workdays import LOCAL_TZ
from services.rectification.calendar import access, repository
from services.rectification.calendar.schemas import CalendarTokenRead
from services.rectification.enums import MILESTONE_LABELS, SEVERITY_LABELS
from services.rectification.models import CalendarToken
from services.rectification.problems import repository as problem_repository

PRODID = "-//Ningbo dangjian inspection//rectification//ZH"
# The feed's VTIMEZONE describes Asia/Shanghai from here on: China has kept UTC+8 without daylight
# saving since 1992, so the definition is one STANDARD rule (calendar apps read it, not their own).
TIMEZONE_SINCE = date(1992, 1, 1)
# The reminder goes off at this Beijing time on the day before a deadline's day.
REMINDER_AT = time(9, 0)


def public_base_url(*, gateway_url: str | None, prefix: str | None, configured: str) -> str:
    """Where rectification's API is reached from outside, for the feed URL a person is given.

    Through the gateway, that is its public URL (GATEWAY_PUBLIC_URL, sent as ``X-Gateway-Public-URL``)
    followed by the area's prefix (``X-Forwarded-Prefix``, /api/v1/rectification), wherever the
    gateway listens; the gateway sets both and drops any a client sent. Without them (a direct call
    inside the system) it is the service's configured base (RECTIFICATION_CALENDAR_BASE_URL).
    """
    if gateway_url and prefix and _is_http_url(gateway_url) and prefix.startswith("/"):
        return gateway_url.rstrip("/") + "/" + prefix.strip("/")
    return configured.rstrip("/")


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    session: AsyncSession, *, principal: Principal, now: datetime, base_url: str
) -> CalendarTokenRead:
    """A new feed token for `principal` (the old one stops working) and its URL under `base_url`.

    Only its hash is stored, with the principal's scope, which bounds what the feed shows.
    """
    token = secrets.token_urlsafe(32)
    row = await repository.get_token(session, principal.sub)
    if row is None:
        row = CalendarToken(
            user_id=principal.sub, token_hash=hash_token(token), created_at=now, scope=principal.scope
        )
    else:
        row.token_hash, row.created_at, row.scope = hash_token(token), now, principal.scope
    await repository.save_token(session, row)
    return CalendarTokenRead(url=f"{base_url.rstrip('/')}/calendar/{token}.ics", token=token)


async def feed_for_token(session: AsyncSession, *, token: str, now: datetime) -> bytes | None:
    """The feed of the person owning `token`, or None for an unknown token."""
    owner = await repository.token_owner(session, hash_token(token))
    if owner is None:
        return None
    user_id, scope = owner
    # The feed is read without the gateway's principal: it stands in for the one who issued it.
    problems = await problem_repository.open_problems_of_person(session, access.feed_reader(user_id, scope))
    milestones = await problem_repository.milestones_of(session, [p.id for p in problems if p.id is not None])
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "整改节点")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for problem in problems:
        assert problem.id is not None
        for m in milestones[problem.id]:
            if m.done_at is not None:
                continue
            label = MILESTONE_LABELS.get(m.kind, m.kind)
            event = Event()
            event.add("uid", f"problem-{problem.id}-{m.kind}@rectification")
            event.add("dtstamp", now)
            # A deadline is a moment in Beijing time (23:59:59 of its day): the event is that moment,
            # written with TZID=Asia/Shanghai (no DTEND: it ends when it starts, RFC 5545 §3.6.1).
            due = m.due_at.astimezone(LOCAL_TZ)
            event.add("dtstart", due)
            event.add("summary", f"【{label}】{problem.site_name}：{problem.category}")
            event.add(
                "description",
                f"{SEVERITY_LABELS.get(problem.severity, problem.severity)}问题 #{problem.id}\n{problem.description}\n"
                f"截止：{beijing_time(due)}",
            )
            event.add("categories", [problem.category])
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{label}：{problem.site_name}")
            alarm.add("trigger", reminder_moment(due))
            event.add_component(alarm)
            cal.add_component(event)
    cal.add_missing_timezones(first_date=TIMEZONE_SINCE)
    return cal.to_ical()


def beijing_time(moment: datetime) -> str:
    """`moment` as people read it: 2026年1月12日 23:59（北京时间）."""
    local = moment.astimezone(LOCAL_TZ)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（北京时间）"


def reminder_moment(due: datetime) -> datetime:
    """When a deadline's reminder goes off: 09:00 Beijing time the day before its day (in UTC, as an
    absolute TRIGGER must be)."""
    day_before = due.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_AT, tzinfo=LOCAL_TZ).astimezone(UTC)
