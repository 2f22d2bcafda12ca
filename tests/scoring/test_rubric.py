"""The rubric document (rubric.py): the default's content and the checks a version must pass to publish."""

from services.scoring.rubric import default_definition, parse_definition, validate_definition


class TestDefaultRubric:
    def test_has_4_sections_and_42_items_each_section_100_points(self):
        rubric = parse_definition(default_definition())
        assert [(s.code, len(s.items), sum(i.points for i in s.items)) for s in rubric.sections] == [
            ("A", 10, 100),
            ("B", 10, 100),
            ("C", 14, 100),
            ("D", 8, 100),
        ]
        assert rubric.item_count() == 42
        assert validate_definition(rubric, base=[]) == []

    def test_titles_methods_and_special_items_match_the_design(self):
        rubric = parse_definition(default_definition())
        a09 = rubric.item("A09")
        assert (
            a09 is not None and a09.title == "村社换届准备与“一肩挑”人选排摸" and a09.methods == ["查", "谈"]
        )
        assert rubric.item("C13").title == "党员先锋模范作用（锋领行动）"
        d08 = rubric.item("D08")
        assert (d08.points, d08.scoring_type, d08.methods) == (20, "rate", ["问"])
        assert [i.code for s in rubric.sections for i in s.items if i.veto] == ["A10", "B10"]

    def test_section_weights_per_site_type(self):
        w = parse_definition(default_definition()).section_weights
        assert w["district"] == {"A": 100} and w["zone"] == {"A": 100}
        assert w["town"] == {"B": 60, "D": 40} and w["street"] == {"B": 60, "D": 40}
        assert w["village"] == {"C": 70, "D": 30} and w["community"] == {"C": 70, "D": 30}
        assert w["enterprise"] == w["social_org"] == w["institution"] == {"C": 100}


class TestValidateDefinition:
    def _errors(self, mutate):
        doc = default_definition()
        mutate(doc)
        return validate_definition(parse_definition(doc), base=["definition"])

    def test_section_not_summing_as_declared(self):
        errors = self._errors(lambda d: d["sections"][2]["items"][0].update(points=9))
        assert errors[0]["loc"] == ["definition", "sections", 2, "points"]

    def test_weights_not_summing_to_100(self):
        errors = self._errors(lambda d: d["section_weights"]["village"].update(C=60))
        assert errors[0]["loc"] == ["definition", "section_weights", "village"]

    def test_site_type_without_weights(self):
        errors = self._errors(lambda d: d["section_weights"].pop("institution"))
        assert errors[0]["loc"] == ["definition", "section_weights", "institution"]

    def test_duplicate_item_code(self):
        errors = self._errors(lambda d: d["sections"][1]["items"][0].update(code="A01"))
        assert errors[0]["loc"] == ["definition", "sections", 1, "items", 0, "code"]

    def test_unknown_scoring_type(self):
        errors = self._errors(lambda d: d["sections"][0]["items"][3].update(scoring_type="bonus"))
        assert errors[0]["loc"] == ["definition", "sections", 0, "items", 3, "scoring_type"]


DESIGN_SECTION_5 = """
A. 县级党委主体责任 (D) — A01 党建工作责任制与书记抓党建述职评议 [查谈] 10 · A02 常委会专题研究基层党建 [查] 10 ·
A03 领导班子成员包乡走村 [查访] 10 · A04 基层党建经费与村级组织运转经费保障 [核查] 10 ·
A05 专职党务工作者队伍与薪酬保障 [核谈] 10 · A06 村级组织活动场所建设提升 [看核] 10 ·
A07 党群服务中心体系建设 [看] 10 · A08 智慧党建平台应用 [看查] 10 ·
A09 村社换届准备与“一肩挑”人选排摸 [查谈] 10 · A10 上轮督查问题整改落实 [核] 10

B. 镇乡（街道）直接责任 (T) — B01 党（工）委书记第一责任人职责 [查谈] 10 · B02 党建办独立设置运行、不混岗 [看核] 10 ·
B03 专职党务工作者配备与日常管理 [核查] 10 · B04 街道“大工委”、社区“大党委”制度落实 [查谈] 10 ·
B05 资源力量下沉与经费投入 [核] 10 · B06 村社班子分析研判与后进支部整顿 [查] 10 ·
B07 党员发展与教育管理 [核] 10 · B08 两新组织与流动党员党建覆盖 [查] 10 ·
B09 重点工作中党员干部作为 [访谈] 10 · B10 党建原始台账规范真实 [核] 10

C. 基层党组织标准化规范化建设和领航作用 (V, N, I) — C01 组织设置规范与按期换届 [核] 8 · C02 支部班子结构与履职 [访谈] 7 ·
C03 “三会一课”固定化常态化 [核查] 8 · C04 主题党日活动 [核] 7 · C05 组织生活会与民主评议党员 [核] 7 ·
C06 党员发展质量与档案 [核] 7 · C07 党员教育管理与积分管理 [查] 7 · C08 党费收缴使用管理 [核] 6 ·
C09 组织活动场所与亮显工程 [看] 8 · C10 党务公开与制度上墙 [看] 6 · C11 党组织书记队伍建设 [谈] 7 ·
C12 党组织领航发展作用 [访] 8 · C13 党员先锋模范作用（锋领行动） [访看] 8 · C14 党员基础信息维护 [查] 6

D. 基层党建引领社会治理 (T, V) — D01 网格化党建 [看查] 12 · D02 矛盾纠纷排查化解 [访核] 12 ·
D03 党员联系服务群众（联户） [访] 12 · D04 党群服务中心功能发挥 [看访] 12 · D05 共建共治与在职党员进社区 [查] 12 ·
D06 志愿服务与应急动员 [访] 10 · D07 村（居）务监督与民主管理 [查] 10 · D08 党员群众满意度 [问] 20 (`rate`)
"""


class TestDefaultRubricMatchesDesign:
    def test_every_code_title_method_and_point_matches(self):
        import re

        expected = re.findall(r"([A-D]\d\d) (.+?) \[([看问访核查谈]+)\] (\d+)", DESIGN_SECTION_5)
        assert len(expected) == 42
        rubric = parse_definition(default_definition())
        got = [
            (i.code, i.title, "".join(i.methods), f"{i.points:g}") for s in rubric.sections for i in s.items
        ]
        assert got == [(c, t.strip(), m, p) for c, t, m, p in expected]
