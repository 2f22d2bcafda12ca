"""What a list of problems is narrowed to, and who is looking: plain data, shared by the endpoints
(which fill a :class:`ProblemFilter` from the query), access.py (which decides the
:class:`Visibility`) and the repository (which turns both into SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.kit.auth import Principal

# What a problem list may be sorted by (``?sort=``); the repository maps each to its column.
SORT_FIELDS = ("id", "created_at", "deadline_at", "light_due_at", "district", "severity", "status")


@dataclass
class Visibility:
    """What one caller may see (decided in access.py): always inside its scope, then by role."""

    principal: Principal
    all_in_scope: bool = False
    own_person_id: str | None = None
    issued_by: str | None = None


@dataclass
class ProblemFilter:
    """What a list of problems is narrowed to; None means "any"."""

    district: str | None = None
    site_code: str | None = None
    category: str | None = None
    severity: str | None = None
    status: str | None = None
    responsible_person_id: str | None = None
    round_code: str | None = None
    sheet_id: str | None = None
    # True: only problems nobody is responsible for yet; False: only assigned ones.
    unassigned: bool | None = None
    # Text search over the item title, the description and the site's name and code.
    q: str | None = None
    light_range: tuple[datetime | None, datetime | None] | None = None
    # Who is looking; None only for the service's own internal queries.
    visible: Visibility | None = None
