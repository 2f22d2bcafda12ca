"""Every figure reporting shows, computed from :class:`~services.reporting.facts.RoundFacts` alone.

Pure functions, no I/O: the dashboard, the charts, the 专报, the bulletin, the problem lists and the
annual assessment all call these, so one number has one definition (docs/reporting.md lists them):

- **Coverage:** a drawn site counts as *visited* once its score sheet has been submitted (a draft
  sheet may be created before the visit).
- **Score distribution and grades:** over locked sheets only.
- **整改率** = closed problems / counted problems, **按期整改率** = problems closed by their deadline /
  problems due (closed, or past their deadline at `now`). Withdrawn and merged problems are not
  counted at all. A rate with an empty denominator is None (shown as 「—」), never 0 % or 100 %.
- **Overdue:** not closed (nor withdrawn or merged) and past its deadline at `now`.
- **Light:** green, yellow (≤ `yellow_days` days left), red (≤ `red_days`), overdue, as
  rectification shows it; closed problems have none.
- Percentages are rounded half up to one decimal; scores to two.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from services.reporting.facts import ProblemFact, RoundFacts, SheetFact

GRADES: tuple[str, ...] = ("好", "较好", "一般", "差")
SHEET_STATES: tuple[str, ...] = ("draft", "submitted", "reviewed", "returned", "locked")
SHEET_STATE_LABELS: dict[str, str] = {
    "draft": "草稿",
    "submitted": "已提交",
    "reviewed": "已审核",
    "returned": "已退回",
    "locked": "已锁定",
}
VISITED_STATES = frozenset({"submitted", "reviewed", "locked"})
PROBLEM_STATES: tuple[str, ...] = ("open", "in_progress", "submitted", "returned", "closed")
PROBLEM_STATE_LABELS: dict[str, str] = {
    "open": "待整改",
    "in_progress": "整改中",
    "submitted": "待核查",
    "returned": "已退回",
    "closed": "已销号",
    "withdrawn": "已撤回",
    "merged": "已合并",
}
VOID_STATES = frozenset({"withdrawn", "merged"})
LIGHTS: tuple[str, ...] = ("green", "yellow", "red", "overdue")
LIGHT_LABELS: dict[str, str] = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "overdue": "逾期"}
SEVERITY_LABELS: dict[str, str] = {"general": "一般", "serious": "较重", "severe": "严重"}
SITE_TYPE_LABELS: dict[str, str] = {
    "district": "区县市",
    "zone": "功能区",
    "town": "镇乡",
    "street": "街道",
    "village": "村",
    "community": "社区",
    "enterprise": "非公企业",
    "social_org": "社会组织",
    "institution": "机关事业单位",
}
# Score bands of the distribution (lower bound inclusive, upper exclusive; 100 falls in the last).
SCORE_BANDS: tuple[tuple[float, float, str], ...] = (
    (0, 60, "60分以下"),
    (60, 70, "60–69分"),
    (70, 80, "70–79分"),
    (80, 90, "80–89分"),
    (90, 100.0001, "90分及以上"),
)


def percent(numerator: int, denominator: int) -> float | None:
    """numerator / denominator as a percentage, half up to one decimal; None when nothing to divide."""
    if denominator <= 0:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def round2(value: float | None) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def percent_text(value: float | None) -> str:
    """「87.5%」, or 「—」 for a rate with nothing to count."""
    return "—" if value is None else f"{value:.1f}%"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- coverage ---------------------------------------------------------------------------------


class CoverageRow(_Out):
    key: str
    """District slug or team id."""
    name: str
    """District name (慈溪市) or team name."""
    drawn: int
    visited: int
    sheets: dict[str, int]
    """Sheets by state (every state present, 0 when none)."""
    coverage_rate: float | None
    """visited / drawn, in percent."""


class Coverage(_Out):
    drawn: int
    visited: int
    coverage_rate: float | None
    sheets: dict[str, int]
    by_district: list[CoverageRow]
    by_team: list[CoverageRow]


def _sheet_states(sheets: Iterable[SheetFact]) -> dict[str, int]:
    counts = Counter(s.status for s in sheets)
    return {state: counts.get(state, 0) for state in SHEET_STATES}


def coverage(facts: RoundFacts) -> Coverage:
    sheet_by_site = {s.site.code: s for s in facts.sheets}
    visited_sites = {code for code, s in sheet_by_site.items() if s.status in VISITED_STATES}

    def row(key: str, name: str, sites: list[str], sheets: list[SheetFact]) -> CoverageRow:
        visited = sum(1 for c in sites if c in visited_sites)
        return CoverageRow(
            key=key,
            name=name,
            drawn=len(sites),
            visited=visited,
            sheets=_sheet_states(sheets),
            coverage_rate=percent(visited, len(sites)),
        )

    by_district: dict[str, list[str]] = defaultdict(list)
    by_team: dict[str, list[str]] = defaultdict(list)
    team_names: dict[str, str] = {}
    for v in facts.visits:
        by_district[v.site.district].append(v.site.code)
        team = v.team_id or "-"
        by_team[team].append(v.site.code)
        team_names[team] = v.team_name or ("未分组" if team == "-" else f"第{team}组")
    sheets_by_district: dict[str, list[SheetFact]] = defaultdict(list)
    sheets_by_team: dict[str, list[SheetFact]] = defaultdict(list)
    for s in facts.sheets:
        sheets_by_district[s.site.district].append(s)
        sheets_by_team[s.team_id or "-"].append(s)
        if s.team_id and s.team_id not in team_names:
            team_names[s.team_id] = s.team_name or f"第{s.team_id}组"
    drawn = len(facts.visits)
    visited = sum(1 for v in facts.visits if v.site.code in visited_sites)
    return Coverage(
        drawn=drawn,
        visited=visited,
        coverage_rate=percent(visited, drawn),
        sheets=_sheet_states(facts.sheets),
        by_district=[
            row(d, facts.district_name(d), by_district.get(d, []), sheets_by_district.get(d, []))
            for d in sorted(set(by_district) | set(sheets_by_district))
        ],
        by_team=[
            row(t, team_names.get(t, t), by_team.get(t, []), sheets_by_team.get(t, []))
            for t in sorted(set(by_team) | set(sheets_by_team), key=_natural)
        ],
    )


def _natural(key: str) -> tuple[int, int, str]:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


# --- scores -----------------------------------------------------------------------------------


class Band(_Out):
    label: str
    low: float
    high: float
    count: int


class ScoreDistribution(_Out):
    locked: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    bands: list[Band]
    grades: dict[str, int]
    """好 / 较好 / 一般 / 差 → locked sheets of that grade (every grade present)."""
    grade_rates: dict[str, float | None]
    vetoed: int
    """Locked sheets with a vetoed item (一票否决)."""


def locked_sheets(facts: RoundFacts) -> list[SheetFact]:
    return [s for s in facts.sheets if s.status == "locked" and s.score is not None]


def score_distribution(facts: RoundFacts) -> ScoreDistribution:
    locked = locked_sheets(facts)
    scores = sorted(float(s.score) for s in locked if s.score is not None)
    n = len(scores)
    median: float | None = None
    if n:
        mid = n // 2
        median = scores[mid] if n % 2 else (scores[mid - 1] + scores[mid]) / 2
    grades = Counter(s.grade for s in locked)
    return ScoreDistribution(
        locked=n,
        mean=round2(sum(scores) / n) if n else None,
        median=round2(median),
        min=round2(scores[0]) if n else None,
        max=round2(scores[-1]) if n else None,
        bands=[
            Band(label=label, low=lo, high=min(hi, 100.0), count=sum(1 for x in scores if lo <= x < hi))
            for lo, hi, label in SCORE_BANDS
        ],
        grades={g: grades.get(g, 0) for g in GRADES},
        grade_rates={g: percent(grades.get(g, 0), n) for g in GRADES},
        vetoed=sum(1 for s in locked if s.veto_items),
    )


# --- rankings ---------------------------------------------------------------------------------


class DistrictRank(_Out):
    rank: int | None
    district: str
    name: str
    composite: float | None
    grade: str | None
    grassroots_count: int
    previous_rank: int | None
    previous_composite: float | None
    rank_change: int | None
    """Places gained since the previous round (positive: moved up); None when either is unranked."""
    composite_change: float | None


def district_ranking(facts: RoundFacts, previous: RoundFacts | None = None) -> list[DistrictRank]:
    """The published ranking (empty until results are published), with its change against `previous`."""
    if facts.results is None:
        return []
    before = {r.district: r for r in (previous.results.districts if previous and previous.results else [])}
    rows = []
    for r in sorted(facts.results.districts, key=lambda r: (r.rank is None, r.rank or 0, r.district)):
        p = before.get(r.district)
        rows.append(
            DistrictRank(
                rank=r.rank,
                district=r.district,
                name=facts.district_name(r.district),
                composite=r.composite,
                grade=r.grade,
                grassroots_count=r.grassroots_count,
                previous_rank=p.rank if p else None,
                previous_composite=p.composite if p else None,
                rank_change=(p.rank - r.rank) if p and p.rank is not None and r.rank is not None else None,
                composite_change=(
                    round2(r.composite - p.composite)
                    if p and p.composite is not None and r.composite is not None
                    else None
                ),
            )
        )
    return rows


class UnitRank(_Out):
    rank: int
    site_code: str
    site_name: str
    district: str
    district_name: str
    score: float
    grade: str | None


class TypeRanking(_Out):
    site_type: str
    label: str
    """村, 社区, 非公企业 …"""
    units: list[UnitRank]


def unit_rankings(facts: RoundFacts) -> list[TypeRanking]:
    """Locked grassroots sites ranked by score within their type (ties share a rank, 1224 style)."""
    by_type: dict[str, list[SheetFact]] = defaultdict(list)
    for s in locked_sheets(facts):
        if s.site.type in ("district", "zone"):
            continue
        by_type[s.site.type or "other"].append(s)
    out = []
    for t in sorted(by_type, key=lambda t: list(SITE_TYPE_LABELS).index(t) if t in SITE_TYPE_LABELS else 99):
        ranked = sorted(by_type[t], key=lambda s: (-(s.score or 0), s.site.code))
        units: list[UnitRank] = []
        for i, s in enumerate(ranked):
            rank = units[-1].rank if units and units[-1].score == s.score else i + 1
            units.append(
                UnitRank(
                    rank=rank,
                    site_code=s.site.code,
                    site_name=s.site.name,
                    district=s.site.district,
                    district_name=facts.district_name(s.site.district),
                    score=float(s.score or 0),
                    grade=s.grade,
                )
            )
        out.append(TypeRanking(site_type=t, label=SITE_TYPE_LABELS.get(t, t), units=units))
    return out


# --- common problems --------------------------------------------------------------------------


class Example(_Out):
    site_name: str
    district_name: str
    reason: str


class CommonProblem(_Out):
    item_code: str
    item_title: str
    sheets: int
    """Locked sheets with a deduction on this item."""
    share: float | None
    """sheets / locked sheets, in percent."""
    points: float
    """Points deducted on this item, all sheets together."""
    examples: list[Example]


def common_problems(facts: RoundFacts, *, top: int = 10, examples: int = 3) -> list[CommonProblem]:
    """The items most often deducted on locked sheets, most frequent first (then most points)."""
    locked = locked_sheets(facts)
    sheets: Counter[str] = Counter()
    points: dict[str, float] = defaultdict(float)
    titles: dict[str, str] = {}
    seen: dict[str, list[Example]] = defaultdict(list)
    for s in sorted(locked, key=lambda s: s.site.code):
        items = set()
        for d in s.deductions:
            items.add(d.item_code)
            points[d.item_code] += d.points
            titles.setdefault(d.item_code, d.item_title)
            if len(seen[d.item_code]) < examples and all(
                e.site_name != s.site.name for e in seen[d.item_code]
            ):
                seen[d.item_code].append(
                    Example(
                        site_name=s.site.name,
                        district_name=facts.district_name(s.site.district),
                        reason=d.reason,
                    )
                )
        sheets.update(items)
    ranked = sorted(sheets, key=lambda c: (-sheets[c], -points[c], c))[:top]
    return [
        CommonProblem(
            item_code=c,
            item_title=titles[c],
            sheets=sheets[c],
            share=percent(sheets[c], len(locked)),
            points=round2(points[c]) or 0.0,
            examples=seen[c],
        )
        for c in ranked
    ]


# --- rectification ----------------------------------------------------------------------------


def light(p: ProblemFact, now: datetime, *, yellow_days: int = 7, red_days: int = 3) -> str | None:
    """The problem's light at `now` (None once closed, withdrawn or merged)."""
    if p.status == "closed" or p.status in VOID_STATES:
        return None
    if p.deadline_at <= now:
        return "overdue"
    left = p.deadline_at - now
    if left <= timedelta(days=red_days):
        return "red"
    if left <= timedelta(days=yellow_days):
        return "yellow"
    return "green"


