"""The demo loader: issues the demo round's 专报 and sets the demo year's weights, once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.reporting import demo
from services.reporting.models import AssessmentWeights, SpecialReport
from tests.reporting.conftest import Harness
from tests.reporting.reports.data import NOW, FakeRenderers, round_facts, seed


async def test_issues_the_demo_report_and_sets_the_weights_once(reporting: Harness) -> None:
    await seed(reporting.app, round_facts(code=demo.DEMO_ROUND))
    fake = FakeRenderers()
    settings = reporting.app.state.settings
    first = await demo.run(settings, now=NOW, wait_seconds=0, renderers=fake.renderers())
    assert first == {"special_report": "issued as 甬组督〔2026〕1号", "weights": "set"}
    again = await demo.run(settings, now=NOW, wait_seconds=0, renderers=fake.renderers())
    assert again == {"special_report": "already issued as 甬组督〔2026〕1号", "weights": "already set"}
    async with reporting.app.state.sessionmaker() as s:
        [report] = (await s.execute(select(SpecialReport))).scalars().all()
        assert report.author_id == "u-admin" and report.reviewer_id == "u-admin-2"
        assert report.docx_sha256 and report.pdf_sha256
        assert (await s.get(AssessmentWeights, 2026)) is not None
    assert fake.calls.count("docx") == 1


async def test_waits_for_the_round_and_gives_up_for_the_next_start(reporting: Harness) -> None:
    with pytest.raises(TimeoutError):
        await demo.run(
            reporting.app.state.settings, now=NOW, wait_seconds=0, renderers=FakeRenderers().renderers()
        )
