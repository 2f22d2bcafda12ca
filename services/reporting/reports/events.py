"""The event reporting sends: a 专报 was issued (to notify, through reporting's outbox).

Its schema is services/kit/events/schemas/reporting.special_report.issued.v1.json; notify's built-in
template for it is in services/notify/events.py.
"""

from __future__ import annotations

from typing import Any

from services.kit import orgunit
from services.kit.workdays import local_date
from services.reporting.models import SpecialReport

SPECIAL_REPORT_ISSUED = "reporting.special_report.issued"
TARGET = "notify"
PATH = "/events"
# The relay sends notify's events in batches, as the other services do.
BATCH_PATHS = {(TARGET, PATH): "/events/batch"}


def report_link(base_url: str, report_id: int | None) -> str:
    """The issued 专报's PDF at the gateway."""
    return f"{base_url.rstrip('/')}/special-reports/{report_id}/document.pdf"


def special_report_issued(report: SpecialReport, *, round_name: str, base_url: str) -> dict[str, Any]:
    """The city's leaders and city admins hear that the 专报 was issued."""
    assert report.issued_at is not None and report.doc_number is not None
    city = orgunit.city_root()
    return {
        "recipients": [
            {"kind": "role", "role": "leader", "org_unit": city},
            {"kind": "role", "role": "city_admin", "org_unit": city},
        ],
        "priority": "normal",
        "org_unit": city,
        "district": None,
        "report_id": report.id,
        "title": report.title,
        "doc_number": report.doc_number,
        "round_code": report.round_code,
        "round_name": round_name,
        "issued_at": report.issued_at.isoformat(),
        "issued_on": local_date(report.issued_at).isoformat(),
        "link": report_link(base_url, report.id),
    }
