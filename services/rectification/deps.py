from typing import Annotated

from fastapi import Depends, Path, Request

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.rectification import access, repository
from services.rectification.errors import ProblemForbidden, ProblemNotFound
from services.rectification.models import Problem
from services.rectification.policy import Policy, policy_from


def _policy(request: Request) -> Policy:
    return policy_from(request.app.state.settings)


PolicyDep = Annotated[Policy, Depends(_policy)]


async def valid_problem_id(
    request: Request, session: SessionDep, principal: PrincipalDep, problem_id: Annotated[int, Path(ge=1)]
) -> Problem:
    """The problem if the caller may see it; a write locks it for its transaction (one change at a time)."""
    problem = await repository.get_problem(session, problem_id, for_update=request.method != "GET")
    if problem is None:
        raise ProblemNotFound(f"No problem with id {problem_id}", problem_id=problem_id)
    if not access.can_view(principal, problem):
        raise ProblemForbidden(f"Problem {problem_id} is outside your scope", problem_id=problem_id)
    return problem


ValidProblem = Annotated[Problem, Depends(valid_problem_id)]
