"""Who may deliver findings, and what a finding may claim.

Only the services' own principal (scoring's relay) may post findings: the route is ``internal()``.
A finding's site comes from scoring, which read it from sampling's directory; what is checked here
is that its org unit lies in the district it names.
"""

from __future__ import annotations

from services.kit import orgunit
from services.kit.errors import field_error
from services.rectification.errors import InvalidSchedule
from services.rectification.findings.schemas import SiteRef


def check_site(site: SiteRef, loc: list[str | int]) -> None:
    """A finding's site (from scoring) lies in the district it names."""
    district_unit = orgunit.district_unit(site.district)
    if not orgunit.covers(district_unit, site.org_unit):
        raise InvalidSchedule(
            f"Site org unit {site.org_unit} is not inside district {site.district}",
            zh=f"单位的组织单元 {site.org_unit} 不在区县 {site.district} 之内",
            errors=[
                field_error(
                    [*loc, "org_unit"], f"must lie inside {district_unit}", zh=f"须位于 {district_unit} 之内"
                )
            ],
        )
