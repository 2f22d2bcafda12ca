"""Who may see and change a score sheet.

Role says WHAT a caller may do; scope says WHERE. Overseers (city and district admins, leaders,
`system` keys) read the sheets inside their scope. Inspectors and team leaders read their team's
sheets wherever they are (an assignment from sampling is the grant: teams never inspect their home
district). Only the team changes a sheet; only its leader reviews it; the leader before review, or a
city admin, returns it; a city admin locks it. A sheet the caller may not see is answered exactly
like a missing one (404).

A batch opens many sheets at once: a team member's for the sites assigned to their team, a city
admin's for every team's sites inside the admin's scope (the teams still score them).
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.scoring import clients
from services.scoring.enums import SheetStatus
from services.scoring.errors import InvalidTransition, NotInTeam, sheet_not_found, sheet_status_zh
from services.scoring.models import ScoreSheet
from services.scoring.roles import ANY_READER, CITY_ADMIN, SCOPED_READERS, TEAM
from services.scoring.sheets.repository import SheetVisibility

READERS = ANY_READER
WRITERS = TEAM
REVIEWERS = ("team_leader",)
RETURNERS = ("team_leader", CITY_ADMIN)
LOCKERS = (CITY_ADMIN,)
BATCH_OPENERS = (*TEAM, CITY_ADMIN)


def in_team(sheet: ScoreSheet, principal: Principal) -> bool:
    """Whether the caller is the sheet's team leader or one of its inspectors."""
    return principal.sub in {sheet.team_leader_user_id, *sheet.team_member_ids}


def can_read(sheet: ScoreSheet, principal: Principal) -> bool:
    """Readers see the sheets inside their scope; inspectors and team leaders their team's sheets."""
    if principal.has_role(*SCOPED_READERS) and principal.covers(sheet.org_unit):
        return True
    return principal.has_role(*TEAM) and in_team(sheet, principal)


def visibility(principal: Principal) -> SheetVisibility:
    """What `principal` may see in a list: by scope, by team, or both."""
    return SheetVisibility(
        reader=principal if principal.has_role(*SCOPED_READERS) else None,
        team_user=principal.sub if principal.has_role(*TEAM) else None,
    )


def require_readable(sheet: ScoreSheet | None, principal: Principal, sheet_id: str) -> ScoreSheet:
    """The sheet; 404, exactly as for a missing sheet, unless the caller may read it."""
    if sheet is None or not can_read(sheet, principal):
        raise sheet_not_found(sheet_id)
    return sheet


def require_team(sheet: ScoreSheet, principal: Principal) -> None:
    """Only the sheet's team changes it (403 not-in-team)."""
    if not in_team(sheet, principal):
        raise NotInTeam(
            f"Only team {sheet.team_id} (assigned to {sheet.site_code}) may change this sheet",
            zh=f"只有督查组 {sheet.team_id}（负责 {sheet.site_code}）可以修改该评分表",
            team_id=sheet.team_id,
        )


def require_assigned(
    user_ids: set[str], principal: Principal, *, site_code: str, team_id: str, now: bool
) -> None:
    """The caller is in the team sampling assigned the site to (asked again at submit time)."""
    if principal.sub not in user_ids:
        raise NotInTeam(
            f"{site_code} is {'now ' if now else ''}assigned to team {team_id}, which you are not in",
            zh=f"{site_code} {'现已' if now else '已'}分配给督查组 {team_id}，您不在该组",
            team_id=team_id,
        )


def require_leader(sheet: ScoreSheet, principal: Principal) -> None:
    """Only the team's leader reviews the sheet."""
    if principal.sub != sheet.team_leader_user_id:
        raise NotInTeam(
            f"Only the leader of team {sheet.team_id} may review this sheet",
            zh=f"只有督查组 {sheet.team_id} 的组长可以审核该评分表",
            team_id=sheet.team_id,
        )


def require_may_return(sheet: ScoreSheet, principal: Principal, *, submitted: bool) -> None:
    """The team leader before review, or a city admin.

    A leader may return the sheet in general, so a reviewed sheet refuses them for its state (409),
    not for who they are (403).
    """
    is_leader = principal.sub == sheet.team_leader_user_id
    if principal.has_role(CITY_ADMIN):
        return
    if is_leader and not submitted:
        raise InvalidTransition(
            f"Sheet {sheet.id} is {sheet.status}: once reviewed, only a city admin may return it",
            zh=f"评分表 {sheet.id} 当前为{sheet_status_zh(sheet.status)}：审核后只有市级管理员可以退回",
            sheet_status=sheet.status,
            allowed=[SheetStatus.SUBMITTED],
        )
    if not is_leader:
        raise NotInTeam(
            "Only the team leader (before review) or a city admin may return this sheet",
            zh="只有组长（审核前）或市级管理员可以退回该评分表",
            team_id=sheet.team_id,
        )


def opens_for_every_team(principal: Principal) -> bool:
    """A city admin opens sheets for every team (inside their scope); anyone else for their own team."""
    return principal.has_role(CITY_ADMIN)


def may_open(assignment: clients.Assignment, principal: Principal) -> bool:
    """Whether a batch of `principal` may open the sheet of this assigned site."""
    if opens_for_every_team(principal):
        return principal.covers(assignment.site.org_unit)
    return principal.has_role(*TEAM) and principal.sub in assignment.team_user_ids()


def require_batch_team(team_id: str, user_ids: set[str], principal: Principal) -> None:
    """A team member's batch names only a team they are in (403 not-in-team)."""
    if not opens_for_every_team(principal) and principal.sub not in user_ids:
        raise NotInTeam(
            f"You are not in team {team_id}; open the sheets of your own team",
            zh=f"您不在督查组 {team_id}；请打开您所在组的评分表",
            team_id=team_id,
        )
