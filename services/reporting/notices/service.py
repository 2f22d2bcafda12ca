"""A district's problem list as a file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.kit.errors import NotFound
from services.reporting.config import Settings
from services.reporting.notices import compose
from services.reporting.reports import source
from services.reporting.reports.errors import GenerationFailed
from services.reporting.reports.rendering import Renderers, in_thread


async def problem_list_file(
    session: AsyncSession,
    *,
    round_code: str,
    district: str,
    fmt: str,
    renderers: Renderers,
    settings: Settings,
    now: datetime,
) -> tuple[bytes, str]:
    """(file, file name) of the district's problem list (404 unknown round or district)."""
    facts = await source.load_round_facts(session, round_code)
    known = (
        set(facts.district_names)
        | {p.site.district for p in facts.problems}
        | {v.site.district for v in facts.visits}
    )
    if district not in known:
        raise NotFound(
            f"District {district!r} not found in this round",
            zh=f"本轮次中没有区县市 {district!r}",
            round_code=round_code,
            district=district,
        )
    kw = {"yellow_days": settings.light_yellow_days, "red_days": settings.light_red_days}
    try:
        if fmt == "xlsx":
            content = await in_thread(lambda: renderers.xlsx(compose.workbook(facts, district, now, **kw)))
        else:
            doc = compose.document(facts, district, now, issuer_mark=settings.issuer_mark, **kw)
            content = await in_thread(renderers.docx if fmt == "docx" else renderers.pdf, doc)
    except Exception as exc:
        raise GenerationFailed(
            f"The problem list could not be generated ({type(exc).__name__})",
            zh=f"问题清单未能生成（{type(exc).__name__}）",
        ) from exc
    return content, f"{compose.title(facts, district)}.{fmt}"
