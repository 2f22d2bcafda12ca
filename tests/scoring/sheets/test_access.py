"""Who may see and change a sheet (sheets/access.py), without a database."""

from datetime import UTC, datetime

import pytest

from services.kit.auth import Principal
from services.scoring import clients
from services.scoring.errors import InvalidTransition, NotInTeam, SheetNotFound
from services.scoring.models import ScoreSheet
from services.scoring.sheets import access
from services.scoring.sheets.repository import SheetVisibility

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def sheet() -> ScoreSheet:
    return ScoreSheet(
        id="s-1",
        round_code="2026Q1",
        rubric_id=1,
        site_code="330212001201",
        site_name="勤勇村",
        site_type="village",
        org_unit="ningbo/yinzhou/330212001/330212001201",
        district="yinzhou",
        team_id="T1",
        team_leader_user_id="u-leader",
        team_member_ids=["u-insp1"],
        status="submitted",
        created_by="u-insp1",
        created_at=NOW,
        updated_at=NOW,
    )


def who(role: str, scope: str = "ningbo", sub: str = "u-someone") -> Principal:
    return Principal(sub=sub, roles=(role,), scope=scope)


class TestCanRead:
    @pytest.mark.parametrize(
        ("principal", "allowed"),
        [
            (who("city_admin"), True),
            (who("city_admin", "ningbo/haishu"), False),
            (who("district_admin", "ningbo/yinzhou"), True),
            (who("leader", "ningbo/haishu"), False),
            (who("system", "ningbo/yinzhou"), True),
            (who("inspector", "ningbo/jiangbei", "u-insp1"), True),
            (who("inspector", "ningbo/yinzhou", "u-other"), False),
            (who("team_leader", "ningbo/jiangbei", "u-leader"), True),
            (who("responsible", "ningbo"), False),
        ],
        ids=lambda p: p.sub + "@" + p.scope if isinstance(p, Principal) else str(p),
    )
    def test_scope_for_overseers_team_for_inspectors(self, principal, allowed):
        assert access.can_read(sheet(), principal) is allowed

    def test_an_unreadable_sheet_is_the_missing_sheet(self):
        with pytest.raises(SheetNotFound):
            access.require_readable(sheet(), who("city_admin", "ningbo/haishu"), "s-1")
        with pytest.raises(SheetNotFound):
            access.require_readable(None, who("city_admin"), "s-1")


class TestVisibility:
    def test_overseers_list_by_scope_and_teams_by_team(self):
        admin = access.visibility(who("city_admin", "ningbo/haishu"))
        assert admin.reader is not None and admin.team_user is None
        inspector = access.visibility(who("inspector", sub="u-insp1"))
        assert inspector.reader is None and inspector.team_user == "u-insp1"
        assert access.visibility(who("responsible")) == SheetVisibility(reader=None, team_user=None)


class TestChanges:
    def test_only_the_team_changes_and_only_its_leader_reviews(self):
        access.require_team(sheet(), who("inspector", sub="u-insp1"))
        with pytest.raises(NotInTeam):
            access.require_team(sheet(), who("inspector", sub="u-other"))
        access.require_leader(sheet(), who("team_leader", sub="u-leader"))
        with pytest.raises(NotInTeam):
            access.require_leader(sheet(), who("team_leader", sub="u-insp1"))

    def test_the_leader_returns_before_review_a_city_admin_always(self):
        leader = who("team_leader", sub="u-leader")
        access.require_may_return(sheet(), leader, submitted=True)
        # Reviewed: the leader is still the leader, the sheet's state refuses them (409, not 403).
        with pytest.raises(InvalidTransition):
            access.require_may_return(sheet(), leader, submitted=False)
        with pytest.raises(NotInTeam):
            access.require_may_return(sheet(), who("inspector", sub="u-someone"), submitted=True)
        access.require_may_return(sheet(), who("city_admin"), submitted=False)


class TestBatchOpening:
    def assignment(self, org_unit: str = "ningbo/yinzhou/330212001/330212001201") -> clients.Assignment:
        return clients.Assignment.model_validate(
            {
                "round_code": "2026Q1",
                "site": {
                    "code": "330212001201",
                    "name": "勤勇村",
                    "type": "village",
                    "org_unit": org_unit,
                    "district": "yinzhou",
                },
                "team": {"id": "T1", "leader_user_id": "u-leader", "member_user_ids": ["u-insp1"]},
            }
        )

    @pytest.mark.parametrize(
        ("principal", "allowed"),
        [
            (who("inspector", "ningbo/jiangbei", "u-insp1"), True),
            (who("team_leader", "ningbo/jiangbei", "u-leader"), True),
            (who("inspector", "ningbo/yinzhou", "u-other"), False),
            (who("city_admin"), True),
            (who("city_admin", "ningbo/yinzhou"), True),
            (who("city_admin", "ningbo/haishu"), False),
            (who("district_admin", "ningbo/yinzhou", "u-insp1"), False),
        ],
        ids=lambda p: p.sub + "@" + p.scope if isinstance(p, Principal) else str(p),
    )
    def test_the_team_opens_its_sites_a_city_admin_those_in_scope(self, principal, allowed):
        assert access.may_open(self.assignment(), principal) is allowed

    def test_a_team_member_names_only_their_own_team(self):
        access.require_batch_team("T1", {"u-leader", "u-insp1"}, who("inspector", sub="u-insp1"))
        access.require_batch_team("T1", {"u-leader"}, who("city_admin"))
        with pytest.raises(NotInTeam):
            access.require_batch_team("T1", {"u-leader"}, who("inspector", sub="u-insp1"))
