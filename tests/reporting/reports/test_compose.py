"""The 专报 composed from a round's facts: its Chinese text, its numbers, its layout."""

from __future__ import annotations

from services.reporting.render.model import Heading, Image, Paragraph, Table
from services.reporting.reports import compose
from tests.reporting.reports.data import NOW, round_facts


def _text(sections: list[compose.Section]) -> dict[str, str]:
    return {s.key: "".join(s.paragraphs) for s in sections}


class TestDraftSections:
    def test_seven_sections_in_order_with_their_chinese_headings(self) -> None:
        sections = compose.draft_sections(round_facts(), None, NOW)
        assert [s.heading for s in sections] == [
            "一、基本情况",
            "二、督查覆盖",
            "三、督查结果",
            "四、典型经验",
            "五、主要问题",
            "六、整改进展",
            "七、下一步工作",
        ]
        assert all(s.paragraphs for s in sections)

    def test_overview_counts_the_sites_and_grades(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["overview"]
        assert "共抽取督查点位6个，涉及3个区县（市）" in text
        assert "已锁定评分表6份，平均得分82.67分（最高96.50分，最低58.00分）" in text
        assert "“好”的2个、“较好”的2个、“一般”的1个、“差”的1个，涉及一票否决的1个。" in text

    def test_results_give_the_ranking_and_its_change_against_the_previous_round(self) -> None:
        previous = round_facts(code="2025Q4", ranks={"haishu": 2, "yinzhou": 3, "cixi": 1})
        text = _text(compose.draft_sections(round_facts(), previous, NOW))["results"]
        assert "排名前三位的是海曙区（93.75分）、鄞州区（81.25分）、慈溪市（73.00分）" in text
        assert "上升的有海曙区（上升1位）、鄞州区（上升1位）；下降的有慈溪市（下降2位）" in text

    def test_without_a_previous_round_no_change_is_claimed(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["results"]
        assert "上一轮" not in text

    def test_good_practices_cite_only_well_graded_sites(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["practices"]
        assert "1. 海曙区望春村（村），督查得分96.50分，评定为“好”。" in text
        assert "勤勇村" not in text and "龙山村" not in text  # 一般, and 差 with a veto

    def test_common_problems_with_counts_shares_and_examples(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["problems"]
        assert "1. 三会一课记录不规范。共5个点位在该项被扣分，占已评点位的83.3%，累计扣10.00分。" in text
        assert "如慈溪市浒山社区：缺少近三个月会议记录" in text
        assert "2. 党员活动阵地不达标。共2个点位" in text

    def test_rectification_rates_and_overdue_by_district_and_unit(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["rectification"]
        # Withdrawn problems are not counted: 4 problems, 1 closed, 3 due of which 1 on time, 2 overdue.
        assert "共交办问题4个，已整改销号1个，整改率25.0%" in text
        assert "按期整改率33.3%；逾期未整改2个。" in text
        assert "逾期问题分布在鄞州区（2个）。" in text
        assert "天童村（1个）、勤勇村（1个）" in text

    def test_next_steps_are_a_default_text_to_edit(self) -> None:
        text = _text(compose.draft_sections(round_facts(), None, NOW))["next_steps"]
        assert text.startswith("一是抓好问题整改。")


class TestDraftTables:
    def test_ranking_table_with_change(self) -> None:
        previous = round_facts(code="2025Q4", ranks={"haishu": 2, "yinzhou": 3, "cixi": 1})
        tables = {t["after"]: t["table"] for t in compose.draft_tables(round_facts(), previous, NOW)}
        ranking = tables["results"]
        assert ranking["columns"] == ["排名", "区县（市）", "综合得分", "等次", "较上轮变化"]
        assert ranking["rows"][0] == ["1", "海曙区", "93.75", "好", "↑1"]
        assert ranking["rows"][2] == ["3", "慈溪市", "73.00", "一般", "↓2"]
        assert tables["rectification"]["rows"] == [
            ["慈溪市", "1", "0", "0.0%", "—", "0"],
            ["海曙区", "1", "1", "100.0%", "100.0%", "0"],
            ["鄞州区", "2", "0", "0.0%", "0.0%", "2"],
        ]


class TestDocument:
    def test_sections_then_their_chart_and_tables_as_an_official_document(self) -> None:
        facts = round_facts()
        doc = compose.document(
            title=compose.default_title(facts),
            sections=compose.draft_sections(facts, None, NOW),
            tables=compose.draft_tables(facts, None, NOW),
            charts=[("results", "图1 各区县（市）综合得分", b"png")],
            issuer_mark="中共宁波市委组织部",
            addressee="市委、市政府领导：",
            doc_number="甬组督〔2026〕3号",
            dated=NOW.date(),
            draft=False,
        )
        assert doc.title == "关于2026年第一季度基层党建专项督查情况的专报"
        assert doc.doc_number == "甬组督〔2026〕3号" and not doc.draft
        kinds = [(type(b).__name__, getattr(b, "text", None)) for b in doc.blocks]
        i = kinds.index(("Heading", "三、督查结果"))
        after = doc.blocks[i + 1 :]
        first_other = next(j for j, b in enumerate(after) if not isinstance(b, Paragraph))
        assert (
            isinstance(after[first_other], Image) and after[first_other].caption == "图1 各区县（市）综合得分"
        )
        assert isinstance(after[first_other + 1], Table)
        assert sum(isinstance(b, Heading) for b in doc.blocks) == 7

    def test_charts_are_drafted_from_the_ranking(self) -> None:
        [chart] = compose.draft_charts(round_facts(), None)
        assert chart["after"] == "results"
        assert chart["chart"]["categories"] == ["海曙区", "鄞州区", "慈溪市"]
        assert chart["chart"]["series"][0]["values"] == [93.75, 81.25, 73.0]
