"""What the documents read of the read model: a round's facts, the round before it, a year's rounds.

The documents never query the read tables themselves: they read the same facts the dashboard reads
(:func:`services.reporting.facts.load_round_facts`, turned into figures by `stats` alone).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import facts as rm
from services.reporting.errors import RoundNotPublished
from services.reporting.facts import RoundFacts
from services.reporting.models import Round

load_round_facts = rm.load_round_facts


async def round_header(session: AsyncSession, code: str) -> Round:
    """The round's row (name, year, quarter), 404 when unknown."""
    return await rm.round_row(session, code)


async def published_round_facts(session: AsyncSession, code: str) -> RoundFacts:
    """The round's facts; 404 when unknown, 409 until its results are published."""
    facts = await load_round_facts(session, code)
    if facts.results is None:
        raise RoundNotPublished(
            f"Round {code!r} has no published results yet: its documents come after publication",
            zh=f"督查轮次 {code} 的结果尚未发布：相关文件须在结果发布后生成",
            round_code=code,
        )
    return facts


async def previous_round_facts(session: AsyncSession, code: str) -> RoundFacts | None:
    """The round before `code` (by year and quarter, else by draw time) with its results; None if first."""
    prev = await rm.previous_round(session, code)
    return None if prev is None else await rm.load_round_results(session, prev.code)


async def rounds_of_year(session: AsyncSession, year: int) -> list[str]:
    """The codes of `year`'s rounds, in quarter order."""
    return [r.code for r in await rm.rounds_of_year(session, year)]
