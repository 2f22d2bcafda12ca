"""Rules of visit days: scheduling a draw on working days within the daily cap, moving one visit,
the reminders held back until the evening before, and the teams' and people's calendars.

``rounds/service.py`` calls in here at the draw (:func:`schedule_draw`), at publication
(:func:`check_schedule`, :func:`sync_upcoming`), when a visit moves (:func:`move_visit`) and when a
round's visits are called off (:func:`withdraw_upcoming`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event, Timezone
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.kit.pagination import Page, PageParams
from services.kit.workdays import WorkCalendar, local_date
from services.sampling import errors, events, schedule
from services.sampling.enums import RoundStatus
from services.sampling.inspectors import repository as inspectors_repository
from services.sampling.models import Assignment, Round, Team, outbox_event
from services.sampling.rounds import repository as rounds_repository
from services.sampling.visits import access, repository
from services.sampling.visits.schemas import VisitPlanUpdate, VisitRead, VisitSettingsRead

PRODID = "-//Ningbo dangjian inspection//sampling visits//ZH"
TZID = "Asia/Shanghai"
SETTINGS_PATH = "PUT /rounds/{code}/visit-plan"


def work_calendar() -> WorkCalendar:
    """The working-day calendar visits are scheduled on (the package's, then a Mon-Fri guess)."""
    return WorkCalendar()


def _infeasible(
    rnd: Round, exc: schedule.ScheduleInfeasible, *, then: str, then_zh: str
) -> errors.ScheduleInfeasible:
    worst_days = max(s.days_needed for s in exc.shortfalls)
    worst_cap = max(s.cap_needed for s in exc.shortfalls)
    lines = [
        f"team {s.team} has {s.sites} sites in {s.district} but {s.days} working day(s) at most {s.cap} a day"
        for s in exc.shortfalls
    ]
    lines_zh = [
        f"第 {s.team} 组在 {s.district} 有 {s.sites} 个单位，但只有 {s.days} 个工作日、每天至多 {s.cap} 个"
        for s in exc.shortfalls
    ]
    return errors.ScheduleInfeasible(
        f"Round {rnd.code}'s visits do not fit: {'; '.join(lines)}. Raise max_visits_per_day to "
        f"{worst_cap} or visit_days_per_district to {worst_days} ({SETTINGS_PATH.format(code=rnd.code)}), then {then}",
        zh=f"督查轮次 {rnd.code} 的督查日程排不下：{'；'.join(lines_zh)}。请将 max_visits_per_day 提高到 {worst_cap}，或将 visit_days_per_district 提高到 {worst_days}（{SETTINGS_PATH.format(code=rnd.code)}），然后{then_zh}",
        errors=[
            field_error(
                ["round", "max_visits_per_day"],
                f"{rnd.max_visits_per_day} is too few: needs at least {worst_cap} with {rnd.visit_days_per_district} day(s) per district",
                zh=f"{rnd.max_visits_per_day} 太少：每个区县 {rnd.visit_days_per_district} 天时至少需要 {worst_cap}",
            ),
            field_error(
                ["round", "visit_days_per_district"],
                f"{rnd.visit_days_per_district} is too few: needs at least {worst_days} at {rnd.max_visits_per_day} a day",
                zh=f"{rnd.visit_days_per_district} 太少：每天 {rnd.max_visits_per_day} 个单位时至少需要 {worst_days}",
            ),
        ],
        round_code=rnd.code,
        shortfalls=[
            {
                "team": s.team,
                "district": s.district,
                "sites": s.sites,
                "days": s.days,
                "max_visits_per_day": s.cap,
            }
            for s in exc.shortfalls
        ],
    )


def schedule_draw(
    rnd: Round, teams: Sequence[Mapping[str, Any]], sites: Mapping[str, Any]
) -> dict[str, schedule.Slot]:
    """Every drawn site's window and working day (raises 422 schedule-infeasible before anything is stored).

    `teams` are the draw's teams (``number`` and ``districts`` in visiting order), `sites` the
    drawn and follow-up sites by code.
    """
    team_of = {d: int(t["number"]) for t in teams for d in t["districts"]}
    try:
        plan = schedule.plan(
            work_calendar(),
            start=rnd.visit_start_on,
            teams={int(t["number"]): list(t["districts"]) for t in teams},
            sites=[
                schedule.Site(code=c, district=s.district, org_unit=s.org_unit, team=team_of[s.district])
                for c, s in sites.items()
            ],
            days_per_district=rnd.visit_days_per_district,
            cap=rnd.max_visits_per_day,
        )
    except schedule.ScheduleInfeasible as exc:
        raise _infeasible(
            rnd, exc, then="draw again; nothing was drawn", then_zh="重新抽签；本次未进行抽签"
        ) from exc
    return plan.slots


async def _current(session: AsyncSession, rnd: Round) -> tuple[list[Team], list[Assignment]]:
    if rnd.current_draw_id is None:
        return [], []
    teams = await rounds_repository.teams_of_draw(session, rnd.current_draw_id)
    rows, _ = await repository.visits_of_teams(
        session, rnd.current_draw_id, [t.id for t in teams if t.id is not None]
    )
    return teams, rows


async def check_schedule(session: AsyncSession, rnd: Round) -> None:
    """Before publication: every visit on a working day and no team over the cap on a day (else 409)."""
    _, rows = await _current(session, rnd)
    cal = work_calendar()
    not_working = sorted(
        (a.visit_on.isoformat(), a.site_code) for a in rows if not cal.is_workday(a.visit_on)[0]
    )
    load: dict[tuple[int, date], int] = defaultdict(int)
    for a in rows:
        load[(a.team_id, a.visit_on)] += 1
    full = sorted((d.isoformat(), t) for (t, d), n in load.items() if n > rnd.max_visits_per_day)
    if not_working or full:
        raise errors.VisitScheduleStale(
            f"Round {rnd.code} cannot be published: "
            + "; ".join(
                [f"{code} is visited on {day}, not a working day" for day, code in not_working]
                + [f"team id {t} has more than {rnd.max_visits_per_day} visits on {day}" for day, t in full]
            )
            + f". Move those visits (PATCH /rounds/{rnd.code}/assignments/{{site_code}} with visit_on) "
            f"or reschedule ({SETTINGS_PATH.format(code=rnd.code)})",
            zh=f"督查轮次 {rnd.code} 无法发布："
            + "；".join(
                [f"{code} 的督查日 {day} 不是工作日" for day, code in not_working]
                + [
                    f"督查组（编号 {t}）在 {day} 的督查单位超过 {rnd.max_visits_per_day} 个"
                    for day, t in full
                ]
            )
            + f"。请调整这些督查日（PATCH /rounds/{rnd.code}/assignments/{{site_code}}，带 visit_on）或重新安排日程（{SETTINGS_PATH.format(code=rnd.code)}）",
            round_code=rnd.code,
            sites=[code for _, code in not_working],
        )


# The reminders held back until the evening before


async def withdraw_upcoming(session: AsyncSession, rnd: Round) -> int:
    """Take back the round's reminders not sent yet (a redraw, a closed round); returns how many."""
    pending = await outbox.pending_of_type(session, outbox_event, events.VISIT_UPCOMING)
    ids = [r["id"] for r in pending if (r["payload"] or {}).get("round_code") == rnd.code]
    return await outbox.discard_pending(session, outbox_event, ids)


def _said(payload: Mapping[str, Any]) -> tuple[int, str, tuple[str, ...]]:
    """What a reminder told: the team's number, the day and the sites."""
    return (
        int(payload["team"]["number"]),
        str(payload["visit_on"]),
        tuple(v["site"]["code"] for v in payload["visits"]),
    )


async def sync_upcoming(session: AsyncSession, rnd: Round, now: datetime) -> int:
    """Hold back one reminder per team and visit day, due 18:00 Beijing time the evening before.

    Unsent ones of the round are taken back first and the current schedule enqueued again; a day
    whose evening has passed (its reminder may be out already) gets a reminder now only if the
    team was not told exactly these sites for it. Returns how many were enqueued.
    """
    await withdraw_upcoming(session, rnd)
    told = {
        _said(r["payload"])
        for r in await repository.upcoming_events(session, events.VISIT_UPCOMING, rnd.code)
    }
    teams, rows = await _current(session, rnd)
    by_day: dict[tuple[int, date], list[Assignment]] = defaultdict(list)
    for a in rows:
        by_day[(a.team_id, a.visit_on)].append(a)
    team_by_id = {t.id: t for t in teams}
    today = local_date(now)
    enqueued = 0
    for (team_id, day), visits in sorted(
        by_day.items(), key=lambda kv: (kv[0][1], team_by_id[kv[0][0]].number)
    ):
        if day <= today:
            continue
        payload = events.visit_upcoming(rnd, team_by_id[team_id], day, visits)
        moment = schedule.evening_before(day)
        if moment <= now and _said(payload) in told:
            continue
        await outbox.enqueue(
            session,
            outbox_event,
            event_type=events.VISIT_UPCOMING,
            target="notify",
            path="/events",
            payload=payload,
            now=now,
            not_before=moment,
        )
        enqueued += 1
    return enqueued


async def send_round_fact(session: AsyncSession, rnd: Round, now: datetime) -> None:
    """Count a change of the round's sample (a draw, its publication, a visit's team or day) and send
    reporting the whole current draw, in the caller's transaction: once per change, after it is made."""
    assert rnd.current_draw_id is not None
    await session.flush()
    await rounds_repository.next_revision(session, rnd)
    draw = await rounds_repository.get_draw_by_id(session, rnd.current_draw_id)
    assert draw is not None
    teams, rows = await _current(session, rnd)
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=events.ROUND_DRAWN,
        target=events.FACT_TARGET,
        path=events.FACT_PATH,
        payload=events.round_drawn_fact(
            rnd,
            drawn_at=draw.created_at,
            teams=teams,
            visits=rows,
            district_names=await rounds_repository.district_names(session),
        ),
        now=now,
    )


