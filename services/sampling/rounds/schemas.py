"""API shapes of rounds (督查批次): plans, frames, draws and their records, teams and assignments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.sampling.enums import (
    CommitmentMode,
    FollowUpSource,
    QuotaPer,
    RoundStatus,
    SiteGroup,
    SiteSubtype,
    SiteType,
)
from services.sampling.importing import SLUG_RE
from services.sampling.schedule import DEFAULT_MAX_VISITS_PER_DAY

ROUND_CODE = r"^\d{4}Q[1-4](-[0-9a-z]{1,10})?$"
SHA256_EXAMPLE = "5d41402abc4b2a76b9719d911017c592e8f3b1a2c4d5e6f708192a3b4c5d6e7f"


class Quota(InputModel):
    """How many sites of a group (or of one subtype in it) to draw per district, per town, or once city-wide.

    Three shapes: a fixed ``count`` per stratum; a range ``min``..``max`` per stratum (the draw
    picks the number); or a ``total`` over all the quota's strata with ``min`` as the floor each
    stratum gets (and ``max`` as an optional cap), the rest allocated by the draw.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"group": "town_street", "per": "district", "min": 1, "total": 29},
                {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
                {"group": "village_community", "per": "district", "count": 4},
            ]
        }
    )

    group: SiteGroup
    """The group of site types the quota draws from."""
    subtype: SiteSubtype | None = None
    """Draw only sites of this subtype (e.g. hospital among institutions); a quota of the same group
    without a subtype then leaves those sites out."""
    per: QuotaPer = QuotaPer.DISTRICT
    """What the quota counts over."""
    count: int | None = Field(None, ge=0, description="Fixed number; or give min and max for a range")
    min: int | None = Field(None, ge=0)
    """The fewest sites to draw per stratum (with total: the floor every stratum gets, 0 by default)."""
    max: int | None = Field(None, ge=0)
    """The most sites to draw per stratum (with total: an optional cap)."""
    total: int | None = Field(
        None,
        ge=1,
        le=100_000,
        examples=[29],
        description="Sites to draw over all the quota's strata (per district or town), each getting at "
        "least min; the remainder is allocated from the draw's seed (docs/draw-algorithm.md)",
    )

    @model_validator(mode="after")
    def _range(self) -> Quota:
        if self.total is not None:
            if self.count is not None:
                raise ValueError("with total, give min (the floor per stratum), not count")
            if self.min is None:
                self.min = 0
            if self.max is not None and self.min > self.max:
                raise ValueError("min must not exceed max")
            return self
        if self.count is not None:
            if self.min not in (None, self.count) or self.max not in (None, self.count):
                raise ValueError("give either count or min/max, not both")
            self.min = self.max = self.count
        elif self.min is None or self.max is None:
            raise ValueError("give count, or both min and max")
        elif self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class FollowUpSpec(InputModel):
    """Which sites to revisit (回头看) besides the drawn ones."""

    site_codes: list[str] = Field(
        default_factory=list, description="Sites to revisit (回头看), named by the caller"
    )
    from_rectification: bool = Field(
        False, description="Also revisit sites with overdue problems, asked of rectification"
    )


DEFAULT_PLAN_EXAMPLE: dict[str, Any] = {
    "quotas": [
        {"group": "town_street", "per": "district", "count": 2, "min": 2, "max": 2},
        {"group": "village_community", "per": "district", "count": 4, "min": 4, "max": 4},
        {"group": "two_new", "per": "district", "count": None, "min": 1, "max": 2},
        {"group": "institution", "per": "city", "count": 1, "min": 1, "max": 1},
    ],
    "exclude_last_rounds": 1,
    "reserve": 3,
    "follow_up": {"site_codes": ["330212001001"], "from_rectification": False},
}