def is_overdue(p: ProblemFact, now: datetime) -> bool:
    return p.status not in VOID_STATES and p.status != "closed" and p.deadline_at <= now


class RectificationRow(_Out):
    key: str
    name: str
    total: int
    closed: int
    closed_on_time: int
    overdue: int
    rate: float | None
    """整改率, percent."""
    on_time_rate: float | None
    """按期整改率, percent."""


class Rectification(_Out):
    total: int
    """Problems counted (withdrawn and merged ones are not)."""
    by_state: dict[str, int]
    by_light: dict[str, int]
    by_severity: dict[str, int]
    closed: int
    closed_on_time: int
    due: int
    """Problems closed or past their deadline: the denominator of 按期整改率."""
    overdue: int
    rate: float | None
    on_time_rate: float | None
    by_district: list[RectificationRow]
    by_unit: list[RectificationRow]
    """Responsible units, most overdue first."""


def counted_problems(problems: Iterable[ProblemFact]) -> list[ProblemFact]:
    return [p for p in problems if p.status not in VOID_STATES]


def _rect_row(key: str, name: str, problems: list[ProblemFact], now: datetime) -> RectificationRow:
    closed = [p for p in problems if p.status == "closed"]
    on_time = sum(1 for p in closed if p.closed_on_time)
    due = len(closed) + sum(1 for p in problems if p.status != "closed" and p.deadline_at <= now)
    return RectificationRow(
        key=key,
        name=name,
        total=len(problems),
        closed=len(closed),
        closed_on_time=on_time,
        overdue=sum(1 for p in problems if is_overdue(p, now)),
        rate=percent(len(closed), len(problems)),
        on_time_rate=percent(on_time, due),
    )