# Moving one visit


async def move_visit(
    session: AsyncSession,
    *,
    rnd: Round,
    assignment: Assignment,
    team: Team,
    visit_from: date,
    visit_to: date,
    visit_on: date | None,
) -> None:
    """Give a moved visit its team, window and working day, keeping the team's daily cap.

    With `visit_on` the day is the caller's: 422 if outside the window or not a working day, 409 if
    the team is full that day. Without it the visit keeps its day if that still fits, else takes the
    window's first working day with room (409 if none has).
    """
    assert team.id is not None
    cal = work_calendar()
    cap = rnd.max_visits_per_day
    load = await repository.team_load(session, team.id, except_id=assignment.id)
    window = f"{visit_from.isoformat()}..{visit_to.isoformat()}"
    if visit_on is not None:
        if not visit_from <= visit_on <= visit_to:
            raise UnprocessableEntity(
                f"visit_on {visit_on.isoformat()} is outside the visit window {window}: move the window too "
                "(visit_from, visit_to)",
                zh=f"visit_on {visit_on.isoformat()} 不在督查时段 {window} 内：请一并调整时段（visit_from、visit_to）",
                errors=[
                    field_error(
                        ["body", "visit_on"], f"outside the window {window}", zh=f"不在督查时段 {window} 内"
                    )
                ],
            )
        if not cal.is_workday(visit_on)[0]:
            raise errors.VisitDayNotWorking(
                f"{visit_on.isoformat()} is not a working day (weekend or statutory holiday): choose another visit_on",
                zh=f"{visit_on.isoformat()} 不是工作日（周末或法定节假日）：请另选 visit_on",
                errors=[
                    field_error(
                        ["body", "visit_on"], "not a working day", "visit-day-not-working", zh="不是工作日"
                    )
                ],
            )
        if load.get(visit_on, 0) >= cap:
            free = _free_days(cal, visit_from, visit_to, load, cap)
            raise errors.VisitDayFull(
                f"{team.name} already has {load[visit_on]} visits on {visit_on.isoformat()} "
                f"(at most {cap} a day): choose another visit_on"
                + (f" ({', '.join(d.isoformat() for d in free)} have room)" if free else "")
                + " or raise the round's max_visits_per_day",
                zh=f"{team.name}在 {visit_on.isoformat()} 已有 {load[visit_on]} 个督查单位（每天至多 {cap} 个）：请另选 visit_on"
                + (f"（{'、'.join(d.isoformat() for d in free)} 尚有空位）" if free else "")
                + "，或提高本轮的 max_visits_per_day",
                visit_on=visit_on.isoformat(),
                max_visits_per_day=cap,
                free_days=[d.isoformat() for d in free],
            )
        day = visit_on
    else:
        current = assignment.visit_on
        if (
            current is not None
            and visit_from <= current <= visit_to
            and cal.is_workday(current)[0]
            and load.get(current, 0) < cap
        ):
            day = current
        else:
            found = schedule.first_free_day(cal, visit_from, visit_to, load, cap)
            if found is None:
                if not _free_days(cal, visit_from, visit_to, {}, 1):
                    raise errors.VisitDayNotWorking(
                        f"The window {window} holds no working day: move visit_from/visit_to",
                        zh=f"督查时段 {window} 内没有工作日：请调整 visit_from/visit_to",
                        errors=[
                            field_error(
                                ["body", "visit_to"],
                                f"no working day in {window}",
                                zh=f"{window} 内没有工作日",
                            )
                        ],
                    )
                raise errors.VisitDayFull(
                    f"{team.name} has {cap} visits on every working day of {window} (at most {cap} a day): "
                    "widen the window (visit_from, visit_to), choose a team with room or raise max_visits_per_day",
                    zh=f"{team.name}在 {window} 的每个工作日都已有 {cap} 个督查单位（每天至多 {cap} 个）：请放宽督查时段（visit_from、visit_to）、另选有空位的督查组，或提高 max_visits_per_day",
                    max_visits_per_day=cap,
                    free_days=[],
                )
            day = found
    assignment.team_id = team.id
    assignment.visit_from, assignment.visit_to, assignment.visit_on = visit_from, visit_to, day


