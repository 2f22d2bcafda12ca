"""Parameters and dependencies every scoring entity shares."""

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request

from services.kit.auth import PrincipalDep
from services.kit.deps import HttpDep
from services.kit.http import on_behalf_of
from services.scoring.clients import EvidenceFiles, HttpEvidence
from services.scoring.config import Settings

RoundCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The round's code, e.g. 2026Q1",
        examples=["2026Q1"],
    ),
]
DistrictQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A district or zone slug, e.g. yinzhou",
    ),
]
IfMatch = Annotated[str | None, Header(max_length=200, description="The sheet's ETag as last read")]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(settings_of)]


def _evidence(settings: SettingsDep, http: HttpDep, principal: PrincipalDep) -> EvidenceFiles:
    # Asked as the caller (the principal forwarded), so the evidence service's scope filter is theirs.
    return HttpEvidence(
        http=http,
        evidence_url=settings.evidence_url,
        headers=on_behalf_of(principal, secret=settings.principal_secret.get_secret_value()),
        timeout=settings.evidence_timeout_seconds,
    )


EvidenceDep = Annotated[EvidenceFiles, Depends(_evidence)]