# The seed article's first-quarter round: every district and zone itself, 29 towns/streets, 70
# villages/communities and 22 two-new organisations with every district and zone covered, 1 hospital.
Q1_PLAN_EXAMPLE: dict[str, Any] = {
    "quotas": [
        {"group": "district_zone", "per": "district", "count": 1},
        {"group": "town_street", "per": "district", "min": 1, "total": 29},
        {"group": "village_community", "per": "district", "min": 2, "total": 70},
        {"group": "two_new", "per": "district", "min": 1, "total": 22},
        {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
    ],
    "exclude_last_rounds": 1,
    "reserve": 3,
}


class Plan(InputModel):
    """A round's sampling plan: quotas per group, exclusions, reserves and follow-up visits."""

    model_config = ConfigDict(json_schema_extra={"examples": [DEFAULT_PLAN_EXAMPLE, Q1_PLAN_EXAMPLE]})

    quotas: list[Quota] = Field(min_length=1)
    """One quota per group, or per group and subtype (each at most once)."""
    exclude_last_rounds: int = Field(1, ge=0, le=20, description="Skip sites drawn in the last N rounds")
    reserve: int = Field(3, ge=0, le=50, description="Extra ranked tickets kept per stratum (候补)")
    follow_up: FollowUpSpec = Field(default_factory=FollowUpSpec)
    """Sites to revisit."""


def _slugs(v: list[str] | None) -> list[str] | None:
    if v is not None:
        for d in v:
            if not SLUG_RE.match(d):
                raise ValueError(f"{d!r} is not a district slug")
        if len(set(v)) != len(v):
            raise ValueError("districts repeat")
    return v


class RoundCreate(InputModel):
    """A new round, opened in planning."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "2026Q1",
                    "title": "2026年第一季度基层党建专项督查",
                    "districts": ["haishu", "yinzhou"],
                    "plan": DEFAULT_PLAN_EXAMPLE,
                    "visit_start_on": "2026-04-01",
                }
            ]
        }
    )

    code: str = Field(
        pattern=ROUND_CODE, examples=["2026Q1"], description="The quarter, e.g. 2026Q1 (or 2026Q1-extra)"
    )
    title: str | None = Field(None, max_length=200)
    """The round's title; by default 「<year>年第<n>季度基层党建专项督查」."""
    districts: list[str] | None = Field(None, description="District/zone slugs in scope; default all of them")
    plan: Plan
    """The sampling plan."""
    visit_start_on: date
    """The first day of visits (Beijing calendar day)."""
    visit_days_per_district: int = Field(2, ge=1, le=30)
    """Working days a team spends in each district."""
    max_visits_per_day: int = Field(DEFAULT_MAX_VISITS_PER_DAY, ge=1, le=50)
    """At most this many sites per team on one visit day."""
    team_count: int = Field(5, ge=1, le=50)
    """How many teams to draw."""
    team_size: int = Field(6, ge=1, le=30)
    """People per team, the leader included."""

    _v_districts = field_validator("districts")(_slugs)


class RoundPlanUpdate(InputModel):
    """A round's new plan (while it is still planning); fields left out stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"plan": DEFAULT_PLAN_EXAMPLE, "districts": ["haishu"], "team_count": 3}]
        }
    )

    plan: Plan
    """The new sampling plan."""
    districts: list[str] | None = None
    """New district/zone slugs in scope."""
    visit_start_on: date | None = None
    """A new first day of visits."""
    visit_days_per_district: int | None = Field(None, ge=1, le=30)
    """Working days a team spends in each district."""
    max_visits_per_day: int | None = Field(None, ge=1, le=50)
    """At most this many sites per team on one visit day."""
    team_count: int | None = Field(None, ge=1, le=50)
    """How many teams to draw."""
    team_size: int | None = Field(None, ge=1, le=30)
    """People per team."""


class FollowUp(OutputModel):
    """A site the round revisits (回头看) whatever the draw."""

    code: str
    """The site's code."""
    district: str
    """Its district or zone slug."""
    source: FollowUpSource
    """Why it is revisited."""


ROUND_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "code": "2026Q1",
    "title": "2026年第一季度基层党建专项督查",
    "status": "published",
    "districts": ["haishu", "yinzhou"],
    "plan": DEFAULT_PLAN_EXAMPLE,
    "follow_ups": [{"code": "330212001001", "district": "yinzhou", "source": "named"}],
    "visit_start_on": "2026-04-01",
    "visit_days_per_district": 2,
    "max_visits_per_day": 6,
    "team_count": 5,
    "team_size": 6,
    "commitment": SHA256_EXAMPLE,
    "commitment_mode": "server",
    "revealed_at": "2026-04-03T02:10:00Z",
    "frame_hash": SHA256_EXAMPLE,
    "frozen_at": "2026-03-30T01:00:00Z",
    "current_draw_number": 1,
    "created_by": "u-admin",
    "created_at": "2026-03-20T01:30:00Z",
    "published_at": "2026-04-03T02:30:00Z",
    "closed_at": None,
}