def rectification(
    facts: RoundFacts, now: datetime, *, yellow_days: int = 7, red_days: int = 3
) -> Rectification:
    problems = counted_problems(facts.problems)
    states = Counter(p.status for p in problems)
    lights = Counter(light(p, now, yellow_days=yellow_days, red_days=red_days) for p in problems)
    severities = Counter(p.severity for p in problems)
    whole = _rect_row("", "", problems, now)
    by_district: dict[str, list[ProblemFact]] = defaultdict(list)
    by_unit: dict[str, list[ProblemFact]] = defaultdict(list)
    for p in problems:
        by_district[p.site.district].append(p)
        by_unit[p.responsible_unit].append(p)
    units = [_rect_row(u, facts.unit_name(u), ps, now) for u, ps in by_unit.items()]
    return Rectification(
        total=whole.total,
        by_state={s: states.get(s, 0) for s in PROBLEM_STATES},
        by_light={lt: lights.get(lt, 0) for lt in LIGHTS},
        by_severity={s: severities.get(s, 0) for s in SEVERITY_LABELS},
        closed=whole.closed,
        closed_on_time=whole.closed_on_time,
        due=whole.closed + sum(1 for p in problems if p.status != "closed" and p.deadline_at <= now),
        overdue=whole.overdue,
        rate=whole.rate,
        on_time_rate=whole.on_time_rate,
        by_district=[_rect_row(d, facts.district_name(d), by_district[d], now) for d in sorted(by_district)],
        by_unit=sorted(units, key=lambda r: (-r.overdue, -r.total, r.key)),
    )


