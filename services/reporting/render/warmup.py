"""Pay the renderers' one-off costs at start-up, not in the first request.

The first PDF of a process loads Pango, HarfBuzz and the CJK fonts (about 1 s); the first chart
registers the font with matplotlib and may build its font cache (1-4 s). A service calls
:func:`warm_up` once in a worker thread while it starts (it raises FontUnavailable when the machine
has no CJK font, which a service may log as a warning and carry on: requests then get the 503).
"""

from __future__ import annotations

import time

from services.reporting.render import charts, pdf
from services.reporting.render.model import Chart, OfficialDocument, Series


def warm_up() -> dict[str, float]:
    """Render one tiny PDF and one tiny chart; returns how long each took, in seconds."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    pdf.render(OfficialDocument(title="预热"))
    timings["pdf"] = time.perf_counter() - start
    start = time.perf_counter()
    charts.render(
        Chart(kind="bar", title="预热", categories=["区"], series=[Series(name="值", values=[1])]), "png"
    )
    timings["chart"] = time.perf_counter() - start
    return timings