class RoundRead(OutputModel):
    """A round: its status, plan, frame hash and seed commitment."""

    model_config = ConfigDict(json_schema_extra={"examples": [ROUND_EXAMPLE]})

    id: int
    """The round's id."""
    code: str
    """The round's code (its quarter)."""
    title: str
    """The round's title."""
    status: RoundStatus
    """Where the round stands."""
    districts: list[str]
    """District/zone slugs in scope."""
    plan: Plan
    """The sampling plan (follow-up codes hidden from all but city-wide overseers)."""
    follow_ups: list[FollowUp]
    """Sites revisited whatever the draw (empty for all but city-wide overseers)."""
    visit_start_on: date
    """The first day of visits."""
    visit_days_per_district: int
    """Working days a team spends in each district."""
    max_visits_per_day: int
    """At most this many sites per team on one visit day."""
    team_count: int
    """How many teams are drawn."""
    team_size: int
    """People per team."""
    commitment: str | None = None
    """SHA-256 (hex) of the secret seed, recorded at freeze."""
    commitment_mode: CommitmentMode | None = None
    """Who holds the secret."""
    revealed_at: datetime | None = None
    """When the secret was revealed."""
    frame_hash: str | None = None
    """SHA-256 of the frozen frame."""
    frozen_at: datetime | None = None
    """When the frame was frozen."""
    current_draw_number: int | None = None
    """The number of the draw in force."""
    created_by: str
    """Who opened the round."""
    created_at: datetime
    """When the round was opened."""
    published_at: datetime | None = None
    """When the round was published."""
    closed_at: datetime | None = None
    """When the round was closed."""


FREEZE_EXAMPLE: dict[str, Any] = {"commitment": SHA256_EXAMPLE}


class FreezeRequest(InputModel):
    """The seed commitment to record at freeze (or none: the server then holds the secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [FREEZE_EXAMPLE]})

    commitment: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 (hex) of a secret you keep and give at draw time; omit to let the server hold one",
    )


class QuotaRange(OutputModel):
    """The number of sites a stratum's draw picks, between min and max."""

    min: int
    """The fewest."""
    max: int
    """The most."""


ALLOCATION_EXAMPLE: dict[str, Any] = {
    "key": "district:town_street",
    "group": "town_street",
    "subtype": None,
    "per": "district",
    "floor": 1,
    "total": 29,
    "cap": None,
    "strata": ["beilun:town_street", "cixi:town_street", "yinzhou:town_street"],
}

STRATUM_EXAMPLE: dict[str, Any] = {
    "key": "yinzhou:village_community",
    "group": "village_community",
    "district": "yinzhou",
    "town_code": None,
    "size": 412,
    "excluded": 8,
    "quota": {"min": 4, "max": 4},
    "hash": SHA256_EXAMPLE,
    "codes": None,
}


class StratumSummary(OutputModel):
    """One stratum of a frozen frame."""

    key: str
    """The stratum's key: `<district>[/<town>]:<group>[.<subtype>]` or `city:<group>[.<subtype>]`."""
    group: SiteGroup
    """The group of site types."""
    subtype: SiteSubtype | None = None
    """The subtype the stratum is limited to (when its quota names one)."""
    allocation: str | None = None
    """The allocation (quota with a total) the stratum's count comes from, e.g. `district:town_street`."""
    district: str | None = None
    """The district (none for a city-wide stratum)."""
    town_code: str | None = None
    """The town (for per-town quotas)."""
    size: int
    """Eligible sites."""
    excluded: int
    """Sites left out because a recent round visited them."""
    quota: QuotaRange
    """How many sites the draw picks."""
    hash: str
    """SHA-256 of the sorted eligible codes."""
    codes: list[str] | None = None
    """The sorted eligible codes (when asked for)."""


