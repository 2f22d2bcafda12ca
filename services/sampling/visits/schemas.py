"""API shapes of visit days: a visit in a calendar, and a round's visit settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, Field

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.sampling.enums import RoundStatus
from services.sampling.rounds.schemas import AssignmentSite
from services.sampling.schedule import DEFAULT_MAX_VISITS_PER_DAY


class VisitTeam(OutputModel):
    """The team making a visit."""

    id: int
    """The team's id."""
    number: int
    """The team's number in the round."""
    name: str
    """The team's name."""
    leader_user_id: str
    """The leader's user id."""
    member_user_ids: list[str]
    """The other members' user ids."""


VISIT_EXAMPLE: dict[str, Any] = {
    "round_code": "2026Q1",
    "round_title": "2026年第一季度基层党建专项督查",
    "status": "published",
    "site": {
        "code": "330212001001",
        "name": "三塘村",
        "type": "village",
        "org_unit": "ningbo/yinzhou/330212001/330212001001",
        "district": "yinzhou",
    },
    "team": {
        "id": 12,
        "number": 1,
        "name": "第一督查组",
        "leader_user_id": "u-insp-01",
        "member_user_ids": ["u-insp-14"],
    },
    "visit_on": "2026-04-07",
    "visit_from": "2026-04-07",
    "visit_to": "2026-04-08",
    "follow_up": False,
    "provisional": False,
}


class VisitRead(OutputModel):
    """One visit of a calendar: the site, the working day and the team."""

    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_EXAMPLE]})

    round_code: str
    """The round's code."""
    round_title: str
    """The round's title."""
    status: RoundStatus
    """The round's status."""
    site: AssignmentSite
    """The site visited."""
    team: VisitTeam
    """The team visiting."""
    visit_on: date
    """The working day of the visit (Beijing calendar day)."""
    visit_from: date
    """The first day of the district's visit window."""
    visit_to: date
    """The last day of the district's visit window."""
    follow_up: bool
    """Whether the site is revisited (回头看) rather than drawn."""
    provisional: bool
    """Whether the day was judged a working day without the year's official holiday notice (Mon-Fri guess)."""


VISIT_PLAN_EXAMPLE: dict[str, Any] = {
    "visit_start_on": "2026-04-07",
    "visit_days_per_district": 3,
    "max_visits_per_day": 5,
}


class VisitPlanUpdate(InputModel):
    """New visit settings of a round; fields left out stay as they are."""

    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_PLAN_EXAMPLE]})

    visit_start_on: date | None = None
    """The first day of visits (rolled forward to a working day)."""
    visit_days_per_district: int | None = Field(None, ge=1, le=30)
    """Working days a team spends in each district."""
    max_visits_per_day: int | None = Field(None, ge=1, le=50)
    """At most this many sites per team on one day."""


VISIT_SETTINGS_EXAMPLE: dict[str, Any] = {
    "round_code": "2026Q1",
    "status": "drawn",
    "visit_start_on": "2026-04-07",
    "visit_days_per_district": 3,
    "max_visits_per_day": DEFAULT_MAX_VISITS_PER_DAY,
    "visits": 122,
    "first_visit_on": "2026-04-07",
    "last_visit_on": "2026-04-24",
    "provisional": False,
}


class VisitSettingsRead(OutputModel):
    """A round's visit settings and, once drawn, the span of its schedule."""

    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_SETTINGS_EXAMPLE]})

    round_code: str
    """The round's code."""
    status: RoundStatus
    """The round's status."""
    visit_start_on: date
    """The first day of visits."""
    visit_days_per_district: int
    """Working days a team spends in each district."""
    max_visits_per_day: int
    """At most this many sites per team on one day."""
    visits: int
    """How many visits the draw in force schedules (0 before the draw)."""
    first_visit_on: date | None = None
    """The first visit day (none before the draw)."""
    last_visit_on: date | None = None
    """The last visit day (none before the draw)."""
    provisional: bool
    """Whether a day of the schedule was judged without the year's official holiday notice."""
