"""Who may see and do what with a problem (roles and org-unit scope)."""

from __future__ import annotations

from services.kit.auth import Principal, scope_covers
from services.kit.errors import field_error
from services.rectification import repository
from services.rectification.errors import InvalidSchedule, ProblemForbidden
from services.rectification.models import Problem
from services.rectification.schemas import PersonRef, SiteRef

UNRESTRICTED_ROLES = ("city_admin", "leader", "system", "district_admin")


def visibility_filter(principal: Principal, f: repository.ProblemFilter) -> repository.ProblemFilter:
    """Restrict a list to what `principal` may see."""
    if principal.has_role(*UNRESTRICTED_ROLES) and principal.scope.strip("/") == "":
        return f
    f.only_visible = True
    if principal.has_role(*UNRESTRICTED_ROLES):
        f.scope_units = [principal.scope.strip("/")]
    if principal.has_role("responsible"):
        f.own_person_id = principal.sub
    if principal.has_role("team_leader", "inspector"):
        f.issued_by = principal.sub
    return f


def can_view(principal: Principal, problem: Problem) -> bool:
    if principal.has_role(*UNRESTRICTED_ROLES) and principal.covers(problem.org_unit):
        return True
    if principal.has_role("responsible") and problem.responsible_person_id == principal.sub:
        return True
    return principal.has_role("team_leader", "inspector") and problem.issued_by == principal.sub


def is_admin_over(principal: Principal, problem: Problem) -> bool:
    return principal.has_role("city_admin", "district_admin") and principal.covers(problem.org_unit)


def require(allowed: bool, action: str, problem: Problem) -> None:
    if not allowed:
        raise ProblemForbidden(
            f"You may not {action} problem {problem.id}", problem_id=problem.id, action=action
        )


def require_responsible(principal: Principal, problem: Problem, action: str) -> None:
    """The responsible person, or an admin above the site acting for them."""
    require(
        (principal.has_role("responsible") and problem.responsible_person_id == principal.sub)
        or is_admin_over(principal, problem),
        action,
        problem,
    )


def require_verifier(principal: Principal, problem: Problem, action: str) -> None:
    """The issuing authority, or the district (or city) admin above the site."""
    require(problem.issued_by == principal.sub or is_admin_over(principal, problem), action, problem)


def require_issuer(principal: Principal, problem: Problem, action: str) -> None:
    """The issuing authority (the person who issued it, or the city's organisation department)."""
    require(
        problem.issued_by == principal.sub
        or (principal.has_role("city_admin") and principal.covers(problem.org_unit)),
        action,
        problem,
    )


def check_person(principal: Principal, district: str, person: PersonRef, loc: list[str | int]) -> None:
    district_unit = f"ningbo/{district}"
    if not scope_covers(district_unit, person.org_unit) or not principal.covers(person.org_unit):
        raise InvalidSchedule(
            f"Responsible person {person.user_id} ({person.org_unit}) is outside the scope of this problem",
            errors=[
                field_error(
                    [*loc, "org_unit"], f"must lie inside {district_unit} and your scope {principal.scope}"
                )
            ],
        )


def check_site(site: SiteRef, loc: list[str | int]) -> None:
    if not scope_covers(f"ningbo/{site.district}", site.org_unit):
        raise InvalidSchedule(
            f"Site org unit {site.org_unit} is not inside district {site.district}",
            errors=[field_error([*loc, "org_unit"], f"must lie inside ningbo/{site.district}")],
        )