class Allocation(OutputModel):
    """A quota with a total, as frozen: its floor, total, optional cap and strata."""

    model_config = ConfigDict(json_schema_extra={"examples": [ALLOCATION_EXAMPLE]})

    key: str
    """`<per>:<group>[.<subtype>]`, e.g. `district:town_street`."""
    group: SiteGroup
    """The group of site types."""
    subtype: SiteSubtype | None = None
    """The subtype, when the quota names one."""
    per: QuotaPer
    """What its strata are (district or town)."""
    floor: int
    """Sites every stratum takes first."""
    total: int
    """Sites over all its strata."""
    cap: int | None = None
    """The most any stratum takes (none: its size)."""
    strata: list[str]
    """Its strata's keys, in UTF-8 byte order."""


class FrameRead(OutputModel):
    """A round's frozen frame."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "hash": SHA256_EXAMPLE,
                    "frozen_at": "2026-03-30T01:00:00Z",
                    "commitment": SHA256_EXAMPLE,
                    "strata": [STRATUM_EXAMPLE],
                    "warnings": [],
                }
            ]
        }
    )

    round_code: str
    """The round's code."""
    hash: str
    """SHA-256 over the strata's hashes."""
    frozen_at: datetime
    """When the frame was frozen."""
    commitment: str
    """The seed commitment recorded at freeze."""
    strata: list[StratumSummary]
    """Every stratum, by key."""
    allocations: list[Allocation] = []
    """The quotas with a total: floor, total, cap and strata (the draw allocates their counts)."""
    warnings: list[str]
    """Exclusions relaxed, quotas capped."""


class DrawRequest(InputModel):
    """The public value read out at the draw (and the secret when the caller committed to one)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"public_value": "2026-04-03 会议现场摇号 5-2-7-0-9"}]}
    )

    public_value: str = Field(
        min_length=1, max_length=200, description="Value read out at the meeting, e.g. lottery digits"
    )
    secret: str | None = Field(
        None, min_length=1, max_length=200, description="Only when you gave the commitment at freeze"
    )
    reason: str | None = Field(None, max_length=2000, description="Required for a redraw")

    @field_validator("public_value", "secret")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("must not contain NUL")
        return v


DRAW_EXAMPLE: dict[str, Any] = {
    "number": 1,
    "algorithm": "sampling-draw/1",
    "public_value": "2026-04-03 会议现场摇号 5-2-7-0-9",
    "reason": None,
    "record_sha256": SHA256_EXAMPLE,
    "created_by": "u-admin",
    "created_at": "2026-04-03T02:00:00Z",
    "current": True,
    "sites": 118,
    "warnings": [],
}


class DrawSummary(OutputModel):
    """One draw of a round."""

    model_config = ConfigDict(json_schema_extra={"examples": [DRAW_EXAMPLE]})

    number: int
    """The draw's number in the round (1, then redraws)."""
    algorithm: str
    """The draw algorithm's name and version."""
    public_value: str
    """The value read out at the meeting."""
    reason: str | None = None
    """Why this redraw was made."""
    record_sha256: str
    """SHA-256 of the draw's record."""
    created_by: str
    """Who drew."""
    created_at: datetime
    """When."""
    current: bool
    """Whether this draw is in force."""
    sites: int
    """Sites drawn (follow-ups included)."""
    warnings: list[str]
    """What the draw had to relax."""


class RecordParameters(OutputModel):
    """The round's parameters a draw used."""

    districts: list[str]
    """District/zone slugs in scope."""
    plan: Plan
    """The sampling plan."""
    reserve: int
    """Extra ranked tickets per stratum."""
    team_count: int
    """Teams drawn."""
    team_size: int
    """People per team."""
    visit_start_on: date
    """The first day of visits."""
    visit_days_per_district: int
    """Days per district."""


class RecordFrame(OutputModel):
    """The frozen frame a draw drew from."""

    hash: str
    """SHA-256 over the strata's hashes."""
    strata: list[StratumSummary]
    """Every stratum with its codes."""
    excluded_rounds: list[str]
    """Rounds whose sites were excluded."""
    allocations: list[Allocation] | None = None
    """The quotas with a total (only in `sampling-draw/2` records)."""


class RecordSeed(OutputModel):
    """The seed of a draw: commitment, public value and (once revealed) the secret."""

    commitment: str
    """SHA-256 of the secret, recorded at freeze."""
    commitment_mode: CommitmentMode
    """Who held the secret."""
    public_value: str
    """The value read out at the meeting."""
    secret: str | None = None
    """The secret, once revealed (none before)."""


