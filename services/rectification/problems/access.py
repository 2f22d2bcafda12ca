"""Who may see and do what with a problem.

Role says WHAT a caller may do; scope says WHERE. Every caller, whatever its role (a city admin, a
`system` API key), sees only problems whose site lies inside its scope (`Principal.scope_filter`,
`Principal.covers`; an empty scope covers nothing). Only the services' own principal is unrestricted.
Inside its scope:

- an overseer (city or district admin, leader, `system` integration) sees every problem;
- a responsible person sees the problems assigned to them (their own unit may stand in for the site's);
- an inspector or team leader sees the problems they issued.

A problem the caller may not see is answered exactly like a missing one (404).

Withdrawing (撤销) and merging (合并) a problem is the **issuing side's admin**'s: a city or district
admin whose scope covers the unit that issued it (`issuing_unit`) and its site. A problem from an
inspection round (a scoring finding) or entered by the city is the city admin's; one a district
entered is that district's admins' and the city admin's above them. The issuer, when an admin,
qualifies by the same rule; inspectors and team leaders do not (a finding binds once its sheet is
locked: undoing it is an admin's decision).
"""

from __future__ import annotations

from typing import Any

from services.kit import orgunit
from services.kit.auth import Principal
from services.kit.errors import field_error
from services.rectification.clients import Directory, DirectoryPerson, DirectorySite
from services.rectification.errors import InvalidReference, ProblemForbidden, action_zh
from services.rectification.models import Problem
from services.rectification.problems.filters import ProblemFilter, Visibility
from services.rectification.roles import ISSUERS, OVERSEERS


def visibility(principal: Principal) -> Visibility:
    """What `principal` may see, for lists and aggregates."""
    return Visibility(
        principal=principal,
        all_in_scope=principal.is_service or principal.has_role(*OVERSEERS),
        own_person_id=principal.sub if principal.has_role("responsible") else None,
        issued_by=principal.sub if principal.has_role(*ISSUERS) else None,
    )


def visibility_filter(principal: Principal, f: ProblemFilter) -> ProblemFilter:
    """Restrict a list to what `principal` may see."""
    f.visible = visibility(principal)
    return f


def can_view(principal: Principal, problem: Problem) -> bool:
    """The same rule as :func:`visibility`, for one problem."""
    on_site = principal.covers(problem.org_unit)
    if on_site and (principal.is_service or principal.has_role(*OVERSEERS)):
        return True
    if (
        principal.has_role("responsible")
        and problem.responsible_person_id == principal.sub
        and (on_site or principal.covers(problem.responsible_unit))
    ):
        return True
    return on_site and principal.has_role(*ISSUERS) and problem.issued_by == principal.sub


def visible_to(principal: Principal, problem: Problem | None) -> Problem | None:
    """`problem` if `principal` may see it; None (the same as missing) otherwise."""
    return problem if problem is not None and can_view(principal, problem) else None


def is_admin_over(principal: Principal, problem: Problem) -> bool:
    """A city or district admin whose scope covers the problem's site."""
    return principal.has_role("city_admin", "district_admin") and principal.covers(problem.org_unit)


def require(allowed: bool, action: str, problem: Problem) -> None:
    """403 naming the action when it is not `allowed`."""
    if not allowed:
        raise ProblemForbidden(
            f"You may not {action} problem {problem.id}",
            zh=f"您不能对问题 {problem.id} 执行「{action_zh(action)}」",
            problem_id=problem.id,
            action=action,
        )


def require_responsible(principal: Principal, problem: Problem, action: str) -> None:
    """The responsible person, or an admin above the site acting for them."""
    require(
        (principal.has_role("responsible") and problem.responsible_person_id == principal.sub)
        or is_admin_over(principal, problem),
        action,
        problem,
    )


def is_issuing_admin(principal: Principal, problem: Problem) -> bool:
    """A city or district admin of the side that issued the problem (see the module's docstring)."""
    return (
        principal.has_role("city_admin", "district_admin")
        and principal.covers(problem.issuing_unit)
        and principal.covers(problem.org_unit)
    )


def require_issuing_admin(principal: Principal, problem: Problem, action: str) -> None:
    """403 unless the caller is an admin of the issuing side (withdraw, merge)."""
    require(is_issuing_admin(principal, problem), action, problem)


def require_verifier(principal: Principal, problem: Problem, action: str) -> None:
    """The issuing authority, or the district (or city) admin above the site."""
    require(problem.issued_by == principal.sub or is_admin_over(principal, problem), action, problem)


# --- facts a write names: from the directories, inside the caller's scope ---------------------


