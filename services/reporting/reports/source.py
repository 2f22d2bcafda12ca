"""What the documents read of the read model: a round's facts, the round before it, a year's rounds.

The documents never query the read tables themselves: these three functions are the whole of it, so
they read the same facts the dashboard reads (`RoundFacts`, turned into figures by `stats` alone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.reporting.errors import RoundNotFound, RoundNotPublished
from services.reporting.facts import (
    DeductionFact,
    PersonFact,
    ProblemFact,
    RankingRow,
    ResultsFact,
    RoundFacts,
    SheetFact,
    SiteFact,
    VisitFact,
)
from services.reporting.models import Problem, ResultsVersion, Round, Sheet, Visit

_EPOCH = datetime.min.replace(tzinfo=UTC)


def _site(row: Any) -> SiteFact:
    return SiteFact(
        code=row.site_code,
        name=row.site_name,
        type=row.site_type,
        org_unit=row.org_unit,
        district=row.district,
    )


async def round_header(session: AsyncSession, code: str) -> Round:
    """The round's row (name, year, quarter), 404 when unknown."""
    return await _round(session, code)


async def _round(session: AsyncSession, code: str) -> Round:
    r = await session.get(Round, code)
    if r is None:
        raise RoundNotFound(f"Round {code!r} not found", round_code=code)
    return r


async def _results(session: AsyncSession, code: str) -> ResultsFact | None:
    row = (
        await session.execute(
            select(ResultsVersion)
            .where(col(ResultsVersion.round_code) == code)
            .order_by(col(ResultsVersion.version).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    return ResultsFact(
        version=row.version,
        published_at=row.published_at,
        content_sha256=row.content_sha256,
        complete=row.complete,
        districts=[RankingRow.model_validate(d) for d in row.districts],
    )


async def load_round_facts(session: AsyncSession, code: str) -> RoundFacts:
    """Everything the read model knows of round `code` (404 problem when it is unknown)."""
    r = await _round(session, code)
    visits = (await session.execute(select(Visit).where(col(Visit.round_code) == code))).scalars().all()
    sheets = (await session.execute(select(Sheet).where(col(Sheet.round_code) == code))).scalars().all()
    problems = (await session.execute(select(Problem).where(col(Problem.round_code) == code))).scalars().all()
    unit_names = {v.org_unit: v.site_name for v in visits}
    return RoundFacts(
        code=r.code,
        name=r.name,
        year=r.year,
        quarter=r.quarter,
        drawn_at=r.drawn_at,
        as_of=r.as_of,
        district_names=dict(r.district_names or {}),
        unit_names=unit_names,
        visits=[
            VisitFact(
                site=_site(v),
                team_id=v.team_id,
                team_name=v.team_name,
                visit_on=v.visit_on,
                follow_up=v.follow_up,
            )
            for v in sorted(visits, key=lambda v: v.site_code)
        ],
        sheets=[
            SheetFact(
                sheet_id=s.sheet_id,
                site=_site(s),
                team_id=s.team_id,
                team_name=s.team_name,
                status=s.status,
                score=s.score,
                grade=s.grade,
                veto_items=list(s.veto_items or []),
                deductions=[DeductionFact.model_validate(d) for d in s.deductions or []],
                locked_at=s.locked_at,
            )
            for s in sorted(sheets, key=lambda s: s.sheet_id)
        ],
        problems=[
            ProblemFact(
                problem_id=p.problem_id,
                site=_site(p),
                responsible_unit=p.responsible_unit,
                responsible_person=PersonFact.model_validate(p.responsible_person)
                if p.responsible_person
                else None,
                item_code=p.item_code,
                item_title=p.item_title,
                category=p.category,
                severity=p.severity,
                level=p.level,
                title=p.title,
                description=p.description,
                status=p.status,
                created_at=p.created_at,
                deadline_at=p.deadline_at,
                closed_at=p.closed_at,
                closed_on_time=p.closed_on_time,
                extensions=p.extensions,
            )
            for p in sorted(problems, key=lambda p: p.problem_id)
        ],
        results=await _results(session, code),
    )


async def published_round_facts(session: AsyncSession, code: str) -> RoundFacts:
    """The round's facts; 404 when unknown, 409 until its results are published."""
    facts = await load_round_facts(session, code)
    if facts.results is None:
        raise RoundNotPublished(
            f"Round {code!r} has no published results yet: its documents come after publication",
            round_code=code,
        )
    return facts


def _order(r: Round) -> tuple[int, int, datetime, str]:
    return (r.year or 0, r.quarter or 0, r.drawn_at or _EPOCH, r.code)


async def previous_round_facts(session: AsyncSession, code: str) -> RoundFacts | None:
    """The round before `code` (by year and quarter, else by draw time) with its results; None if first."""
    current = await _round(session, code)
    others = [r for r in (await session.execute(select(Round))).scalars().all() if r.code != code]
    before: list[Round] = []
    if current.year is not None and current.quarter is not None:
        before = [
            r
            for r in others
            if r.year is not None
            and r.quarter is not None
            and (r.year, r.quarter) < (current.year, current.quarter)
        ]
    if not before and current.drawn_at is not None:
        before = [r for r in others if r.drawn_at is not None and r.drawn_at < current.drawn_at]
    if not before:
        return None
    prev = max(before, key=_order)
    return RoundFacts(
        code=prev.code,
        name=prev.name,
        year=prev.year,
        quarter=prev.quarter,
        drawn_at=prev.drawn_at,
        as_of=prev.as_of,
        district_names=dict(prev.district_names or {}),
        results=await _results(session, prev.code),
    )


async def rounds_of_year(session: AsyncSession, year: int) -> list[str]:
    """The codes of `year`'s rounds, in quarter order."""
    rows = (await session.execute(select(Round).where(col(Round.year) == year))).scalars().all()
    return [r.code for r in sorted(rows, key=_order)]
