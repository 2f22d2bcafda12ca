"""Service-wide dependencies: the rules' policy, the directories, and the problem a path names."""

from typing import Annotated

from fastapi import Depends, Request

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.kit.deps import HttpDep
from services.kit.http import on_behalf_of
from services.kit.params import IdPath
from services.rectification.clients import Directory, EvidenceFiles, HttpDirectory, HttpEvidence
from services.rectification.deadlines.policy import Policy, policy_from
from services.rectification.models import Problem
from services.rectification.problems import service as problem_service


def _policy(request: Request) -> Policy:
    return policy_from(request.app.state.settings)


PolicyDep = Annotated[Policy, Depends(_policy)]


def _directory(request: Request, http: HttpDep) -> Directory:
    settings = request.app.state.settings
    return HttpDirectory(
        http=http,
        notify_url=settings.notify_url,
        sampling_url=settings.sampling_url,
        timeout=settings.directory_timeout_seconds,
    )


DirectoryDep = Annotated[Directory, Depends(_directory)]


def _evidence(request: Request, http: HttpDep, principal: PrincipalDep) -> EvidenceFiles:
    # Asked as the caller (the principal forwarded), so the evidence service's scope filter is theirs.
    settings = request.app.state.settings
    return HttpEvidence(
        http=http,
        evidence_url=settings.evidence_url,
        headers=on_behalf_of(principal, secret=settings.principal_secret.get_secret_value()),
        timeout=settings.evidence_timeout_seconds,
    )


EvidenceDep = Annotated[EvidenceFiles, Depends(_evidence)]


async def valid_problem_id(
    request: Request, session: SessionDep, principal: PrincipalDep, problem_id: IdPath
) -> Problem:
    """The problem if the caller may see it (404 otherwise); a write locks it for its transaction."""
    return await problem_service.visible_problem(
        session, principal, problem_id, for_update=request.method != "GET"
    )


ValidProblem = Annotated[Problem, Depends(valid_problem_id)]
