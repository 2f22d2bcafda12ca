"""Publishing a round's results: only a complete round (or a city admin's recorded override), as an
immutable, hashed version that reads back byte for byte.

No FastAPI here; the endpoint's session owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.auth import Principal
from services.kit.pagination import Page, PageParams
from services.scoring import clients, events
from services.scoring.enums import LOCKED_ONLY, SheetStatus, SiteType
from services.scoring.errors import NothingToPublish, PublishConflict, ResultsIncomplete, ResultsNotPublished
from services.scoring.models import ResultsVersion, Rubric
from services.scoring.publications import access, repository
from services.scoring.publications.schemas import PublishedResults, PublishedVersion
from services.scoring.results import repository as results_repository
from services.scoring.results import service as results_service
from services.scoring.rubrics.service import bound_rubric, canonical_json, definition_of
from services.scoring.sheets import repository as sheets_repository


@dataclass(frozen=True)
class Publication:
    """What publishing did: the version now current, and whether this call made it."""

    version: PublishedVersion
    created: bool


def coverage(expected: Iterable[tuple[str, str]], sheets: Iterable[Any]) -> dict[str, Any]:
    """Expected sheets (site code, district) against the round's sheets: how many are locked, per district.

    Expected means assigned by sampling in the round's current draw; a locked sheet of a site no longer
    assigned still counts in the rankings but not here.
    """
    locked = {s.site_code for s in sheets if s.status == SheetStatus.LOCKED}
    want: Counter[str] = Counter()
    have: Counter[str] = Counter()
    for site_code, district in set(expected):
        want[district] += 1
        have[district] += site_code in locked
    rows = [
        {"district": d, "expected": want[d], "locked": have[d], "missing": want[d] - have[d]}
        for d in sorted(want)
    ]
    total, done = sum(want.values()), sum(have.values())
    return {
        # Nothing expected (sampling knows no assignment) is not "complete": it cannot be told.
        "complete": total > 0 and done == total,
        "expected": total,
        "locked": done,
        "missing": total - done,
        "districts": rows,
    }


async def publish_results(
    session: AsyncSession,
    *,
    round_code: str,
    override_reason: str | None,
    principal: Principal,
    http: httpx.AsyncClient,
    sampling_url: str,
    now: datetime,
) -> Publication:
    """Publish the round's locked results as a new version, when every expected sheet is locked (or a
    city admin overrides, with a reason), and tell the districts and the city.

    Publishing content identical to the latest version's makes no new version and tells nobody.
    """
    access.require_publisher(principal)
    rubric = await bound_rubric(session, round_code)
    locked_sheets = await sheets_repository.count_round_sheets(session, round_code, status=SheetStatus.LOCKED)
    if rubric is None or not locked_sheets:
        raise NothingToPublish(
            f"Round {round_code} has no locked score sheets yet",
            zh=f"督查轮次 {round_code} 尚无已锁定的评分表",
        )
    assignments = await clients.list_assignments(http, sampling_url, round_code=round_code) or []
    cover = coverage(
        [(a.site.code, a.site.district) for a in assignments],
        await repository.round_sheet_states(session, round_code),
    )
    if not cover["complete"]:
        if override_reason is None:
            raise ResultsIncomplete(
                f"Round {round_code}: {cover['locked']} of {cover['expected']} expected score sheets are "
                f"locked, {cover['missing']} missing; a city admin may publish anyway with override_reason",
                zh=f"督查轮次 {round_code}：应有评分表 {cover['expected']} 份，已锁定 {cover['locked']} 份，缺 {cover['missing']} 份；市级管理员可填写 override_reason 后仍然发布",
                expected=cover["expected"],
                locked=cover["locked"],
                missing=cover["missing"],
                districts=[d for d in cover["districts"] if d["missing"]],
            )
    else:
        override_reason = None  # nothing is overridden: a complete round records no override
    content = await _content(session, round_code=round_code, rubric=rubric, cover=cover)
    body = canonical_json(content)
    sha = hashlib.sha256(body).hexdigest()
    latest = await repository.latest_version(session, round_code)
    if latest is not None and latest.content_sha256 == sha:
        return Publication(_version(latest), created=False)
    row = ResultsVersion(
        round_code=round_code,
        version=(latest.version + 1) if latest else 1,
        content=body.decode(),
        content_sha256=sha,
        complete=cover["complete"],
        expected_sheets=cover["expected"],
        locked_sheets=locked_sheets,
        override_reason=override_reason,
        published_by=principal.sub,
        published_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # two publications of one round at once: the unique version decides
        raise PublishConflict(
            f"Round {round_code} was published by someone else at the same moment; read it and retry",
            zh=f"督查轮次 {round_code} 刚刚已被他人同时发布；请读取后重试",
            round_code=round_code,
        ) from exc
    await _notify(session, row, content["districts"], now=now)
    await events.to_reporting(
        session,
        event_type=events.RESULTS_RECORDED,
        payloads=[events.results_recorded_fact(row, content["districts"])],
        now=now,
    )
    return Publication(_version(row), created=True)


async def _content(
    session: AsyncSession, *, round_code: str, rubric: Rubric, cover: dict[str, Any]
) -> dict[str, Any]:
    """What a version publishes: the locked results of the whole round (the publisher is city-wide)."""
    definition = definition_of(rubric)
    districts = await results_service.ranking_of(
        session,
        round_code=round_code,
        statuses=LOCKED_ONLY,
        definition=definition,
        also=[d["district"] for d in cover["districts"]],
    )
    rows = await results_repository.result_rows(session, round_code=round_code, statuses=LOCKED_ONLY)
    sites = [
        r for t in SiteType for r in results_service.site_rows([row for row in rows if row.site_type == t])
    ]
    # Through JSON once, so the content is plain JSON types (what a reader gets back is what was hashed).
    return json.loads(
        canonical_json(
            {
                "round_code": round_code,
                "rubric": {"version": rubric.version, "sha256": rubric.definition_sha256},
                "coverage": cover,
                "districts": districts,
                "sites": sites,
            }
        )
    )


async def _notify(
    session: AsyncSession, row: ResultsVersion, ranking: list[dict[str, Any]], *, now: datetime
) -> None:
    # One event per district, carrying that district's row only and addressed to its admins; one
    # city-wide event with the whole ranking for the city's leaders and admins. Nobody's inbox holds
    # another district's composite (their rankings view does not show it either).
    publication = {
        "version": row.version,
        "content_sha256": row.content_sha256,
        "complete": row.complete,
        "override_reason": row.override_reason,
    }
    for district in ranking:
        await events.to_notify(
            session,
            event_type=events.RESULTS_PUBLISHED,
            payload=events.results_published_to_district(
                round_code=row.round_code,
                row=district,
                published_by=row.published_by,
                publication=publication,
            ),
            now=now,
        )
    await events.to_notify(
        session,
        event_type=events.RESULTS_PUBLISHED,
        payload=events.results_published_to_city(
            round_code=row.round_code,
            ranking=ranking,
            published_by=row.published_by,
            locked_sheets=row.locked_sheets,
            publication=publication,
        ),
        now=now,
    )


def _version(row: ResultsVersion) -> PublishedVersion:
    return PublishedVersion.model_validate(row, from_attributes=True)


async def _row(session: AsyncSession, round_code: str, version: int | None) -> ResultsVersion:
    row = (
        await repository.latest_version(session, round_code)
        if version is None
        else await repository.get_version(session, round_code, version)
    )
    if row is None:
        which = "any version" if version is None else f"version {version}"
        raise ResultsNotPublished(
            f"Round {round_code} has not published {which} of its results",
            zh=f"督查轮次 {round_code} 尚未发布{'任何版本' if version is None else f'第 {version} 版'}的督查结果",
            round_code=round_code,
        )
    return row


async def published_results(
    session: AsyncSession, *, round_code: str, version: int | None, principal: Principal
) -> PublishedResults:
    """A published version (the latest when `version` is None) with what it published, cut to the caller's scope."""
    row = await _row(session, round_code, version)
    content, scoped = access.cut_to_scope(json.loads(row.content), principal)
    return PublishedResults.model_validate(
        {**_version(row).model_dump(), "scoped": scoped, "content": content}
    )


async def published_content(
    session: AsyncSession, *, round_code: str, version: int, principal: Principal
) -> bytes:
    """A version's canonical content, exactly the bytes its SHA-256 is of."""
    access.require_whole_content(principal)
    return (await _row(session, round_code, version)).content.encode()


async def published_versions(
    session: AsyncSession, *, round_code: str, page: PageParams
) -> Page[PublishedVersion]:
    """A page of the round's published versions, oldest first (without their content)."""
    rows, total = await repository.list_versions(session, round_code, page=page)
    return Page.of([_version(r) for r in rows], total, page)
