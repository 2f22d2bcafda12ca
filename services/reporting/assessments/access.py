"""Who sees the annual assessment: it ranks the districts against each other, so city-wide callers
only (city admins, leaders, ``system`` integrations); only a city admin sets a year's weights."""

from __future__ import annotations

READERS = ("city_admin", "leader", "system")
WRITERS = ("city_admin",)
