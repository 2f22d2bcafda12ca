"""A person's milestones as an iCalendar feed (RFC 5545), read by calendar apps through a secret URL
(no FastAPI here)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.workdays import local_date
from services.rectification.calendar import access, repository
from services.rectification.calendar.schemas import CalendarTokenRead
from services.rectification.enums import MILESTONE_LABELS, SEVERITY_LABELS
from services.rectification.models import CalendarToken
from services.rectification.problems import repository as problem_repository

PRODID = "-//Ningbo dangjian inspection//rectification//ZH"


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
            # A deadline is a day (it ends at the end of the local day): an all-day event.
            day = local_date(m.due_at)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"【{label}】{problem.site_name}：{problem.category}")
            event.add(
                "description",
                f"{SEVERITY_LABELS.get(problem.severity, problem.severity)}问题 #{problem.id}\n{problem.description}\n"
                f"截止：{m.due_at.isoformat()}",
            )
            event.add("categories", [problem.category])
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{label}：{problem.site_name}")
            alarm.add("trigger", timedelta(days=-1))
            event.add_component(alarm)
            cal.add_component(event)
    return cal.to_ical()
