"""What the scope tests share: callers of every role and scope, and the two districts' locked sheets.

Every role (a district's `system` API key included) sees and changes only what its scope covers.
"""

import json
from typing import Any

from services.kit.testing import principal_headers
from tests.scoring.conftest import HAISHU_COMMUNITY, YINZHOU_VILLAGE, as_district_admin

__all__ = ["HAISHU_COMMUNITY", "YINZHOU_VILLAGE"]

# "yinzhou" has seven letters: an unescaped LIKE 'ningbo/_______/%' matched every Yinzhou sheet.
WILDCARD_SCOPE = "ningbo/_______"


def headers(role: str, scope: str, *, kind: str = "user") -> dict[str, str]:
    return principal_headers(roles=[role], scope=scope, sub=f"u-{role}-{scope}", kind=kind, ttl=3600)


def api_key(scope: str) -> dict[str, str]:
    """A `system` integration's API key scoped to `scope` (never the services' own principal)."""
    return headers("system", scope, kind="api_key")


# (who, headers factory, districts they may see)
CALLERS: list[tuple[str, Any, set[str]]] = [
    ("city_admin of the city", lambda: headers("city_admin", "ningbo"), {"yinzhou", "haishu"}),
    ("city_admin scoped to Haishu", lambda: headers("city_admin", "ningbo/haishu"), {"haishu"}),
    ("leader scoped to Haishu", lambda: headers("leader", "ningbo/haishu"), {"haishu"}),
    ("district_admin of Yinzhou", lambda: as_district_admin("yinzhou"), {"yinzhou"}),
    ("system key of the city", lambda: api_key("ningbo"), {"yinzhou", "haishu"}),
    ("system key of Yinzhou", lambda: api_key("ningbo/yinzhou"), {"yinzhou"}),
    ("district_admin with a wildcard scope", lambda: headers("district_admin", WILDCARD_SCOPE), set()),
    ("system key with a wildcard scope", lambda: api_key(WILDCARD_SCOPE), set()),
]
CALLER_IDS = [c[0] for c in CALLERS]


def district_of_sheet(built: dict[str, dict[str, Any]], sheet_id: str) -> str:
    return next(s["site"]["district"] for s in built.values() if s["id"] == sheet_id)


def without(body: dict[str, Any], value: str) -> str:
    """The problem body with the id asked for masked (and the per-request id left out)."""
    body = {k: v for k, v in body.items() if k != "request_id"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).replace(value, "<id>")
