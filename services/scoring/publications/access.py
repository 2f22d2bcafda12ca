"""Who may publish and read published results.

Publishing concerns the whole city (a city admin with a city-wide scope); it may override an
incomplete round. Published versions are read by the results' readers, each cut to their scope as the
live rankings are: a district admin sees its own district's rows (with their city-wide ranks), leaders
and city admins of the city everything. The canonical bytes hold every district, so only a caller whose
scope is the whole city may fetch them.
"""

from __future__ import annotations

from typing import Any

from services.kit.auth import Principal
from services.kit.errors import Forbidden
from services.scoring.results import access as results_access
from services.scoring.roles import CITY_ADMIN, RESULT_READERS, require_city_wide

READERS = RESULT_READERS
PUBLISHERS = (CITY_ADMIN,)


def require_publisher(principal: Principal) -> None:
    """Publishing a round concerns the whole city: a district-scoped admin may not."""
    require_city_wide(principal, "Publishing a round's results")


def require_whole_content(principal: Principal) -> None:
    """The canonical bytes hold every district's rows: for callers whose scope is the whole city."""
    if not principal.city_wide:
        raise Forbidden(
            "The canonical content holds every district; your scope "
            f"{principal.scope!r} is not the whole city (read the version itself for your rows)",
            zh=f"规范化内容包含全部区县；您的管辖范围 {principal.scope!r} 不是全市（请读取该版本本身以查看您范围内的行）",
            scope=principal.scope,
        )


def cut_to_scope(content: dict[str, Any], principal: Principal) -> tuple[dict[str, Any], bool]:
    """The content with only the districts and sites the caller's scope covers, and whether anything was cut.

    The coverage totals stay (they are counts, no other district's score).
    """
    if principal.city_wide:
        return content, False
    districts = [d for d in content["districts"] if results_access.covers_district(principal, d["district"])]
    sites = [s for s in content["sites"] if principal.covers(s["site"]["org_unit"])]
    coverage = {
        **content["coverage"],
        "districts": [
            d
            for d in content["coverage"]["districts"]
            if results_access.covers_district(principal, d["district"])
        ],
    }
    return {**content, "districts": districts, "sites": sites, "coverage": coverage}, True