def _free_days(cal: WorkCalendar, first: date, last: date, load: Mapping[date, int], cap: int) -> list[date]:
    out = []
    day = first
    while day <= last:
        if cal.is_workday(day)[0] and load.get(day, 0) < cap:
            out.append(day)
        day += timedelta(days=1)
    return out


# A round's visit settings


def _settings(rnd: Round, rows: Sequence[Assignment]) -> VisitSettingsRead:
    cal = work_calendar()
    days = sorted({a.visit_on for a in rows})
    return VisitSettingsRead(
        round_code=rnd.code,
        status=RoundStatus(rnd.status),
        visit_start_on=rnd.visit_start_on,
        visit_days_per_district=rnd.visit_days_per_district,
        max_visits_per_day=rnd.max_visits_per_day,
        visits=len(rows),
        first_visit_on=days[0] if days else None,
        last_visit_on=days[-1] if days else None,
        provisional=any(cal.is_workday(d)[1] for d in days),
    )


async def visit_settings(session: AsyncSession, rnd: Round) -> VisitSettingsRead:
    """The round's visit settings and the span of its current schedule."""
    _, rows = await _current(session, rnd)
    return _settings(rnd, rows)


async def update_visit_plan(
    session: AsyncSession, *, rnd: Round, plan_in: VisitPlanUpdate, now: datetime
) -> VisitSettingsRead:
    """Change the visit settings before publication; a drawn round's visits are all scheduled again.

    Moves made by hand since the draw are replaced by the new schedule. After publication single
    visits move with PATCH .../assignments/{site_code} (or redraw).
    """
    if rnd.status not in (RoundStatus.PLANNING, RoundStatus.FRAME_FROZEN, RoundStatus.DRAWN):
        raise errors.WrongRoundStatus(
            f"Round {rnd.code} is {rnd.status}: its visit settings can no longer change; move single visits "
            f"(PATCH /rounds/{rnd.code}/assignments/{{site_code}}) or redraw",
            zh=f"督查轮次 {rnd.code} 当前为{errors.status_zh(rnd.status)}：督查日程设置不能再修改；请逐个调整督查日（PATCH /rounds/{rnd.code}/assignments/{{site_code}}）或重新抽签",
            round_status=rnd.status,
            allowed=[RoundStatus.PLANNING, RoundStatus.FRAME_FROZEN, RoundStatus.DRAWN],
        )
    for f in ("visit_start_on", "visit_days_per_district", "max_visits_per_day"):
        v = getattr(plan_in, f)
        if v is not None:
            setattr(rnd, f, v)
    teams, rows = await _current(session, rnd)
    if rows:
        team_number = {t.id: t.number for t in teams}
        try:
            plan = schedule.plan(
                work_calendar(),
                start=rnd.visit_start_on,
                teams={t.number: list(t.districts) for t in teams},
                sites=[
                    schedule.Site(a.site_code, a.district, a.org_unit, team_number[a.team_id]) for a in rows
                ],
                days_per_district=rnd.visit_days_per_district,
                cap=rnd.max_visits_per_day,
            )
        except schedule.ScheduleInfeasible as exc:
            raise _infeasible(
                rnd, exc, then="try again; nothing was changed", then_zh="重试；本次未做任何修改"
            ) from exc
        for a in rows:
            slot = plan.slots[a.site_code]
            a.visit_from, a.visit_to, a.visit_on = slot.visit_from, slot.visit_to, slot.visit_on
    await repository.save(session, rnd, *rows)
    if rows:  # a drawn round's visit days moved
        await send_round_fact(session, rnd, now)
    return _settings(rnd, rows)


