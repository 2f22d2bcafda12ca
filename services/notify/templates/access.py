"""Who may read and save templates.

Reading templates and event types takes the ADMIN roles (see ``services.notify.scope``), checked by
``allow`` in the endpoints; saving one changes what the whole city receives, so it needs
``city_admin`` with a city-wide scope.
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.notify.scope import require_city_wide


def require_template_editor(principal: Principal) -> None:
    """403 unless the caller's scope is the whole city."""
    require_city_wide(principal, "Saving a template")
