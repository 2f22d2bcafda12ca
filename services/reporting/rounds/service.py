"""A round's dashboard and charts, computed from its facts by services.reporting.stats alone, and
kept per (round, district scope) until an event of the round (or of the round before it) arrives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.pagination import PageParams
from services.reporting import facts as facts_
from services.reporting import stats
from services.reporting.config import Settings
from services.reporting.deps import CachedDashboard, DashboardCache
from services.reporting.errors import ChartNotFound
from services.reporting.facts import RoundFacts
from services.reporting.models import Round
from services.reporting.render.model import Chart, Series
from services.reporting.rounds import repository
from services.reporting.rounds.schemas import (
    CommonProblem,
    Dashboard,
    District,
    DistrictRank,
    Practice,
    PreviousRound,
    Rectification,
    ResultsInfo,
    RoundCoverage,
    RoundList,
    RoundSummary,
    ScoreDistribution,
)

CHARTS: tuple[str, ...] = ("coverage", "grades", "ranking", "rectification")
# Colours that mean something: done green, in progress blue, overdue red, not yet grey.
GREEN, BLUE, RED, GREY = "#548235", "#2F5597", "#C00000", "#A5A5A5"


def _summary(r: Round, published: bool) -> RoundSummary:
    return RoundSummary(
        code=r.code,
        name=r.name,
        year=r.year,
        quarter=r.quarter,
        drawn_at=r.drawn_at,
        drawn=r.revision is not None,
        published=published,
        as_of=r.as_of,
    )


async def list_rounds(session: AsyncSession, page: PageParams) -> RoundList:
    rounds = await facts_.all_rounds(session)
    published = await repository.published_rounds(session)
    stamps = [r.as_of for r in rounds if r.as_of is not None]
    shown = rounds[page.offset : page.offset + page.limit]
    return RoundList(
        items=[_summary(r, r.code in published) for r in shown],
        total=len(rounds),
        limit=page.limit,
        offset=page.offset,
        as_of=max(stamps, default=None),
    )


M = TypeVar("M", bound=BaseModel)


def _as(model: type[M], figure: BaseModel) -> M:
    """A figure of stats as the API's model of it (the same fields, described for the API)."""
    return model.model_validate(figure.model_dump())


def build_dashboard(
    facts: RoundFacts,
    *,
    previous: RoundFacts | None,
    district: str | None,
    now: datetime,
    settings: Settings,
    drawn: bool,
) -> Dashboard:
    """The dashboard of `facts` (already cut to `district` when given), every figure from stats."""
    results = facts.results
    return Dashboard(
        round=_summary_of(facts, drawn=drawn),
        district=District(code=district, name=facts.district_name(district)) if district else None,
        districts=[District(code=c, name=n) for c, n in sorted(facts.district_names.items())],
        previous_round=PreviousRound(code=previous.code, name=previous.name) if previous else None,
        results=ResultsInfo(
            version=results.version,
            published_at=results.published_at,
            complete=results.complete,
            content_sha256=results.content_sha256,
        )
        if results
        else None,
        coverage=_as(RoundCoverage, stats.coverage(facts)),
        scores=_as(ScoreDistribution, stats.score_distribution(facts)),
        ranking=[_as(DistrictRank, r) for r in stats.district_ranking(facts, previous)],
        common_problems=[
            _as(CommonProblem, c)
            for c in stats.common_problems(
                facts, top=settings.common_problems_top, examples=settings.common_problems_examples
            )
        ],
        rectification=_as(
            Rectification,
            stats.rectification(
                facts, now, yellow_days=settings.light_yellow_days, red_days=settings.light_red_days
            ),
        ),
        good_practices=[_as(Practice, p) for p in stats.good_practices(facts)],
        as_of=facts.as_of,
        generated_at=now,
    )


def _summary_of(facts: RoundFacts, *, drawn: bool) -> RoundSummary:
    return RoundSummary(
        code=facts.code,
        name=facts.name,
        year=facts.year,
        quarter=facts.quarter,
        drawn_at=facts.drawn_at,
        drawn=drawn,
        published=facts.results is not None,
        as_of=facts.as_of,
    )


