"""Results of a round, live: district composites and rankings, site rankings, trend, problems by item.

Sheet scores are computed when a sheet is written and stored on it, so a ranking reads one light row
per sheet and never re-adds item scores.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.pagination import Page, PageParams
from services.scoring import calc, clients, exports
from services.scoring.enums import LOCKED_ONLY, WITH_PREVIEW, ExportTable, SheetStatus, SiteType
from services.scoring.errors import SamplingUnavailable
from services.scoring.publications import repository as publications_repository
from services.scoring.results import access, repository
from services.scoring.results.schemas import (
    DistrictRankingPage,
    ItemProblemsPage,
    MissingPart,
    SiteRankingPage,
    TrendPage,
)
from services.scoring.rubric import RubricDefinition
from services.scoring.rubrics.service import round_definition


def statuses(preview: bool) -> tuple[SheetStatus, ...]:
    """The sheet statuses counted: locked only, or reviewed too in a preview."""
    return WITH_PREVIEW if preview else LOCKED_ONLY


def _f(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


def _fmt(x: Decimal | float | None) -> str:
    return "—" if x is None else f"{Decimal(str(x)):.2f}"


MISSING_TEXT: dict[MissingPart, str] = {
    MissingPart.NO_COUNTED_SHEET: "本轮尚无计入排名的评分表（需已锁定）",
    MissingPart.NO_OWN_SHEET: "缺少区县（功能区）本级 A 板块评分表",
    MissingPart.NO_GRASSROOTS_SHEET: "缺少基层点位评分表",
}


def _mean_text(x: Decimal | None) -> str:
    """The grassroots mean as the explanation prints it: unrounded (4 places, … when cut) so its sum adds up."""
    if x is None:
        return "—"
    cut = x.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    text = f"{cut:.4f}".rstrip("0")
    text = text + "0" * max(0, 2 - len(text.split(".")[1])) if "." in text else f"{text}.00"
    return text if cut == x else f"{text}…"


def district_rows(
    aggregates: list[Any],
    own_rows: list[Any],
    definition: RubricDefinition,
    districts: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Composite and rank of every district, best first, with the numbers behind each.

    `names` gives each district's Chinese name beside its slug (``district_name``; None when unknown).

    `aggregates` are (district, site_type, status, n, cents) groups; `own_rows` the districts' own sheets;
    `districts` every district the round has a sheet in, so one with no counted sheet still appears.
    Entries without a veto come first, then vetoed ones (own sheet vetoed); within each, complete ones
    before incomplete ones; then by composite. A district with nothing counted is listed last, unranked.
    """
    comp = definition.composite
    own_types = set(comp.own_site_types)
    grass_types = set(comp.grassroots_site_types)
    grass: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    previews: dict[str, int] = defaultdict(int)
    for a in aggregates:
        if a.site_type in grass_types:
            acc = grass[a.district][a.site_type]
            acc[0] += int(a.n)
            acc[1] += int(a.cents)
        elif a.site_type not in own_types:
            continue
        if a.status != SheetStatus.LOCKED:
            previews[a.district] += int(a.n)
    own: dict[str, list[Any]] = defaultdict(list)
    for r in own_rows:
        if r.score is not None:
            own[r.district].append(r)
    out: list[dict[str, Any]] = []
    for district in sorted(set(own) | set(grass) | set(districts)):
        own_scores = [calc.dec(r.score) for r in own[district]]
        # A district has one own sheet; should a zone report two, their mean stands for it.
        own_score = calc.r2(sum(own_scores, Decimal(0)) / len(own_scores)) if own_scores else None
        by_type = grass.get(district, {})
        n = sum(v[0] for v in by_type.values())
        cents = sum(v[1] for v in by_type.values())
        mean = Decimal(cents) / (100 * n) if n else None
        res = calc.composite_of_mean(own_score, mean, n, definition)
        vetoed = any(r.veto_items for r in own[district])
        missing: list[MissingPart] = []
        if own_score is None and mean is None:
            missing.append(MissingPart.NO_COUNTED_SHEET)
        else:
            if own_score is None:
                missing.append(MissingPart.NO_OWN_SHEET)
            if mean is None:
                missing.append(MissingPart.NO_GRASSROOTS_SHEET)
        explanation = (
            f"{float(res.own_weight):g}% × {_fmt(res.own_score)}（本级 A 板块）+ {float(res.grassroots_weight):g}% × "
            f"{_mean_text(mean)}（{res.grassroots_count} 个基层点位平均）= {_fmt(res.composite)}"
        )
        if missing:
            explanation += "（不完整：" + "；".join(MISSING_TEXT[m] for m in missing)
            explanation += (
                "，缺失部分的权重由另一部分承担，排在完整的区县之后）" if res.composite is not None else "）"
            )
        if vetoed:
            explanation += "（一票否决：排在所有未被否决的区县之后）"
        out.append(
            {
                "district": district,
                "district_name": (names or {}).get(district),
                "composite": res.composite,
                "grade": calc.grade_for(res.composite, definition) if res.composite is not None else None,
                "complete": not missing,
                "missing": [{"code": m, "message": MISSING_TEXT[m]} for m in missing],
                "vetoed": vetoed,
                "own_score": _f(res.own_score),
                "own_sheets": [
                    {
                        "sheet_id": r.id,
                        "site_code": r.site_code,
                        "site_name": r.site_name,
                        "score": r.score,
                        "grade": r.grade,
                        "status": r.status,
                        "veto_items": r.veto_items,
                    }
                    for r in own[district]
                ],
                "grassroots_mean": _f(res.grassroots_mean),
                "grassroots_count": res.grassroots_count,
                "grassroots_by_type": {
                    k: {"count": v[0], "mean": float(calc.r2(Decimal(v[1]) / (100 * v[0])))}
                    for k, v in sorted(by_type.items())
                },
                "own_weight": float(res.own_weight),
                "grassroots_weight": float(res.grassroots_weight),
                "explanation": explanation,
                "preview_sheets": previews[district],
            }
        )

    def standing(d: dict[str, Any]) -> tuple[bool, bool, Decimal] | None:
        # What the rank compares: no veto before veto, complete before incomplete, then the composite.
        c = d["composite"]
        return None if c is None else (d["vetoed"], not d["complete"], -c)

    # Best first; equal standings share a rank and are listed by district slug; unranked ones last.
    out.sort(key=lambda d: (d["composite"] is None, standing(d) or (True, True, Decimal(0)), d["district"]))
    for row, rank in zip(out, calc.competition_ranks([standing(d) for d in out]), strict=True):
        row["rank"] = rank
        row["composite"] = _f(row["composite"])
    return out


