"""Who may ask for and decide extensions.

- Asking: the responsible person, or an admin above the site acting for them (the same rule as
  reporting progress, :func:`services.rectification.problems.access.require_responsible`).
- Deciding: the issuing authority, the person who issued the problem or a city admin over its site.
- Reading the list: whoever may see the problem (``ValidProblem``).
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.rectification.models import Problem
from services.rectification.problems.access import require, require_responsible

REQUESTERS = ("responsible", "city_admin", "district_admin")
DECIDERS = ("city_admin", "team_leader", "inspector", "district_admin")


def require_requester(principal: Principal, problem: Problem) -> None:
    require_responsible(principal, problem, "request an extension for")


def require_issuer(principal: Principal, problem: Problem) -> None:
    """The issuing authority (the person who issued it, or the city's organisation department)."""
    require(
        problem.issued_by == principal.sub
        or (principal.has_role("city_admin") and principal.covers(problem.org_unit)),
        "decide extensions of",
        problem,
    )
