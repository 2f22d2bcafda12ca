"""Demo data: ``python -m services.reporting.demo`` (idempotent), run by ``services.devrun`` after the
other services' loaders.

Once the demo round's events have arrived (its draw, sheets and published results, relayed by the
other services' outboxes), it drafts a 专报 for the round, has it submitted by the demo city admin,
reviewed by a second city admin (the author may not review), and issued under 甬组督〔<year>〕1号
(the next free number if a real report took it), with its DOCX and PDF; and it sets the demo year's
assessment weights. A report already issued for the round, or weights already set, are left alone.
If the round's results have not arrived within the wait, it exits non-zero and devrun finishes it at
the next start.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.clock import SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.migrations import upgrade_to_head
from services.kit.workdays import local_date
from services.reporting.assessments import repository as weights_repository
from services.reporting.assessments import service as assessments
from services.reporting.assessments.schemas import DEFAULT_WEIGHTS
from services.reporting.config import Settings
from services.reporting.main import MIGRATIONS_DIR
from services.reporting.models import ResultsVersion, Round, SpecialReport
from services.reporting.reports import repository, service
from services.reporting.reports.errors import DocNumberTaken
from services.reporting.reports.rendering import DEFAULT_RENDERERS, Renderers
from services.reporting.reports.schemas import (
    IssueIn,
    ReportStatus,
    ReviewDecision,
    ReviewIn,
    SpecialReportDraft,
)

# scoring's demo round (services/scoring/demo.py DEMO_ROUND; services do not import each other).
DEMO_ROUND = "2026Q1"
AUTHOR = Principal(sub="u-admin", roles=("city_admin",), scope="ningbo", name="市委组织部督查办")
REVIEWER = Principal(sub="u-admin-2", roles=("city_admin",), scope="ningbo", name="市委组织部督查办（审核）")


async def _published(sessionmaker: async_sessionmaker[AsyncSession], code: str) -> Round | None:
    async with sessionmaker() as session:
        r = await session.get(Round, code)
        if r is None or r.revision is None:
            return None
        has = (
            await session.execute(
                select(col(ResultsVersion.version)).where(col(ResultsVersion.round_code) == code).limit(1)
            )
        ).first()
        return r if has else None


async def _wait_for_round(
    sessionmaker: async_sessionmaker[AsyncSession], code: str, seconds: float
) -> Round | None:
    """The demo round once its draw and results have arrived; None after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        r = await _published(sessionmaker, code)
        if r is not None or loop.time() >= deadline:
            return r
        await asyncio.sleep(1.0)


async def _demo_report(session: AsyncSession, code: str) -> SpecialReport | None:
    """The round's issued report, else the demo author's newest unfinished one."""
    issued = await repository.issued_for_round(session, code)
    if issued is not None:
        return issued
    return (
        (
            await session.execute(
                select(SpecialReport)
                .where(col(SpecialReport.round_code) == code, col(SpecialReport.author_id) == AUTHOR.sub)
                .order_by(col(SpecialReport.id).desc())
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def _issue_special_report(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    code: str,
    now: datetime,
    renderers: Renderers,
) -> str:
    async with sessionmaker() as session, session.begin():
        report = await _demo_report(session, code)
        if report is not None and report.status == ReportStatus.ISSUED:
            return f"already issued as {report.doc_number}"
        if report is None:
            report = await service.draft_report(
                session,
                round_code=code,
                draft_in=SpecialReportDraft(),
                principal=AUTHOR,
                settings=settings,
                now=now,
            )
        if report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            await service.submit_report(
                session, report=report, principal=AUTHOR, if_match=service.etag_of(report), now=now
            )
        if report.status == ReportStatus.IN_REVIEW:
            await service.review_report(
                session,
                report=report,
                review=ReviewIn(decision=ReviewDecision.APPROVE, comment="同意印发"),
                principal=REVIEWER,
                if_match=service.etag_of(report),
                now=now,
            )
        report_id = report.id
    year = local_date(now).year
    for seq in range(1, 100):
        number = f"{settings.doc_number_issuer}〔{year}〕{seq}号"
        try:
            async with sessionmaker() as session, session.begin():
                row = await repository.get(session, report_id or 0, for_update=True)
                assert row is not None
                await service.issue_report(
                    session,
                    report=row,
                    issue=IssueIn(doc_number=number),
                    principal=AUTHOR,
                    renderers=renderers,
                    settings=settings,
                    if_match=service.etag_of(row),
                    now=now,
                )
            return f"issued as {number}"
        except DocNumberTaken:
            continue
    raise RuntimeError("no free document number for the demo report")


async def _set_weights(sessionmaker: async_sessionmaker[AsyncSession], year: int, now: datetime) -> str:
    async with sessionmaker() as session, session.begin():
        if await weights_repository.get(session, year) is not None:
            return "already set"
        await assessments.set_weights(session, year=year, weights=DEFAULT_WEIGHTS, principal=AUTHOR, now=now)
        return "set"


async def run(
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    wait_seconds: float | None = None,
    renderers: Renderers = DEFAULT_RENDERERS,
) -> dict[str, str]:
    """Issue the demo round's 专报 and set the demo year's weights, whatever is missing."""
    settings = settings or Settings()
    now = now or SystemClock().now()
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        sessionmaker = make_sessionmaker(engine)
        wait = settings.demo_wait_seconds if wait_seconds is None else wait_seconds
        r = await _wait_for_round(sessionmaker, DEMO_ROUND, wait)
        if r is None:
            raise TimeoutError(
                f"round {DEMO_ROUND}'s draw and published results did not arrive within {wait:g} s"
            )
        report = await _issue_special_report(sessionmaker, settings, DEMO_ROUND, now, renderers)
        weights = await _set_weights(sessionmaker, r.year or local_date(now).year, now)
        return {"special_report": report, "weights": weights}
    finally:
        await engine.dispose()


def main() -> None:
    warnings.filterwarnings("ignore", message=r"(?s).*session\.exec\(\)", category=DeprecationWarning)
    try:
        result = asyncio.run(run())
    except TimeoutError as exc:
        print(f"reporting demo: {exc}; it is finished at the next start", file=sys.stderr)
        raise SystemExit(1) from exc
    print(f"reporting demo: 专报 {result['special_report']}; assessment weights {result['weights']}")


if __name__ == "__main__":
    main()