async def dashboard_json(
    session: AsyncSession,
    code: str,
    *,
    district: str | None,
    now: datetime,
    settings: Settings,
    cache: DashboardCache,
) -> bytes:
    """The dashboard as JSON, from the cache while no event of the round arrived since (404 unknown)."""
    current = await facts_.round_row(session, code)
    previous = await facts_.previous_round(session, code)
    token: tuple[object, ...] = (
        current.last_seq,
        previous.code if previous else None,
        previous.last_seq if previous else 0,
    )
    key = (code, district)
    max_age = timedelta(seconds=settings.dashboard_max_age_seconds)
    hit = cache.get(key)
    if hit is not None and hit.token == token and now - hit.computed_at <= max_age:
        return hit.body
    async with cache.lock(key):
        hit = cache.get(key)
        if hit is not None and hit.token == token and now - hit.computed_at <= max_age:
            return hit.body
        board = await compute_dashboard(session, code, district=district, now=now, settings=settings)
        body = orjson.dumps(board.model_dump(mode="json"))
        cache.put(key, CachedDashboard(token=token, computed_at=now, body=body))
        return body


async def compute_dashboard(
    session: AsyncSession, code: str, *, district: str | None, now: datetime, settings: Settings
) -> Dashboard:
    current = await facts_.round_row(session, code)
    facts = await facts_.load_round_facts(session, code)
    before = await facts_.previous_round(session, code)
    previous = await facts_.load_round_results(session, before.code) if before else None
    if district is not None:
        facts = stats.for_district(facts, district)
    return build_dashboard(
        facts,
        previous=previous,
        district=district,
        now=now,
        settings=settings,
        drawn=current.revision is not None,
    )


def chart(name: str, board: Dashboard) -> Chart:
    """One of the dashboard's charts, in Chinese, from the dashboard's own figures (404 unknown name)."""
    where = f"（{board.district.name}）" if board.district else ""
    title = f"{board.round.name}{where}"
    if name == "coverage":
        rows = board.coverage.by_district
        return Chart(
            kind="stacked_bar",
            title=f"{title} 走访覆盖情况",
            categories=[r.name for r in rows],
            series=[
                Series(name="已走访", values=[float(r.visited) for r in rows], color=BLUE),
                Series(name="未走访", values=[float(r.drawn - r.visited) for r in rows], color=GREY),
            ],
            unit="个",
        )
    if name == "grades":
        grades = board.scores.grades
        return Chart(
            kind="donut",
            title=f"{title} 等次分布",
            categories=[f"{g}" for g in stats.GRADES],
            series=[Series(name="评分表", values=[float(grades.get(g, 0)) for g in stats.GRADES])],
            unit="个",
        )
    if name == "ranking":
        ranked = [r for r in board.ranking if r.composite is not None]
        return Chart(
            kind="barh",
            title=f"{board.round.name} 区县（市）综合得分排名",
            categories=[f"{r.rank or '—'} {r.name}" for r in ranked],
            series=[Series(name="综合得分", values=[float(r.composite or 0) for r in ranked])],
            unit="分",
        )
    if name == "rectification":
        rect = board.rectification.by_district
        return Chart(
            kind="stacked_barh",
            title=f"{title} 问题整改进度",
            categories=[r.name for r in rect],
            series=[
                Series(name="已销号", values=[float(r.closed) for r in rect], color=GREEN),
                Series(
                    name="整改中", values=[float(r.total - r.closed - r.overdue) for r in rect], color=BLUE
                ),
                Series(name="逾期", values=[float(r.overdue) for r in rect], color=RED),
            ],
            unit="个",
        )
    raise ChartNotFound(
        f"No chart {name!r}; the charts are {', '.join(CHARTS)}",
        zh=f"没有图表 {name!r}；可用的图表为 {'、'.join(CHARTS)}",
        charts=list(CHARTS),
    )
