"""A district's problem list (问题清单): every counted problem, and who may read which district."""

from __future__ import annotations

from services.reporting.notices import compose
from tests.reporting.conftest import ADMIN, LEADER, Harness
from tests.reporting.reports.conftest import DISTRICT_ADMIN, DISTRICT_KEY, INSPECTOR
from tests.reporting.reports.data import NOW, FakeRenderers, round_facts


class TestCompose:
    def test_every_counted_problem_with_its_light(self) -> None:
        rows = compose.rows(round_facts(), "yinzhou", NOW)
        assert rows == [
            [
                "1",
                "天童村",
                "三会一课记录不规范",
                "天童村缺少近三个月的三会一课记录",
                "较重",
                "天童村",
                "李娜",
                "2026-03-29",
                "待整改",
                "逾期",
            ],
            [
                "2",
                "勤勇村",
                "三会一课记录不规范",
                "勤勇村缺少近三个月的三会一课记录",
                "较重",
                "勤勇村",
                "李娜",
                "2026-03-29",
                "整改中",
                "逾期",
            ],
        ]

    def test_withdrawn_problems_are_left_out_and_closed_ones_have_no_light(self) -> None:
        assert compose.rows(round_facts(), "cixi", NOW)[0][-1] == "绿灯"
        assert len(compose.rows(round_facts(), "cixi", NOW)) == 1  # the withdrawn one is not listed
        assert compose.rows(round_facts(), "haishu", NOW)[0][-2:] == ["已销号", "—"]

    def test_document_says_how_the_district_stands(self) -> None:
        doc = compose.document(round_facts(), "yinzhou", NOW, issuer_mark="中共宁波市委组织部")
        assert doc.title == "鄞州区2026年第一季度基层党建专项督查问题清单"
        assert doc.blocks[0].text.startswith("鄞州区在2026年第一季度基层党建专项督查中共被发现问题2个")  # type: ignore[union-attr]
        assert "逾期未整改2个" in doc.blocks[0].text  # type: ignore[union-attr]


class TestRoutes:
    async def test_city_roles_read_any_district(self, reporting: Harness, fake: FakeRenderers) -> None:
        for who in (ADMIN, LEADER):
            for fmt in ("docx", "xlsx"):
                r = await reporting.client.get(
                    f"/rounds/2026Q1/districts/cixi/problem-list.{fmt}", headers=who
                )
                assert r.status_code == 200, r.text

    async def test_a_district_admin_reads_only_their_own(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        r = await c.get("/rounds/2026Q1/districts/yinzhou/problem-list.xlsx", headers=DISTRICT_ADMIN)
        assert r.status_code == 200 and "天童村" in r.content.decode()
        for who in (DISTRICT_ADMIN, DISTRICT_KEY):
            r = await c.get("/rounds/2026Q1/districts/haishu/problem-list.docx", headers=who)
            assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        r = await c.get("/rounds/2026Q1/districts/yinzhou/problem-list.docx", headers=INSPECTOR)
        assert r.status_code == 403

    async def test_unknown_round_or_district_is_404(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        assert (
            await c.get("/rounds/nope/districts/cixi/problem-list.docx", headers=ADMIN)
        ).status_code == 404
        assert (
            await c.get("/rounds/2026Q1/districts/atlantis/problem-list.docx", headers=ADMIN)
        ).status_code == 404
        assert (
            await c.get("/rounds/2026Q1/districts/Bad!/problem-list.docx", headers=ADMIN)
        ).status_code == 422