class PoolMember(OutputModel):
    """One inspector as the team draw saw them."""

    user_id: str
    """The person's user id."""
    home_district: str
    """Their home district (never inspected by them)."""
    can_lead: bool
    """Whether they may lead a team."""


class TeamsInput(OutputModel):
    """What the team draw started from."""

    districts: list[str]
    """Districts with drawn sites."""
    inspectors: list[PoolMember]
    """The active pool, by user id."""
    count: int
    """Teams to form."""
    size: int
    """People per team."""


class StratumDraw(OutputModel):
    """The draw of one stratum."""

    key: str
    """The stratum's key."""
    count: int
    """How many sites were picked."""
    selected: list[str]
    """The picked codes, in ticket order."""
    ranked: list[list[str]]
    """`[code, ticket]` pairs of the picked and the reserve (候补), in ticket order."""


class TeamDraw(OutputModel):
    """One team as drawn."""

    number: int
    """The team's number."""
    districts: list[str]
    """The districts it visits, in order."""
    leader: str
    """The leader's user id."""
    members: list[str]
    """The other members' user ids."""


class AllocationDraw(OutputModel):
    """How many sites each stratum of an allocation took."""

    key: str
    """The allocation's key."""
    counts: dict[str, int]
    """Sites per stratum key (they add up to the total)."""


class DrawResult(OutputModel):
    """What a draw picked."""

    strata: list[StratumDraw]
    """Each stratum's picks."""
    teams: list[TeamDraw]
    """The teams."""
    allocations: list[AllocationDraw] | None = None
    """Each allocation's counts per stratum (only in `sampling-draw/2` records)."""


class DrawRecord(OutputModel):
    """A draw's full, self-contained record: what ``python -m services.sampling.verify`` checks."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "algorithm": "sampling-draw/1",
                    "round_code": "2026Q1",
                    "draw_number": 1,
                    "previous_draw": None,
                    "reason": None,
                    "parameters": {
                        "districts": ["yinzhou"],
                        "plan": DEFAULT_PLAN_EXAMPLE,
                        "reserve": 3,
                        "team_count": 1,
                        "team_size": 2,
                        "visit_start_on": "2026-04-07",
                        "visit_days_per_district": 2,
                    },
                    "frame": {
                        "hash": SHA256_EXAMPLE,
                        "strata": [{**STRATUM_EXAMPLE, "codes": ["330212001001", "330212001002"]}],
                        "excluded_rounds": ["2025Q4"],
                    },
                    "seed": {
                        "commitment": SHA256_EXAMPLE,
                        "commitment_mode": "server",
                        "public_value": "2026-04-03 会议现场摇号 5-2-7-0-9",
                        "secret": None,
                    },
                    "follow_ups": [],
                    "teams_input": {
                        "districts": ["yinzhou"],
                        "inspectors": [
                            {"user_id": "u-insp-01", "home_district": "haishu", "can_lead": True},
                            {"user_id": "u-insp-02", "home_district": "beilun", "can_lead": False},
                        ],
                        "count": 1,
                        "size": 2,
                    },
                    "result": {
                        "strata": [
                            {
                                "key": "yinzhou:village_community",
                                "count": 1,
                                "selected": ["330212001002"],
                                "ranked": [["330212001002", SHA256_EXAMPLE]],
                            }
                        ],
                        "teams": [
                            {
                                "number": 1,
                                "districts": ["yinzhou"],
                                "leader": "u-insp-01",
                                "members": ["u-insp-02"],
                            }
                        ],
                    },
                    "warnings": [],
                    "drawn_at": "2026-04-03T02:00:00Z",
                    "drawn_by": "u-admin",
                    "record_sha256": SHA256_EXAMPLE,
                    "current": True,
                }
            ]
        }
    )

    algorithm: str
    """The draw algorithm's name and version: `sampling-draw/1`, or `/2` when a quota has a total."""
    round_code: str
    """The round's code."""
    draw_number: int
    """The draw's number in the round."""
    previous_draw: int | None = None
    """The number of the draw this one replaced."""
    reason: str | None = None
    """Why this redraw was made."""
    parameters: RecordParameters
    """The round's parameters."""
    frame: RecordFrame
    """The frozen frame, with its codes (and its allocations, in `sampling-draw/2`)."""
    seed: RecordSeed
    """The seed."""
    follow_ups: list[FollowUp]
    """Sites revisited whatever the draw."""
    teams_input: TeamsInput
    """The inputs of the team draw (districts and the active pool)."""
    result: DrawResult
    """What was picked."""
    warnings: list[str]
    """What the draw had to relax."""
    drawn_at: datetime
    """When the draw was made."""
    drawn_by: str
    """Who drew."""
    record_sha256: str
    """SHA-256 of the record as stored (without the frame codes, the secret and these export fields)."""
    current: bool
    """Whether this draw is in force."""