# Calendars


def visit_read(rnd: Round, team: Team, a: Assignment, cal: WorkCalendar) -> VisitRead:
    return VisitRead.model_validate(
        {
            "round_code": rnd.code,
            "round_title": rnd.title,
            "status": rnd.status,
            "site": {
                "code": a.site_code,
                "name": a.site_name,
                "type": a.site_type,
                "org_unit": a.org_unit,
                "district": a.district,
            },
            "team": {
                "id": team.id,
                "number": team.number,
                "name": team.name,
                "leader_user_id": team.leader_user_id,
                "member_user_ids": team.member_user_ids,
            },
            "visit_on": a.visit_on,
            "visit_from": a.visit_from,
            "visit_to": a.visit_to,
            "follow_up": a.follow_up,
            "provisional": cal.is_workday(a.visit_on)[1],
        }
    )


async def team_visits(
    session: AsyncSession, *, rnd: Round, number: int, principal: Principal, page: PageParams | None
) -> tuple[list[VisitRead], int]:
    """One team's visits inside the caller's scope, by day then site code."""
    team = await access.visible_team(session, rnd, number, principal)
    assert rnd.current_draw_id is not None and team.id is not None
    rows, total = await repository.visits_of_teams(
        session, rnd.current_draw_id, [team.id], visible_to=principal, page=page
    )
    cal = work_calendar()
    return [visit_read(rnd, team, a, cal) for a in rows], total


