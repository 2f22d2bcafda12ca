"""Who may see and change rubric versions: every reader sees them; a city-wide city admin changes them."""

from __future__ import annotations

from services.kit.auth import Principal
from services.scoring.roles import ANY_READER, CITY_ADMIN, require_city_wide

READERS = ANY_READER
EDITORS = (CITY_ADMIN,)


def require_editor(principal: Principal, action: str) -> None:
    """A rubric concerns the whole city: an admin scoped to one district may not change it."""
    require_city_wide(principal, action)
