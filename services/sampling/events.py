"""Payloads of the events sampling sends through its outbox: to notify, and to reporting the fact
event `sampling.round.drawn`, a full snapshot of a round's sample (:func:`round_drawn_fact`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from services.kit.orgunit import city_root, district_unit
from services.sampling.models import Assignment, Round, Team

PUBLISHED = "sampling.round.published"
ASSIGNMENT_CHANGED = "sampling.assignment.changed"
# Held back in the outbox until 18:00 Asia/Shanghai the evening before the team's visit day.
VISIT_UPCOMING = "sampling.visit.upcoming"
# The fact event, to reporting's /events (batched to /events/batch): a snapshot, no recipients.
ROUND_DRAWN = "sampling.round.drawn"
FACT_TARGET = "reporting"
FACT_PATH = "/events"
_QUARTER = re.compile(r"^(?P<year>\d{4})Q(?P<quarter>[1-4])")

# The public base of sampling's API at the gateway (settings' `public_base_url`): a team's visit
# calendar is `<base>/rounds/<code>/teams/<number>/visits`.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000/api/v1/sampling"
_public_base_url = DEFAULT_PUBLIC_BASE_URL


def configure_links(base_url: str) -> None:
    """Set the public base URL the events' links start with (once per process, from settings)."""
    global _public_base_url
    _public_base_url = base_url.rstrip("/")


def team_visits_link(round_code: str, team_number: int) -> str:
    """The team's visit calendar (JSON) at the gateway."""
    return f"{_public_base_url}/rounds/{round_code}/teams/{team_number}/visits"


def visit_order(visits: list[Assignment]) -> list[Assignment]:
    """Visits by day, then site code."""
    return sorted(visits, key=lambda a: (a.visit_on, a.site_code))


def _site(a: Assignment) -> dict[str, Any]:
    return {
        "code": a.site_code,
        "name": a.site_name,
        "type": a.site_type,
        "org_unit": a.org_unit,
        "district": a.district,
    }


def _team(t: Team) -> dict[str, Any]:
    return {
        "id": t.id,
        "number": t.number,
        "name": t.name,
        "leader_user_id": t.leader_user_id,
        "member_user_ids": list(t.member_user_ids),
        "districts": list(t.districts),
    }


def team_people(t: Team) -> list[dict[str, Any]]:
    return [{"kind": "person", "user_id": u} for u in [t.leader_user_id, *t.member_user_ids]]


def district_admins(district: str) -> list[dict[str, Any]]:
    return [{"kind": "role", "role": "district_admin", "org_unit": district_unit(district)}]


def published_to_team(rnd: Round, team: Team, visits: list[Assignment]) -> dict[str, Any]:
    """The visit list, for the team only."""
    return {
        "recipients": team_people(team),
        "priority": "normal",
        "audience": "team",
        "round_code": rnd.code,
        "name": rnd.title,
        "round_title": rnd.title,
        "org_unit": city_root(),
        "district": None,
        "team": _team(team),
        "visits": [
            {
                "site": _site(a),
                "visit_on": a.visit_on.isoformat(),
                "visit_from": a.visit_from.isoformat(),
                "visit_to": a.visit_to.isoformat(),
                "follow_up": a.follow_up,
            }
            for a in visit_order(visits)
        ],
    }


def visit_upcoming(rnd: Round, team: Team, visit_on: date, visits: list[Assignment]) -> dict[str, Any]:
    """Tomorrow's visits, for the team (sent at 18:00 Beijing time the evening before)."""
    return {
        "recipients": team_people(team),
        "priority": "normal",
        "round_code": rnd.code,
        "name": rnd.title,
        "org_unit": city_root(),
        "district": None,
        "team": _team(team),
        "visit_on": visit_on.isoformat(),
        "visits": [{"site": _site(a), "follow_up": a.follow_up} for a in visit_order(visits)],
        "link": team_visits_link(rnd.code, team.number),
    }


def published_to_district(rnd: Round, district: str, visit_from: date, visit_to: date) -> dict[str, Any]:
    """A district learns only that a visit is coming and when, never which sites."""
    return {
        "recipients": district_admins(district),
        "priority": "normal",
        "audience": "district",
        "round_code": rnd.code,
        "name": rnd.title,
        "round_title": rnd.title,
        "district": district,
        "org_unit": district_unit(district),
        "visit_from": visit_from.isoformat(),
        "visit_to": visit_to.isoformat(),
    }


def assignment_changed(
    rnd: Round,
    a: Assignment,
    old_team: Team,
    new_team: Team,
    old_window: tuple[date, date],
    previous_visit_on: date,
) -> dict[str, Any]:
    people = {r["user_id"]: r for r in team_people(old_team) + team_people(new_team)}
    return {
        "recipients": list(people.values()),
        "priority": "normal",
        "round_code": rnd.code,
        "site": _site(a),
        "org_unit": a.org_unit,
        "district": a.district,
        "team": _team(new_team),
        "previous_team": _team(old_team),
        "visit_from": a.visit_from.isoformat(),
        "visit_to": a.visit_to.isoformat(),
        "previous_visit_from": old_window[0].isoformat(),
        "previous_visit_to": old_window[1].isoformat(),
        "visit_on": a.visit_on.isoformat(),
        "previous_visit_on": previous_visit_on.isoformat(),
        "reason": a.change_reason,
    }


def round_drawn_fact(
    rnd: Round,
    *,
    drawn_at: datetime,
    teams: Iterable[Team],
    visits: Iterable[Assignment],
    district_names: Mapping[str, str],
) -> dict[str, Any]:
    """`sampling.round.drawn`: the round's current draw as it stands (state transfer).

    `rnd.revision` must already count this change. `visits` are the current draw's assignments,
    `teams` its teams, `district_names` every district's or zone's Chinese name by slug (those of the
    round without one in the directory are named by their slug).
    """
    m = _QUARTER.match(rnd.code)
    names = {**{d: d for d in rnd.districts}, **district_names}
    team_by_id = {t.id: t for t in teams}
    rows = []
    for a in sorted(visits, key=lambda a: a.site_code):
        team = team_by_id.get(a.team_id)
        rows.append(
            {
                "site": _site(a),
                "team_id": str(a.team_id) if a.team_id is not None else None,
                "team_name": team.name if team is not None and team.name else None,
                "visit_on": a.visit_on.isoformat() if a.visit_on is not None else None,
                "follow_up": bool(a.follow_up),
            }
        )
    return {
        "round_code": rnd.code,
        "name": rnd.title,
        "year": int(m["year"]) if m else None,
        "quarter": int(m["quarter"]) if m else None,
        "drawn_at": drawn_at.isoformat(),
        "revision": rnd.revision,
        "districts": [{"code": code, "name": name} for code, name in sorted(names.items())],
        "visits": rows,
    }