async def ranking_of(
    session: AsyncSession,
    *,
    round_code: str,
    statuses: tuple[SheetStatus, ...],
    definition: RubricDefinition,
    also: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The district ranking of a round from two small queries (grouped sums, and the districts' own sheets).

    `also` names districts to list even without any sheet (publication passes every district sampling
    assigned a site in, so none is missing from the published ranking).
    """
    aggregates = await repository.district_aggregates(session, round_code=round_code, statuses=statuses)
    own_rows = await repository.sheets_of_types(
        session, round_code=round_code, statuses=statuses, site_types=definition.composite.own_site_types
    )
    districts = await repository.round_districts(session, round_code=round_code)
    names = await repository.district_names(
        session, round_code=round_code, site_types=definition.composite.own_site_types
    )
    return district_rows(aggregates, own_rows, definition, {*districts, *also}, names)


async def assigned_districts(
    http: httpx.AsyncClient, sampling_url: str, *, round_code: str
) -> list[str] | None:
    """The districts sampling assigned a site in for the round, or None when sampling cannot be asked."""
    try:
        assignments = await clients.list_assignments(http, sampling_url, round_code=round_code)
    except SamplingUnavailable:
        return None
    return sorted({a.site.district for a in assignments or []})


async def district_ranking_rows(
    session: AsyncSession,
    *,
    round_code: str,
    preview: bool,
    principal: Principal,
    also: Iterable[str] = (),
) -> tuple[str | None, list[dict[str, Any]]]:
    """The rubric version and the district/zone ranking of a round (only locked sheets unless previewing).

    `also` names districts to list even without any sheet (those sampling assigned a site in)."""
    version, definition = await round_definition(session, round_code)
    if definition is None:
        return version, []
    ranking = await ranking_of(
        session, round_code=round_code, statuses=statuses(preview), definition=definition, also=also
    )
    # Each row keeps its city-wide rank; the caller gets only the rows of the districts it covers.
    return version, [d for d in ranking if access.covers_district(principal, d["district"])]


async def district_rankings(
    session: AsyncSession,
    *,
    round_code: str,
    preview: bool,
    principal: Principal,
    page: PageParams,
    assigned: list[str] | None,
) -> DistrictRankingPage:
    """A page of the district/zone ranking of a round, with when it was last published.

    `assigned` are the districts sampling assigned a site in (None: sampling could not be asked)."""
    version, rows = await district_ranking_rows(
        session, round_code=round_code, preview=preview, principal=principal, also=assigned or ()
    )
    paged = Page.slice(rows, page)
    return DistrictRankingPage.model_validate(
        {
            "round_code": round_code,
            "rubric_version": version,
            "preview": preview,
            "all_districts": assigned is not None,
            **await _provisional(session, round_code),
            **paged.model_dump(),
        }
    )


async def _provisional(session: AsyncSession, round_code: str) -> dict[str, Any]:
    """What a live view says beside its rows: it is provisional, and which version was last published."""
    latest = await publications_repository.latest_version(session, round_code)
    return {
        "provisional": True,
        "published_version": latest.version if latest else None,
        "published_sha256": latest.content_sha256 if latest else None,
        "published_at": latest.published_at if latest else None,
    }


async def site_rankings(
    session: AsyncSession,
    *,
    round_code: str,
    site_type: SiteType,
    preview: bool,
    principal: Principal,
    page: PageParams,
) -> SiteRankingPage:
    """Sites of one type ranked by their 100-point score (ranked in SQL, one page read)."""
    rows, total = await repository.ranked_sites(
        session,
        round_code=round_code,
        statuses=statuses(preview),
        site_type=site_type,
        reader=principal,
        limit=page.limit,
        offset=page.offset,
    )
    return SiteRankingPage.model_validate(
        {
            "round_code": round_code,
            "site_type": site_type,
            "preview": preview,
            **await _provisional(session, round_code),
            **Page.of([site_row(r, r.rank) for r in rows], total, page).model_dump(),
        }
    )


def site_row(r: Any, rank: int | None) -> dict[str, Any]:
    """One ranked sheet as the API shows it."""
    return {
        "rank": rank,
        "sheet_id": r.id,
        "site": {
            "code": r.site_code,
            "name": r.site_name,
            "type": r.site_type,
            "org_unit": r.org_unit,
            "district": r.district,
        },
        "status": r.status,
        "score": r.score,
        "grade": r.grade,
        "veto_items": r.veto_items,
        "vetoed": bool(r.veto_items),
        "sections": r.section_scores,
        "content_sha256": r.content_sha256,
        "preview": r.status != SheetStatus.LOCKED,
    }


def site_rows(rows: list[Any]) -> list[dict[str, Any]]:
    """Rank already-read rows of one site type in memory (the exports read every row anyway)."""
    # Sheets without a veto first, vetoed ones after them; each by score.
    scored = sorted(
        (r for r in rows if r.score is not None), key=lambda r: (bool(r.veto_items), -r.score, r.site_code)
    )
    ranks = calc.competition_ranks([(bool(r.veto_items), -calc.dec(r.score)) for r in scored])
    return [site_row(r, rank) for r, rank in zip(scored, ranks, strict=True)]


async def problems_by_item(
    session: AsyncSession, *, round_code: str, preview: bool, principal: Principal, page: PageParams
) -> ItemProblemsPage:
    """A page of the items that fail most."""
    rows = await item_problem_rows(session, round_code=round_code, preview=preview, principal=principal)
    return ItemProblemsPage.model_validate(
        {"round_code": round_code, "preview": preview, **Page.slice(rows, page).model_dump()}
    )


async def item_problem_rows(
    session: AsyncSession, *, round_code: str, preview: bool, principal: Principal
) -> list[dict[str, Any]]:
    """Which items fail most (over the sheets inside the caller's scope), most findings first."""
    _, definition = await round_definition(session, round_code)
    stats = await repository.item_statistics(
        session, round_code=round_code, statuses=statuses(preview), reader=principal
    )
    items = []
    for s in stats:
        rubric_item = definition.item(s.item_code) if definition else None
        items.append(
            {
                "item_code": s.item_code,
                "title": rubric_item.title if rubric_item else s.item_code,
                "section_code": s.section_code,
                "max_points": float(s.max_points),
                "sheets": int(s.sheets or 0),
                "not_applicable": int(s.not_applicable or 0),
                "sheets_with_deductions": int(s.sheets_with_deductions or 0),
                "deductions": int(s.deductions or 0),
                "findings": int(s.findings or 0),
                "points_lost": round(float(s.points_lost or 0), 2),
                "mean_points": None if s.mean_points is None else round(float(s.mean_points), 2),
            }
        )
    items.sort(key=lambda i: (-i["findings"], -i["deductions"], -i["points_lost"], i["item_code"]))
    return items


async def trend(
    session: AsyncSession, *, district: str | None, principal: Principal, page: PageParams
) -> TrendPage:
    """Each district's composite and rank across every round with locked sheets, oldest round first."""
    rounds = await repository.rounds_with_sheets(session, statuses=LOCKED_ONLY, reader=principal)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code in rounds:
        _, definition = await round_definition(session, code)
        if definition is None:
            continue
        ranking = await ranking_of(session, round_code=code, statuses=LOCKED_ONLY, definition=definition)
        ranked = {d["district"]: d for d in ranking}
        for name, d in ranked.items():
            series[name].append({"round_code": code, "composite": d["composite"], "rank": d["rank"]})
    names = [
        n
        for n in sorted(series)
        if (district is None or n == district) and access.covers_district(principal, n)
    ]
    rows = [{"district": n, "points": series[n]} for n in names]
    return TrendPage.model_validate({"rounds": rounds, **Page.slice(rows, page).model_dump()})


async def _export_tables(
    session: AsyncSession, round_code: str, principal: Principal
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], RubricDefinition | None]:
    """The locked results inside the caller's scope: districts, sites (by type), items; and the rubric."""
    _, ranking = await district_ranking_rows(
        session, round_code=round_code, preview=False, principal=principal
    )
    rows = await repository.result_rows(session, round_code=round_code, statuses=LOCKED_ONLY)
    # Ranked within each site type, listed type by type.
    sites = [
        r
        for t in SiteType
        for r in site_rows([row for row in rows if row.site_type == t])
        if principal.covers(r["site"]["org_unit"])
    ]
    items = await item_problem_rows(session, round_code=round_code, preview=False, principal=principal)
    _, definition = await round_definition(session, round_code)
    return ranking, sites, items, definition


async def export_csv(
    session: AsyncSession, *, round_code: str, table: ExportTable, principal: Principal
) -> bytes:
    """One table of the round's locked results as CSV (Chinese headers)."""
    ranking, sites, items, definition = await _export_tables(session, round_code, principal)
    if table == ExportTable.DISTRICTS:
        return exports.to_csv(exports.district_table(ranking))
    if table == ExportTable.SITES:
        return exports.to_csv(exports.site_table(sites, definition))
    return exports.to_csv(exports.item_table(items))


async def export_xlsx(session: AsyncSession, *, round_code: str, principal: Principal) -> bytes:
    """The round's locked results as XLSX: district ranking, one sheet per site type, items."""
    ranking, sites, items, definition = await _export_tables(session, round_code, principal)
    tables: list[tuple[str, exports.Table]] = [("区县排名", exports.district_table(ranking))]
    for t in SiteType:
        of_type = [s for s in sites if s["site"]["type"] == t]
        if of_type:
            tables.append((f"{exports.SITE_TYPE_TITLES[t]}排名", exports.site_table(of_type, definition)))
    tables.append(("细项问题统计", exports.item_table(items)))
    return await asyncio.to_thread(exports.to_xlsx, tables)
