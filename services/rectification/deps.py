from typing import Annotated

from fastapi import Depends, Request

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.kit.deps import HttpDep
from services.kit.params import IdPath
from services.rectification import access, repository
from services.rectification.clients import Directory, HttpDirectory
from services.rectification.errors import ProblemNotFound
from services.rectification.models import Problem
from services.rectification.policy import Policy, policy_from


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


async def valid_problem_id(
    request: Request, session: SessionDep, principal: PrincipalDep, problem_id: IdPath
) -> Problem:
    """The problem if the caller may see it; a write locks it for its transaction (one change at a time).

    A problem the caller may not see is answered exactly like a missing one: neither its existence
    nor its place leaks.
    """
    problem = await repository.get_problem(session, problem_id, for_update=request.method != "GET")
    if problem is None or not access.can_view(principal, problem):
        raise ProblemNotFound(f"No problem with id {problem_id}", problem_id=problem_id)
    return problem


ValidProblem = Annotated[Problem, Depends(valid_problem_id)]
