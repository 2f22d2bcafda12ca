"""The recipient directory's rules: who may be written where, masked contact points, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.notify.deliveries import repository as delivery_repository
from services.notify.enums import Channel, Priority
from services.notify.errors import UnknownEventType
from services.notify.events import CATALOG, CHANNELS
from services.notify.models import Person
from services.notify.people import access, repository
from services.notify.people.schemas import PersonUpsert, PreferencesUpdate


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_email(email: str | None) -> str | None:
    """``zhang@example.cn`` -> ``z***@example.cn``."""
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


DEFAULT_CHANNELS = (Channel.INBOX, Channel.EMAIL)
URGENT_EXTRA = (Channel.SMS,)


def channels_for(person: Person, event_type: str, priority: str) -> list[str]:
    """The person's channels for this event type, restricted to contact points they have."""
    chosen: list[str] | None = person.channels.get(event_type) or person.channels.get("*")
    if chosen is None:
        chosen = [*DEFAULT_CHANNELS, *(URGENT_EXTRA if priority == Priority.URGENT else ())]
    usable = {Channel.INBOX: True, Channel.EMAIL: bool(person.email), Channel.SMS: bool(person.phone)}
    return [c for c in CHANNELS if c in chosen and usable[Channel(c)]]


def _hm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_release(person: Person, when: datetime) -> datetime:
    """The earliest moment at or after `when` outside the person's quiet hours."""
    if not person.quiet_start or not person.quiet_end:
        return when
    tz = ZoneInfo(person.timezone)
    local = when.astimezone(tz)
    start, end = _hm(person.quiet_start), _hm(person.quiet_end)
    now_t = local.time()
    if start == end:
        return when
    in_quiet = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not in_quiet:
        return when
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(when.tzinfo)


def digest_due(person: Person, now: datetime) -> tuple[bool, date]:
    """Whether the person's digest should go out now, and the local date it is for."""
    local = now.astimezone(ZoneInfo(person.timezone))
    today = local.date()
    if person.last_digest_on is not None and person.last_digest_on >= today:
        return False, today
    return local.time() >= _hm(person.digest_at), today


async def get_visible_person(session: AsyncSession, *, principal: Principal, user_id: str) -> Person:
    """The person, if the caller may see them (themself, or inside its scope); else 404 as if missing."""
    person = await repository.get_person(session, user_id)
    if person is None or not access.can_see_person(principal, person):
        raise access.person_not_found(user_id)
    return person


async def list_people(
    session: AsyncSession,
    *,
    principal: Principal,
    org_unit: str | None,
    role: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Person], int]:
    """People in the caller's scope, by org unit then user id."""
    return await repository.list_people(
        session,
        visible=principal.scope_filter(Person.org_unit),
        org_unit=org_unit,
        role=role,
        limit=limit,
        offset=offset,
    )


async def upsert_person(
    session: AsyncSession, *, principal: Principal, user_id: str, person_in: PersonUpsert, now: datetime
) -> tuple[Person, bool]:
    """Create or replace a person; the stored one and the new org unit must both lie inside the caller's scope."""
    person = await repository.get_person(session, user_id)
    access.check_person_write(
        principal, user_id=user_id, existing=person, org_unit=person_in.org_unit, roles=person_in.roles
    )
    values = person_in.model_dump(mode="json")
    created = person is None
    if person is None:
        person = Person(user_id=user_id, created_at=now, updated_at=now, **values)
        repository.add_person(session, person)
    else:
        for k, v in values.items():
            setattr(person, k, v)
        person.updated_at = now
    await session.flush()
    return person, created


def require_preferences_access(principal: Principal, person: Person) -> None:
    """The person themself, or a directory keeper whose scope covers them."""
    access.require_preferences_access(principal, person)


async def update_preferences(
    session: AsyncSession, *, principal: Principal, person: Person, prefs: PreferencesUpdate, now: datetime
) -> Person:
    """Change a person's preferences; turning the digest off sends at once what it held."""
    access.require_preferences_access(principal, person)
    was_digest = person.digest_enabled
    for k, v in prefs.model_dump(mode="json", exclude_unset=True).items():
        if v is not None or k in ("quiet_start", "quiet_end"):
            setattr(person, k, v)
    unknown = [t for t in person.channels if t != "*" and t not in CATALOG]
    if unknown:
        raise UnknownEventType(
            f"Unknown event type {unknown[0]!r} in channels",
            zh=f"channels 中有未知的事件类型 {unknown[0]!r}",
            errors=[field_error(["body", "channels", unknown[0]], "unknown event type", zh="未知的事件类型")],
        )
    if bool(person.quiet_start) != bool(person.quiet_end):
        raise UnprocessableEntity(
            "Quiet hours need both quiet_start and quiet_end",
            zh="免打扰时段需要同时设置 quiet_start 和 quiet_end",
            errors=[
                field_error(
                    ["body", "quiet_end" if person.quiet_start else "quiet_start"],
                    "set both or neither",
                    zh="须同时设置或同时不设置",
                )
            ],
        )
    person.updated_at = now
    await session.flush()
    if was_digest and not person.digest_enabled:
        # Nothing stays held for a digest that no longer goes out.
        await delivery_repository.release_held(session, user_id=person.user_id, now=now)
    return person
