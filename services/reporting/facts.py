"""What the read model knows of a round, as plain data: the one interface between the projection
(which fills it from events) and everything that reads it (the dashboard, the charts, the documents).

Every figure the service shows is computed from these facts by :mod:`services.reporting.stats`, so
the dashboard, the 专报 and the bulletin never disagree about a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.reporting.errors import RoundNotFound
from services.reporting.models import Problem, ResultsVersion, Round, Sheet, Visit


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True)


class SiteFact(_Fact):
    code: str
    name: str
    type: str | None
    """village, community, town, street, enterprise, social_org, institution, district, zone …"""
    org_unit: str
    district: str


class VisitFact(_Fact):
    """A site drawn for the round (from sampling.round.drawn)."""

    site: SiteFact
    team_id: str | None = None
    team_name: str | None = None
    visit_on: date | None = None
    follow_up: bool = False


class DeductionFact(_Fact):
    item_code: str
    item_title: str
    section_code: str
    points: float
    reason: str


class SheetFact(_Fact):
    """A score sheet's latest state (from scoring.sheet.changed)."""

    sheet_id: str
    site: SiteFact
    team_id: str | None
    team_name: str | None
    status: str
    """draft | submitted | reviewed | returned | locked"""
    score: float | None
    grade: str | None
    """好 | 较好 | 一般 | 差 (None until scored)"""
    veto_items: list[str] = Field(default_factory=list)
    deductions: list[DeductionFact] = Field(default_factory=list)
    locked_at: datetime | None = None


class RankingRow(_Fact):
    """One district's row of the published results (from scoring.results.recorded)."""

    rank: int | None
    district: str
    composite: float | None
    grade: str | None
    section_a: float | None = None
    grassroots_mean: float | None = None
    grassroots_count: int = 0
    complete: bool | None = None


class ResultsFact(_Fact):
    version: int
    published_at: datetime
    content_sha256: str
    complete: bool
    districts: list[RankingRow]


class PersonFact(_Fact):
    user_id: str
    name: str | None


class ProblemFact(_Fact):
    """A problem's latest state (from rectification.problem.changed)."""

    problem_id: int
    site: SiteFact
    responsible_unit: str
    responsible_person: PersonFact | None
    item_code: str | None
    item_title: str | None
    category: str
    severity: str
    """general | serious | severe"""
    level: str
    title: str
    description: str
    status: str
    """open | in_progress | submitted | returned | closed | withdrawn | merged"""
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None = None
    closed_on_time: bool | None = None
    extensions: int = 0


class RoundFacts(_Fact):
    """Everything reporting knows of one round, as of `as_of` (the newest event it has applied)."""

    code: str
    name: str
    year: int | None
    quarter: int | None
    drawn_at: datetime | None
    as_of: datetime | None
    """When the newest event this answer includes happened (None: nothing received yet)."""
    district_names: dict[str, str] = Field(default_factory=dict)
    """Slug → Chinese name (慈溪市 for cixi), from the draw."""
    unit_names: dict[str, str] = Field(default_factory=dict)
    """Org unit path → name, for responsible units (from the drawn sites)."""
    visits: list[VisitFact] = Field(default_factory=list)
    sheets: list[SheetFact] = Field(default_factory=list)
    problems: list[ProblemFact] = Field(default_factory=list)
    results: ResultsFact | None = None
    """The newest published version (None: not published)."""

    def district_name(self, slug: str) -> str:
        return self.district_names.get(slug, slug)

    def unit_name(self, unit: str) -> str:
        return self.unit_names.get(unit, unit.rsplit("/", 1)[-1])


# --- loading facts from the read model --------------------------------------------------------
# Below the facts themselves: how the read model fills them. The rows were validated as events when
# they arrived, so the facts are built without validation (:func:`_built`), each site once: a round
# of 30,000 rows loads in about a second.

M = TypeVar("M", bound=BaseModel)


def _built(cls: type[M], values: dict[str, Any]) -> M:
    """A model from values it is known to accept, every field given (what model_construct does,
    without its per-field bookkeeping, which costs more than the rest of the load)."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class _Loader:
    """Builds the facts of one round's rows, sharing one SiteFact per site."""

    def __init__(self) -> None:
        self.sites: dict[tuple[Any, ...], SiteFact] = {}

    def site(self, row: Mapping[str, Any]) -> SiteFact:
        key = (row["site_code"], row["site_name"], row["site_type"], row["org_unit"], row["district"])
        found = self.sites.get(key)
        if found is None:
            found = self.sites[key] = _built(
                SiteFact,
                {"code": key[0], "name": key[1], "type": key[2], "org_unit": key[3], "district": key[4]},
            )
        return found

    def sheet(self, row: Mapping[str, Any]) -> SheetFact:
        return _built(
            SheetFact,
            {
                "sheet_id": row["sheet_id"],
                "site": self.site(row),
                "team_id": row["team_id"],
                "team_name": row["team_name"],
                "status": row["status"],
                "score": row["score"],
                "grade": row["grade"],
                "veto_items": list(_json(row["veto_items"]) or []),
                "deductions": [_built(DeductionFact, dict(d)) for d in _json(row["deductions"]) or []],
                "locked_at": row["locked_at"],
            },
        )

    def problem(self, row: Mapping[str, Any]) -> ProblemFact:
        person = _json(row["responsible_person"])
        return _built(
            ProblemFact,
            {
                "problem_id": row["problem_id"],
                "site": self.site(row),
                "responsible_unit": row["responsible_unit"],
                "responsible_person": _built(
                    PersonFact, {"user_id": person["user_id"], "name": person.get("name")}
                )
                if person
                else None,
                "item_code": row["item_code"],
                "item_title": row["item_title"],
                "category": row["category"],
                "severity": row["severity"],
                "level": row["level"],
                "title": row["title"],
                "description": row["description"],
                "status": row["status"],
                "created_at": row["created_at"],
                "deadline_at": row["deadline_at"],
                "closed_at": row["closed_at"],
                "closed_on_time": row["closed_on_time"],
                "extensions": row["extensions"],
            },
        )

    def visit(self, row: Mapping[str, Any]) -> VisitFact:
        return _built(
            VisitFact,
            {
                "site": self.site(row),
                "team_id": row["team_id"],
                "team_name": row["team_name"],
                "visit_on": row["visit_on"],
                "follow_up": row["follow_up"],
            },
        )


