"""Countdown templates and the holiday calendar (thin: rules live in deadlines/service.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.errors import field_error
from services.kit.pagination import Page
from services.kit.workdays import local_date
from services.rectification.deadlines import access, service
from services.rectification.deadlines.schemas import (
    CalendarYearIn,
    CalendarYearRead,
    SchedulePreview,
    TemplateIn,
    TemplateRead,
)
from services.rectification.deps import PolicyDep
from services.rectification.enums import Severity
from services.rectification.errors import InvalidSchedule
from services.rectification.roles import READERS

TAG = "rectification.deadlines"
router = APIRouter(tags=[TAG])

YearPath = Annotated[int, Path(ge=2000, le=2100, description="The calendar year, e.g. 2027")]
SeverityPath = Annotated[Severity, Path(description="The severity whose template this is")]


@router.get("/schedule-templates", response_model=Page[TemplateRead], **allow(*READERS))
async def list_schedule_templates(session: SessionDep) -> Page[TemplateRead]:
    """List the countdown templates per severity."""
    return Page.whole(await service.list_templates(session))


@router.put("/schedule-templates/{severity}", response_model=TemplateRead, **allow(*access.EDITORS))
async def put_schedule_template(
    severity: SeverityPath, body: TemplateIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> TemplateRead:
    """Replace the countdown template of one severity (for problems created from now on)."""
    access.require_city_wide(principal, "the countdown templates")
    return await service.put_template(
        session, severity=severity, template_in=body, principal=principal, now=clock.now()
    )


@router.get("/schedule-preview", response_model=SchedulePreview, **allow(*READERS))
async def preview_schedule(
    severity: Annotated[Severity, Query(description="The severity of the problem, e.g. serious")],
    session: SessionDep,
    clock: ClockDep,
    issued_on: Annotated[
        date | None,
        Query(
            description="The day the problem would be issued (Beijing time), e.g. 2026-09-30; default today"
        ),
    ] = None,
) -> SchedulePreview:
    """Preview the countdown schedule a new problem would get, without creating one."""
    day = issued_on if issued_on is not None else local_date(clock.now())
    if not 2000 <= day.year <= 2098:
        raise InvalidSchedule(
            "无法预览该日期的整改时间表",
            zh="无法预览该日期的整改时间表",
            errors=[
                field_error(
                    ["query", "issued_on"],
                    "下发日期须在 2000 年至 2098 年之间",
                    zh="下发日期须在 2000 年至 2098 年之间",
                )
            ],
        )
    return await service.preview_schedule(session, severity=severity, issued_on=day)


@router.put("/holiday-calendar/{year}", response_model=CalendarYearRead, **allow(*access.EDITORS))
async def put_holiday_calendar_year(
    year: YearPath,
    body: CalendarYearIn,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> CalendarYearRead:
    """Enter a year's official holidays and 调休 working days; provisional schedules are recomputed."""
    access.require_city_wide(principal, "the holiday calendar")
    return await service.enter_calendar_year(
        session, year=year, year_in=body, principal=principal, now=clock.now(), policy=policy
    )


@router.get("/holiday-calendar/{year}", response_model=CalendarYearRead, **allow(*READERS))
async def get_holiday_calendar_year(year: YearPath, session: SessionDep) -> CalendarYearRead:
    """Show where a year's working days come from (entered, the package, or the Mon-Fri fallback)."""
    return await service.calendar_year(session, year)