TEAM_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "number": 1,
    "name": "第一督查组",
    "leader_user_id": "u-insp-01",
    "member_user_ids": ["u-insp-14", "u-insp-27"],
    "districts": ["yinzhou", "haishu"],
}


class TeamRead(OutputModel):
    """An inspection team (督查组) of the draw in force."""

    model_config = ConfigDict(json_schema_extra={"examples": [TEAM_EXAMPLE]})

    id: int
    """The team's id."""
    number: int
    """The team's number."""
    name: str
    """The team's name."""
    leader_user_id: str
    """The leader's user id."""
    member_user_ids: list[str]
    """The other members' user ids."""
    districts: list[str]
    """The districts it visits, in order."""


class AssignmentSite(OutputModel):
    """The site of a visit, as it was when drawn."""

    code: str
    """The site's code."""
    name: str
    """The site's name."""
    type: SiteType
    """What kind of unit it is."""
    org_unit: str
    """Its org unit."""
    district: str
    """Its district or zone slug."""


class AssignmentTeam(OutputModel):
    """The team that visits a site."""

    id: int
    """The team's id."""
    name: str
    """The team's name."""
    leader_user_id: str
    """The leader's user id."""
    member_user_ids: list[str]
    """The other members' user ids."""


ASSIGNMENT_EXAMPLE: dict[str, Any] = {
    "round_code": "2026Q1",
    "status": "published",
    "site": {
        "code": "330212001001",
        "name": "三塘村",
        "type": "village",
        "org_unit": "ningbo/yinzhou/330212001/330212001001",
        "district": "yinzhou",
    },
    "team": {"id": 12, "name": "第一督查组", "leader_user_id": "u-insp-01", "member_user_ids": ["u-insp-14"]},
    "visit_from": "2026-04-07",
    "visit_to": "2026-04-08",
    "visit_on": "2026-04-07",
    "follow_up": False,
    "stratum": "yinzhou:village_community",
    "changed_at": None,
    "change_reason": None,
}


class AssignmentRead(OutputModel):
    """A site drawn in a round, with its team and visit window."""

    model_config = ConfigDict(json_schema_extra={"examples": [ASSIGNMENT_EXAMPLE]})

    round_code: str
    """The round's code."""
    status: RoundStatus
    """The round's status."""
    site: AssignmentSite
    """The site visited."""
    team: AssignmentTeam
    """The team visiting."""
    visit_from: date
    """The first day of the visit window."""
    visit_to: date
    """The last day of the visit window."""
    visit_on: date
    """The working day the team visits the site (inside the window)."""
    follow_up: bool
    """Whether the site is revisited (回头看) rather than drawn."""
    stratum: str | None = None
    """The stratum the site was drawn in (none for a follow-up)."""
    changed_at: datetime | None = None
    """When the visit was last moved."""
    change_reason: str | None = None
    """Why it was moved."""


class AssignmentUpdate(InputModel):
    """Move a visit to another team or window."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "team_id": 13,
                    "visit_from": "2026-04-09",
                    "visit_to": "2026-04-10",
                    "visit_on": "2026-04-10",
                    "reason": "原督查组成员回避",
                }
            ]
        }
    )

    team_id: int | None = None
    """The team to move the visit to."""
    visit_from: date | None = None
    """A new first day."""
    visit_to: date | None = None
    """A new last day."""
    visit_on: date | None = None
    """The working day of the visit, inside the window (by default it keeps its day, or takes the first with room)."""
    reason: str = Field(min_length=1, max_length=2000)
    """Why the visit moves (sent to the teams)."""
