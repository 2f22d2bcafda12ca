"""Publishing a round's results and reading the published versions over HTTP (thin: rules in service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from starlette.responses import Response as RawResponse

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep, HttpDep
from services.kit.openapi import errors
from services.kit.pagination import Page, PageDep
from services.scoring.deps import RoundCode, SettingsDep
from services.scoring.publications import access, service
from services.scoring.publications.schemas import OVERRIDE, PublishedResults, PublishedVersion, PublishIn
from services.scoring.results.endpoints import TAG

router = APIRouter(tags=[TAG])

VersionPath = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="The published version: 1, 2, …", examples=[1])
]


@router.post(
    "/rounds/{round_code}/results/publish",
    response_model=PublishedVersion,
    status_code=201,
    responses={
        200: {
            "description": "Identical to the latest version: nothing new was published",
            "model": PublishedVersion,
        },
        **errors(409),
    },
    **allow(*access.PUBLISHERS),
)
async def publish_results(
    round_code: RoundCode,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    http: HttpDep,
    settings: SettingsDep,
    response: Response,
    body: Annotated[
        PublishIn | None,
        Body(
            description="Only to publish an incomplete round: the city admin's reason (optional)",
            examples=[{"override_reason": OVERRIDE}],
        ),
    ] = None,
) -> PublishedVersion:
    """Publish the round's locked results as a new immutable version and notify districts and leaders.

    Refused (409 results-incomplete, with the counts) unless every expected sheet is locked or a city
    admin gives `override_reason`; content identical to the latest version publishes nothing new (200).
    """
    published = await service.publish_results(
        session,
        round_code=round_code,
        override_reason=body.override_reason if body else None,
        principal=principal,
        http=http,
        sampling_url=settings.sampling_url,
        now=clock.now(),
    )
    if not published.created:
        response.status_code = 200
    return published.version


@router.get(
    "/rounds/{round_code}/results/published",
    response_model=PublishedResults,
    **allow(*access.READERS),
)
async def get_published_results(
    round_code: RoundCode, session: SessionDep, principal: PrincipalDep
) -> PublishedResults:
    """Read the round's latest published results: exactly what was published, with its version and hash."""
    return await service.published_results(session, round_code=round_code, version=None, principal=principal)


@router.get(
    "/rounds/{round_code}/results/published/versions",
    response_model=Page[PublishedVersion],
    **allow(*access.READERS),
)
async def list_published_versions(
    round_code: RoundCode, session: SessionDep, page: PageDep
) -> Page[PublishedVersion]:
    """List the round's published versions, oldest first (who, when, complete or overridden, hash)."""
    return await service.published_versions(session, round_code=round_code, page=page)


@router.get(
    "/rounds/{round_code}/results/published/versions/{version}",
    response_model=PublishedResults,
    **allow(*access.READERS),
)
async def get_published_version(
    round_code: RoundCode, version: VersionPath, session: SessionDep, principal: PrincipalDep
) -> PublishedResults:
    """Read one published version of the round's results: exactly what it published."""
    return await service.published_results(
        session, round_code=round_code, version=version, principal=principal
    )


@router.get(
    "/rounds/{round_code}/results/published/versions/{version}/content",
    response_class=RawResponse,
    responses={
        200: {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PublishedContent"}}},
            "description": "The canonical bytes whose SHA-256 is the version's content_sha256",
        }
    },
    **allow(*access.READERS),
)
async def get_published_content(
    round_code: RoundCode, version: VersionPath, session: SessionDep, principal: PrincipalDep
) -> RawResponse:
    """Fetch a version's canonical content byte for byte (its SHA-256 is content_sha256); city-wide scope only."""
    body = await service.published_content(
        session, round_code=round_code, version=version, principal=principal
    )
    return RawResponse(body, media_type="application/json")