def _json(value: Any) -> Any:
    """A JSON column read as text (see :func:`_select`): parsed by orjson."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _select(model: Any, code: str) -> Any:
    """A round's rows of `model`'s table, its JSON columns as text (orjson parses them several times faster)."""
    table = model.__table__
    columns = [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]
    return select(*columns).where(table.c.round_code == code)


async def _rows(session: AsyncSession, stmt: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts (a row's mapping view costs a microsecond per key read)."""
    result = await session.execute(stmt)
    keys = list(result.keys())
    return [dict(zip(keys, r, strict=True)) for r in result.all()]


async def _newest_results(session: AsyncSession, code: str) -> ResultsFact | None:
    newest = (
        await session.execute(
            select(ResultsVersion)
            .where(col(ResultsVersion.round_code) == code)
            .order_by(col(ResultsVersion.version).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if newest is None:
        return None
    return ResultsFact(
        version=newest.version,
        published_at=newest.published_at,
        content_sha256=newest.content_sha256,
        complete=newest.complete,
        districts=[RankingRow.model_validate(d) for d in newest.districts],
    )


async def round_row(session: AsyncSession, code: str) -> Round:
    """The round's row; 404 for a round reporting has heard nothing of."""
    found = await session.get(Round, code)
    if found is None:
        raise RoundNotFound(
            f"No round {code!r} (reporting has received no event of it)",
            zh=f"没有督查轮次 {code!r}（报告服务尚未收到它的任何事件）",
        )
    return found


async def load_round_facts(session: AsyncSession, code: str) -> RoundFacts:
    """Everything the read model holds of round `code`, as of its newest applied event (404 if none)."""
    r = await round_row(session, code)
    visits = await _rows(session, _select(Visit, code))
    sheets = await _rows(session, _select(Sheet, code))
    problems = await _rows(session, _select(Problem, code))
    unit_names: dict[str, str] = {}
    for row in (*visits, *sheets, *problems):
        unit_names.setdefault(row["org_unit"], row["site_name"])
    results = await _newest_results(session, code)
    load = _Loader()
    return _built(
        RoundFacts,
        {
            "code": r.code,
            "name": r.name,
            "year": r.year,
            "quarter": r.quarter,
            "drawn_at": r.drawn_at,
            "as_of": r.as_of,
            "district_names": dict(r.district_names or {}),
            "unit_names": unit_names,
            "visits": [load.visit(v) for v in sorted(visits, key=lambda v: v["site_code"])],
            "sheets": [load.sheet(x) for x in sorted(sheets, key=lambda x: x["sheet_id"])],
            "problems": [load.problem(p) for p in sorted(problems, key=lambda p: p["problem_id"])],
            "results": results,
        },
    )


async def all_rounds(session: AsyncSession) -> list[Round]:
    """Every round, newest first (by year and quarter, else by draw time)."""
    rounds = list((await session.execute(select(Round))).scalars().all())
    return sorted(
        rounds,
        key=lambda r: (r.year or 0, r.quarter or 0, r.drawn_at or datetime.min.replace(tzinfo=UTC), r.code),
        reverse=True,
    )


async def previous_round(session: AsyncSession, code: str) -> Round | None:
    """The round before `code`: the one just before it by (year, quarter), else by drawn_at; None if first."""
    current = await round_row(session, code)
    others = [r for r in (await session.execute(select(Round))).scalars().all() if r.code != code]
    if current.year is not None and current.quarter is not None:
        before = [
            r
            for r in others
            if r.year is not None
            and r.quarter is not None
            and (r.year, r.quarter) < (current.year, current.quarter)
        ]
        if before:
            return max(
                before,
                key=lambda r: (
                    r.year or 0,
                    r.quarter or 0,
                    r.drawn_at or datetime.min.replace(tzinfo=UTC),
                    r.code,
                ),
            )
    if current.drawn_at is not None:
        earlier = [r for r in others if r.drawn_at is not None and r.drawn_at < current.drawn_at]
        if earlier:
            return max(earlier, key=lambda r: (r.drawn_at or datetime.min.replace(tzinfo=UTC), r.code))
    return None


async def rounds_of_year(session: AsyncSession, year: int) -> list[Round]:
    """The rounds of `year`, in quarter order (then by draw time)."""
    rows = (await session.execute(select(Round).where(col(Round.year) == year))).scalars().all()
    return sorted(
        rows, key=lambda r: (r.quarter or 0, r.drawn_at or datetime.min.replace(tzinfo=UTC), r.code)
    )


async def load_round_results(session: AsyncSession, code: str) -> RoundFacts:
    """Round `code` with its newest published results only (no visits, sheets nor problems): what a
    ranking's change against it needs, without loading a whole round (404 if unknown)."""
    r = await round_row(session, code)
    return RoundFacts(
        code=r.code,
        name=r.name,
        year=r.year,
        quarter=r.quarter,
        drawn_at=r.drawn_at,
        as_of=r.as_of,
        district_names=dict(r.district_names or {}),
        results=await _newest_results(session, code),
    )