async def resolve_person(
    directory: Directory, principal: Principal, *, district: str, user_id: str, loc: list[str | int]
) -> DirectoryPerson:
    """The responsible person from notify's directory: known, active, in the problem's district and
    in the caller's scope; 422 naming `loc` otherwise.

    Unknown and out-of-scope people get the same answer, so the directory cannot be probed.
    """
    person = await directory.person(user_id)
    refused = person_refusal(person, principal, district=district)
    if refused == PERSON_UNKNOWN or person is None:
        raise InvalidReference(
            f"No active person {user_id!r} in the directory inside your scope",
            zh=f"通讯录中您的范围内没有在岗人员 {user_id!r}",
            errors=[
                field_error(
                    loc,
                    "unknown person, inactive, or outside your scope",
                    zh="人员不存在、不在岗或超出您的管辖范围",
                )
            ],
        )
    if refused == PERSON_OUTSIDE_DISTRICT:
        district_unit = orgunit.district_unit(district)
        raise InvalidReference(
            f"Responsible person {user_id} ({person.org_unit}) does not lie in the problem's district",
            zh=f"责任人 {user_id}（{person.org_unit}）不属于该问题所在区县",
            errors=[
                field_error(
                    loc,
                    f"the person must belong to a unit inside {district_unit}",
                    zh=f"该人员须属于 {district_unit} 之内的单位",
                )
            ],
        )
    return person


PERSON_UNKNOWN, PERSON_OUTSIDE_DISTRICT = "person_unknown", "person_outside_district"


def person_refusal(person: DirectoryPerson | None, principal: Principal, *, district: str) -> str | None:
    """Why `person` cannot be responsible for a problem of `district` (None: they can).

    Unknown, inactive and out-of-scope people are one reason (`person_unknown`), so the directory
    cannot be probed; a person of another district is `person_outside_district`.
    """
    if person is None or not person.active or not principal.covers(person.org_unit):
        return PERSON_UNKNOWN
    if not orgunit.covers(orgunit.district_unit(district), person.org_unit):
        return PERSON_OUTSIDE_DISTRICT
    return None


async def resolve_site(
    directory: Directory, principal: Principal, *, code: str, loc: list[str | int]
) -> DirectorySite:
    """The site from sampling's directory: known, active and inside the caller's scope; 422 otherwise."""
    site = await directory.site(code)
    if (
        site is None
        or not site.active
        or not principal.covers(site.org_unit)
        or not orgunit.covers(orgunit.district_unit(site.district), site.org_unit)
    ):
        raise InvalidReference(
            f"No active site {code!r} in the directory inside your scope",
            zh=f"名录库中您的范围内没有在用单位 {code!r}",
            errors=[
                field_error(
                    loc,
                    "unknown site, inactive, or outside your scope",
                    zh="单位不存在、已停用或超出您的管辖范围",
                )
            ],
        )
    return site


def _differs(given: str | None, actual: str | None) -> bool:
    return given is not None and given.strip().strip("/") != (actual or "").strip().strip("/")


def _fact_errors(
    given: dict[str, str | None], actual: dict[str, str | None], loc: list[str | int]
) -> list[dict[str, Any]]:
    return [
        field_error(
            [*loc, name],
            f"does not match the directory, which says {actual[name]!r}",
            zh=f"与名录不符，名录中为 {actual[name]!r}",
        )
        for name, value in given.items()
        if name in actual and _differs(value, actual[name])
    ]


def site_fact_errors(
    given: dict[str, str | None], site: DirectorySite, loc: list[str | int]
) -> list[dict[str, Any]]:
    """The site's facts a body repeats (name, type, org unit, district) that are not the directory's,
    one error each (the directory's value is said: the caller may see the site)."""
    actual = {"name": site.name, "type": site.type, "org_unit": site.org_unit, "district": site.district}
    return _fact_errors(given, actual, loc)


def person_fact_errors(
    given: dict[str, str | None], person: DirectoryPerson, loc: list[str | int]
) -> list[dict[str, Any]]:
    """A person's name and unit a body repeats that are not notify's, one error each."""
    return _fact_errors(given, {"name": person.name, "org_unit": person.org_unit}, loc)


def refuse_facts(errors: list[dict[str, Any]]) -> None:
    """422 naming every repeated fact that is not the directory's (nothing when all agree)."""
    if errors:
        raise InvalidReference(
            "A site's or person's facts come from the directories: leave them out or send the directory's",
            zh="单位和人员的信息以名录为准：请不要填写，或填写与名录一致的内容",
            errors=errors,
        )


def check_unit(principal: Principal, district: str, unit: str, loc: list[str | int]) -> None:
    """A unit a body names (the responsible unit) lies in the problem's district and the caller's scope."""
    district_unit = orgunit.district_unit(district)
    if not orgunit.covers(district_unit, unit) or not principal.covers(unit):
        raise InvalidReference(
            f"{unit} is outside this problem's district or your scope",
            zh=f"{unit} 不在该问题所在区县或您的管辖范围内",
            errors=[
                field_error(
                    loc,
                    f"must lie inside {district_unit} and your scope {principal.scope}",
                    zh=f"须位于 {district_unit} 之内且在您的管辖范围 {principal.scope} 内",
                )
            ],
        )
