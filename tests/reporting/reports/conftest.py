from __future__ import annotations

import pytest

from services.kit.testing import SignedHeaders
from tests.reporting.conftest import Harness
from tests.reporting.reports.data import NOW, FakeRenderers, round_facts, seed

ADMIN2 = SignedHeaders(roles=["city_admin"], scope="ningbo", sub="u-admin-2")
DISTRICT_ADMIN = SignedHeaders(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yz-admin")
CITY_KEY = SignedHeaders(roles=["system"], scope="ningbo", sub="key-oa", kind="api_key")
DISTRICT_KEY = SignedHeaders(roles=["system"], scope="ningbo/yinzhou", sub="key-yz", kind="api_key")
INSPECTOR = SignedHeaders(roles=["inspector"], scope="ningbo", sub="u-insp")


@pytest.fixture
async def fake(reporting: Harness) -> FakeRenderers:
    """The app with two rounds in its read model (2025Q4 before 2026Q1), rendering with fakes."""
    fake = FakeRenderers()
    reporting.app.state.renderers = fake.renderers()
    reporting.clock.set(NOW)
    await seed(
        reporting.app,
        round_facts(code="2025Q4", quarter=4, ranks={"haishu": 2, "yinzhou": 3, "cixi": 1}).model_copy(
            update={"year": 2025, "name": "2025年第四季度基层党建专项督查"}
        ),
        round_facts(),
        round_facts(code="2026Q2", quarter=2, published=False),
    )
    return fake
