"""Who may do what with a 专报 (and the other city-wide documents).

A 专报 goes to the city's leaders: it concerns the whole city, so every route needs a city-wide
scope (a district's admin or an API key scoped to a district gets 403), API keys included.

- city_admin: drafts, edits, submits, issues, reads every report in any status, downloads drafts;
- a city_admin **other than the author** reviews (the project has no dedicated reviewer role);
- leader and ``system`` integrations read issued reports only (another one reads as missing: 404).

(DESIGN.md's ``supervisor`` role is not a role the kit's principals carry yet; it is left out.)
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.kit.errors import Forbidden
from services.reporting.models import SpecialReport
from services.reporting.reports.errors import ReportNotFound, SelfReview

WRITERS = ("city_admin",)
READERS = ("city_admin", "leader", "system")


def require_city_wide(principal: Principal, what: str) -> None:
    """403 unless the caller's scope is the whole city."""
    if not principal.city_wide:
        raise Forbidden(
            f"{what} concerns the whole city; your scope {principal.scope!r} is not the whole city",
            zh=f"此项涉及全市；您的管辖范围 {principal.scope!r} 不是全市",
            scope=principal.scope,
        )


def sees_drafts(principal: Principal) -> bool:
    """Whether the caller sees reports before they are issued."""
    return principal.has_role("city_admin")


def require_visible(principal: Principal, report: SpecialReport | None, report_id: int) -> SpecialReport:
    """The report, or 404 when missing or not yet issued for a reader who sees issued ones only."""
    if report is None or (report.status != "issued" and not sees_drafts(principal)):
        raise ReportNotFound(
            f"Special report {report_id} not found", zh=f"未找到专报 {report_id}", report_id=report_id
        )
    return report


def require_reviewer(principal: Principal, report: SpecialReport) -> None:
    """A city admin other than the author."""
    if principal.sub == report.author_id:
        raise SelfReview(
            f"Special report {report.id} was drafted by you: another city admin reviews it",
            zh=f"专报 {report.id} 由您起草，须由另一位市级管理员审核",
            report_id=report.id,
        )
