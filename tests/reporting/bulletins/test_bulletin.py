"""The quarterly bulletin (党建争强通报): composed from the facts, and its three files."""

from __future__ import annotations

from services.reporting.bulletins import compose
from services.reporting.render.model import Heading, Paragraph, Table
from tests.reporting.conftest import ADMIN, LEADER, Harness
from tests.reporting.reports.conftest import DISTRICT_ADMIN, INSPECTOR
from tests.reporting.reports.data import NOW, FakeRenderers, round_facts

PREVIOUS = round_facts(code="2025Q4", ranks={"haishu": 2, "yinzhou": 3, "cixi": 1})


class TestDocument:
    def test_rankings_grades_overdue_units_and_practices(self) -> None:
        doc = compose.document(round_facts(), PREVIOUS, NOW, issuer_mark="中共宁波市委组织部")
        assert doc.title == "关于2026年第一季度基层党建专项督查党建争强情况的通报" and doc.landscape
        headings = [b.text for b in doc.blocks if isinstance(b, Heading)]
        assert headings[:2] == ["一、区县（市）综合排名", "二、基层党组织排名"]
        assert "（一）村（共4个）" in headings and "（二）社区（共2个）" in headings
        assert headings[-3:] == ["三、等次分布", "四、逾期未整改问题通报", "五、典型做法"]
        tables = [b for b in doc.blocks if isinstance(b, Table)]
        assert tables[0].rows[0] == ["1", "海曙区", "93.75", "好", "2", "↑1"]
        villages = tables[1]
        assert villages.rows[0] == ["1", "望春村", "海曙区", "96.50", "好"]
        assert tables[3].rows == [
            ["好", "2", "33.3%"],
            ["较好", "2", "33.3%"],
            ["一般", "1", "16.7%"],
            ["差", "1", "16.7%"],
        ]
        overdue = tables[4]
        assert [r[0] for r in overdue.rows] == ["天童村", "勤勇村"]
        assert overdue.rows[0][1:] == ["1", "三会一课记录不规范（天童村）", "5"]
        text = "".join(b.text for b in doc.blocks if isinstance(b, Paragraph))
        assert "共有2个责任单位的2个问题逾期未整改" in text
        assert "1. 海曙区望春村（村），得分96.50分。" in text

    def test_workbook_keeps_numbers_as_numbers(self) -> None:
        wb = compose.workbook(round_facts(), PREVIOUS, NOW)
        sheets = {s.name: s for s in wb.sheets}
        assert list(sheets) == ["区县排名", "基层单位排名", "等次分布", "逾期问题", "典型做法"]
        assert sheets["区县排名"].rows[0] == [1, "海曙区", 93.75, "好", 2, 2, 1]
        assert sheets["基层单位排名"].rows[0] == ["村", 1, "望春村", "海曙区", 96.5, "好"]
        assert sheets["逾期问题"].rows[0][-1] == 5


class TestRoutes:
    async def test_three_formats(self, reporting: Harness, fake: FakeRenderers) -> None:
        for fmt, media in (
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("pdf", "application/pdf"),
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ):
            r = await reporting.client.get(f"/rounds/2026Q1/bulletin.{fmt}", headers=LEADER)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == media
        assert fake.calls == ["docx", "pdf", "xlsx"]
        assert "党建争强情况的通报" in fake.documents[0].title

    async def test_409_until_published_and_404_unknown(self, reporting: Harness, fake: FakeRenderers) -> None:
        r = await reporting.client.get("/rounds/2026Q2/bulletin.docx", headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/round-not-published"
        assert (await reporting.client.get("/rounds/nope/bulletin.pdf", headers=ADMIN)).status_code == 404

    async def test_a_district_reads_the_published_bulletin_an_inspector_does_not(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        assert (
            await reporting.client.get("/rounds/2026Q1/bulletin.xlsx", headers=DISTRICT_ADMIN)
        ).status_code == 200
        assert (
            await reporting.client.get("/rounds/2026Q1/bulletin.xlsx", headers=INSPECTOR)
        ).status_code == 403

    async def test_a_failed_generation_is_a_problem_not_a_500(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        fake.fail = True
        r = await reporting.client.get("/rounds/2026Q1/bulletin.pdf", headers=ADMIN)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
