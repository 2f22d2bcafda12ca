"""Countdown templates and the holiday calendar (thin: rules live in deadlines/service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.pagination import Page
from services.rectification.deadlines import access, service
from services.rectification.deadlines.schemas import (
    CalendarYearIn,
    CalendarYearRead,
    TemplateIn,
    TemplateRead,
)
from services.rectification.deps import PolicyDep
from services.rectification.enums import Severity
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
