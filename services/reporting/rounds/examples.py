"""The examples the OpenAPI document shows: a small round's dashboard, computed by stats itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting import stats
from services.reporting.facts import (
    DeductionFact,
    ProblemFact,
    RankingRow,
    ResultsFact,
    RoundFacts,
    SheetFact,
    SiteFact,
    VisitFact,
)

_NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
_NAMES = {"yinzhou": "鄞州区", "cixi": "慈溪市"}


def _site(code: str, name: str, district: str) -> SiteFact:
    return SiteFact(
        code=code, name=name, type="village", org_unit=f"ningbo/{district}/t/{code}", district=district
    )


def _facts() -> tuple[RoundFacts, RoundFacts]:
    a = _site("330212001001", "东吴镇天童村", "yinzhou")
    b = _site("330282101002", "观海卫镇鸣鹤村", "cixi")
    deduction = DeductionFact(
        item_code="B03",
        item_title="三会一课",
        section_code="B",
        points=2.0,
        reason="近三个月缺少支部委员会记录",
    )
    sheets = [
        SheetFact(
            sheet_id="s1",
            site=a,
            team_id="3",
            team_name="第三组",
            status="locked",
            score=92.5,
            grade="好",
            deductions=[deduction],
            locked_at=_NOW - timedelta(days=20),
        ),
        SheetFact(
            sheet_id="s2",
            site=b,
            team_id="1",
            team_name="第一组",
            status="locked",
            score=84.0,
            grade="较好",
            deductions=[deduction.model_copy(update={"reason": "记录不全"})],
            locked_at=_NOW - timedelta(days=20),
        ),
    ]
    problems = [
        ProblemFact(
            problem_id=101,
            site=a,
            responsible_unit=a.org_unit,
            responsible_person=None,
            item_code="B03",
            item_title="三会一课",
            category="组织生活",
            severity="general",
            level="village_community",
            title="三会一课记录不全",
            description="近三个月缺少支部委员会记录",
            status="closed",
            created_at=_NOW - timedelta(days=19),
            deadline_at=_NOW + timedelta(days=10),
            closed_at=_NOW - timedelta(days=2),
            closed_on_time=True,
        ),
        ProblemFact(
            problem_id=102,
            site=b,
            responsible_unit=b.org_unit,
            responsible_person=None,
            item_code="B03",
            item_title="三会一课",
            category="组织生活",
            severity="serious",
            level="village_community",
            title="三会一课记录不全",
            description="记录不全",
            status="in_progress",
            created_at=_NOW - timedelta(days=19),
            deadline_at=_NOW - timedelta(days=1),
        ),
    ]
    ranking = [
        RankingRow(rank=1, district="yinzhou", composite=92.5, grade="好", grassroots_count=1),
        RankingRow(rank=2, district="cixi", composite=84.0, grade="较好", grassroots_count=1),
    ]
    facts = RoundFacts(
        code="2026Q1",
        name="2026年第1季度基层党建专项督查",
        year=2026,
        quarter=1,
        drawn_at=_NOW - timedelta(days=30),
        as_of=_NOW - timedelta(hours=1),
        district_names=_NAMES,
        visits=[
            VisitFact(site=a, team_id="3", team_name="第三组"),
            VisitFact(site=b, team_id="1", team_name="第一组"),
        ],
        sheets=sheets,
        problems=problems,
        results=ResultsFact(
            version=1,
            published_at=_NOW - timedelta(days=15),
            content_sha256="b" * 64,
            complete=True,
            districts=ranking,
        ),
    )
    previous = RoundFacts(
        code="2025Q4",
        name="2025年第4季度基层党建专项督查",
        year=2025,
        quarter=4,
        drawn_at=None,
        as_of=None,
        district_names=_NAMES,
        results=ResultsFact(
            version=1,
            published_at=_NOW - timedelta(days=100),
            content_sha256="a" * 64,
            complete=True,
            districts=[r.model_copy(update={"rank": 3 - (r.rank or 0)}) for r in ranking],
        ),
    )
    return facts, previous


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value.model_dump(mode="json")


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


_WHOLE, _PREVIOUS = _facts()
# The example is a district admin's view (a null `district`, the whole city, is dropped from examples).
_FACTS = stats.for_district(_WHOLE, "yinzhou")
ROUND_EXAMPLE: dict[str, Any] = {
    "code": _FACTS.code,
    "name": _FACTS.name,
    "year": _FACTS.year,
    "quarter": _FACTS.quarter,
    "drawn_at": _iso(_FACTS.drawn_at),
    "drawn": True,
    "published": True,
    "as_of": _iso(_FACTS.as_of),
}
DASHBOARD_EXAMPLE: dict[str, Any] = {
    "round": ROUND_EXAMPLE,
    "district": {"code": "yinzhou", "name": "鄞州区"},
    "districts": [{"code": c, "name": n} for c, n in sorted(_NAMES.items())],
    "previous_round": {"code": _PREVIOUS.code, "name": _PREVIOUS.name},
    "results": {
        "version": 1,
        "published_at": _iso(_FACTS.results.published_at) if _FACTS.results else None,
        "complete": True,
        "content_sha256": "b" * 64,
    },
    "coverage": _dump(stats.coverage(_FACTS)),
    "scores": _dump(stats.score_distribution(_FACTS)),
    "ranking": _dump(stats.district_ranking(_FACTS, _PREVIOUS)),
    "common_problems": _dump(stats.common_problems(_FACTS)),
    "rectification": _dump(stats.rectification(_FACTS, _NOW)),
    "good_practices": _dump(stats.good_practices(_FACTS)),
    "as_of": _iso(_FACTS.as_of),
    "generated_at": _iso(_NOW),
}
