"""The bulletin's files: the round's facts (published only), composed, rendered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.bulletins import compose
from services.reporting.config import Settings
from services.reporting.reports import source
from services.reporting.reports.errors import GenerationFailed
from services.reporting.reports.rendering import Renderers, in_thread


async def bulletin_file(
    session: AsyncSession,
    *,
    round_code: str,
    fmt: str,
    renderers: Renderers,
    settings: Settings,
    now: datetime,
) -> tuple[bytes, str]:
    """(file, file name) of the round's bulletin (404 unknown round, 409 not published)."""
    facts = await source.published_round_facts(session, round_code)
    previous = await source.previous_round_facts(session, round_code)
    try:
        if fmt == "xlsx":
            content = await in_thread(renderers.xlsx, compose.workbook(facts, previous, now))
        else:
            doc = compose.document(facts, previous, now, issuer_mark=settings.issuer_mark)
            content = await in_thread(renderers.docx if fmt == "docx" else renderers.pdf, doc)
    except Exception as exc:
        raise GenerationFailed(
            f"The bulletin could not be generated ({type(exc).__name__})",
            zh=f"通报文件未能生成（{type(exc).__name__}）",
        ) from exc
    return content, f"{compose.title(facts)}.{fmt}"