async def team_visit_page(
    session: AsyncSession, *, rnd: Round, number: int, principal: Principal, page: PageParams
) -> Page[VisitRead]:
    items, total = await team_visits(session, rnd=rnd, number=number, principal=principal, page=page)
    return Page.of(items, total, page)


async def person_visits(
    session: AsyncSession, *, user_id: str, principal: Principal, round_code: str | None
) -> list[VisitRead]:
    """A person's visits on any team, by day then site code (published rounds only, unless an overseer reads)."""
    overseer = access.person_reader(principal, user_id)
    if overseer and await _inspector_unknown(session, user_id):
        raise errors.InspectorNotFound(
            f"No inspector {user_id}", zh=f"没有督查人员 {user_id}", user_id=user_id
        )
    out: list[VisitRead] = []
    cal = work_calendar()
    for rnd in await repository.rounds_with_draw(session, published_only=not overseer, code=round_code):
        assert rnd.current_draw_id is not None
        mine = {
            t.id: t
            for t in await rounds_repository.teams_of_draw(session, rnd.current_draw_id)
            if t.id is not None and (user_id == t.leader_user_id or user_id in t.member_user_ids)
        }
        if not mine:
            continue
        rows, _ = await repository.visits_of_teams(
            session, rnd.current_draw_id, list(mine), visible_to=None if overseer else principal
        )
        out += [visit_read(rnd, mine[a.team_id], a, cal) for a in rows]
    out.sort(key=lambda v: (v.visit_on, v.site.code, v.round_code))
    return out


async def _inspector_unknown(session: AsyncSession, user_id: str) -> bool:
    return await inspectors_repository.get_by_user_id(session, user_id) is None


def ics(visits: Iterable[VisitRead], *, name: str, now: datetime) -> bytes:
    """The visits as an iCalendar (RFC 5545) file: one all-day event per visit, a reminder the evening before."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", TZID)
    cal.add_component(Timezone.from_tzid(TZID))
    for v in visits:
        event = Event()
        event.add("uid", f"visit-{v.round_code}-{v.site.code}@sampling")
        event.add("dtstamp", now)
        event.add("dtstart", v.visit_on)
        event.add("dtend", v.visit_on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        kind = "回头看" if v.follow_up else "督查"
        event.add("summary", f"【{kind}】{v.site.name}（{v.team.name}）")
        event.add("location", f"{v.site.name}（{v.site.org_unit}）")
        event.add(
            "description",
            f"{v.round_title}\n{v.team.name}：组长 {v.team.leader_user_id}，组员 "
            f"{'、'.join(v.team.member_user_ids) or '无'}\n站点编码 {v.site.code}；"
            f"本区督查窗口 {v.visit_from.isoformat()} 至 {v.visit_to.isoformat()}"
            + ("\n（工作日按周一至周五推定，以当年放假通知为准）" if v.provisional else ""),
        )
        event.add("categories", [kind])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"明日督查：{v.site.name}")
        # 18:00 local time the evening before (an all-day event starts at local midnight).
        alarm.add("trigger", timedelta(hours=-6))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