def overdue_problems(facts: RoundFacts, now: datetime) -> list[ProblemFact]:
    """Problems overdue at `now`, longest overdue first (the units the bulletin names)."""
    return sorted(
        (p for p in facts.problems if is_overdue(p, now)), key=lambda p: (p.deadline_at, p.problem_id)
    )


# --- a district's view ------------------------------------------------------------------------


def for_district(facts: RoundFacts, district: str) -> RoundFacts:
    """The same round seen by one district's admin: its own visits, sheets and problems only.

    The published ranking stays whole (a district sees where it stands among the others, as the
    published bulletin shows it); everything per site is cut to the district.
    """
    return facts.model_copy(
        update={
            "visits": [v for v in facts.visits if v.site.district == district],
            "sheets": [s for s in facts.sheets if s.site.district == district],
            "problems": [p for p in facts.problems if p.site.district == district],
        }
    )


class Practice(_Out):
    site_name: str
    district_name: str
    site_type_label: str
    score: float
    grade: str | None


def good_practices(facts: RoundFacts, *, top: int = 5) -> list[Practice]:
    """Typical good practices to cite: the best-scoring locked grassroots sites without a veto, best first."""
    candidates = [
        s for s in locked_sheets(facts) if not s.veto_items and s.site.type not in ("district", "zone")
    ]
    best = sorted(candidates, key=lambda s: (-(s.score or 0), len(s.deductions), s.site.code))[:top]
    return [
        Practice(
            site_name=s.site.name,
            district_name=facts.district_name(s.site.district),
            site_type_label=SITE_TYPE_LABELS.get(s.site.type or "", s.site.type or ""),
            score=float(s.score or 0),
            grade=s.grade,
        )
        for s in best
    ]
