"""The annual assessment: weights (validated, defaults said so), scores explained line by line."""

from __future__ import annotations

from services.reporting.assessments import compose
from services.reporting.assessments.schemas import DEFAULT_WEIGHTS, WeightsRead
from tests.reporting.conftest import ADMIN, LEADER, Harness
from tests.reporting.reports.conftest import DISTRICT_ADMIN
from tests.reporting.reports.data import NOW, FakeRenderers, round_facts

DEFAULTS = WeightsRead(year=2026, defaults=True, set_by=None, set_at=None, **DEFAULT_WEIGHTS.model_dump())


class TestAssess:
    def test_quarterly_mean_rates_deductions_score_and_grade_explained(self) -> None:
        q1 = round_facts()
        q2 = round_facts(code="2026Q2", quarter=2, ranks={"haishu": 2, "yinzhou": 1, "cixi": 3})
        a = compose.assess(2026, [q1, q2], DEFAULTS, NOW)
        assert a.note == "本年度未设置考核权重，按默认权重计算"
        by = {d.district: d for d in a.districts}
        hs = by["haishu"]
        # Q1 93.75, Q2 85.00 → mean 89.38; haishu's problems: 2 closed on time → 100 %.
        assert [q.composite for q in hs.quarters] == [93.75, 85.0]
        assert hs.explanation == [
            "季度综合得分：2026年第一季度基层党建专项督查 93.75、2026年第二季度基层党建专项督查 85.00",
            "季度综合得分均值 89.38 × 60% = 53.63",
            "整改率 100.0% × 25% = 25.00",
            "按期整改率 100.0% × 15% = 15.00",
            "逾期问题 0 个 × 0.5 = −0.00",
            "一票否决 0 项 × 5 = −0.00",
            "年度得分 = 53.63 + 25.00 + 15.00 − 0.00 − 0.00 = 93.63，等次：好",
        ]
        assert hs.score == 93.63 and hs.grade == "好" and hs.rank == 1
        cx = by["cixi"]
        # Two vetoes (one per round), no overdue; its one problem per round is open and not yet due.
        assert cx.vetoes == 2 and cx.rectification.overdue == 0
        assert "整改率 0.0% × 25% = 0.00" in cx.explanation
        assert "按期整改率 100.0%（无应计问题，按100%计） × 15% = 15.00" in cx.explanation
        assert "一票否决 2 项 × 5 = −10.00" in cx.explanation
        yz = by["yinzhou"]
        assert yz.rectification.overdue == 4 and "逾期问题 4 个 × 0.5 = −2.00" in yz.explanation

    def test_a_district_without_composites_has_no_score(self) -> None:
        q1 = round_facts()
        rows = [
            r.model_copy(update={"composite": None, "rank": None}) if r.district == "cixi" else r
            for r in q1.results.districts
        ]  # type: ignore[union-attr]
        q1 = q1.model_copy(update={"results": q1.results.model_copy(update={"districts": rows})})  # type: ignore[union-attr]
        cx = next(d for d in compose.assess(2026, [q1], DEFAULTS, NOW).districts if d.district == "cixi")
        assert (
            cx.score is None
            and cx.rank is None
            and cx.explanation == ["本年度暂无已发布的季度综合得分，不计算年度得分"]
        )

    def test_grades(self) -> None:
        assert [compose.grade_of(s) for s in (90, 89.99, 80, 60, 59.99)] == [
            "好",
            "较好",
            "较好",
            "一般",
            "差",
        ]


class TestRoutes:
    async def test_defaults_then_weights_set_by_a_city_admin(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        r = await c.get("/years/2026/assessment", headers=LEADER)
        assert r.status_code == 200, r.text
        assert (
            r.json()["weights"]["defaults"] is True
            and r.json()["note"] == "本年度未设置考核权重，按默认权重计算"
        )
        weights = {
            "composite_weight": 70,
            "rectification_weight": 20,
            "on_time_weight": 10,
            "overdue_deduction": 1,
            "veto_deduction": 3,
        }
        r = await c.put("/years/2026/assessment/weights", headers=ADMIN, json=weights)
        assert r.status_code == 200 and r.json()["defaults"] is False and r.json()["set_by"] == "u-admin"
        body = (await c.get("/years/2026/assessment", headers=ADMIN)).json()
        assert body["note"] == "按2026年度设定的考核权重计算" and body["weights"]["composite_weight"] == 70
        hs = next(d for d in body["districts"] if d["district"] == "haishu")
        assert "季度综合得分均值 93.75 × 70% = 65.63" in hs["explanation"]
        assert [q["round_code"] for q in body["rounds"]] == ["2026Q1"]  # 2026Q2 is not published

    async def test_weights_not_summing_to_100_are_422_naming_the_fields(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        bad = {
            "composite_weight": 60,
            "rectification_weight": 30,
            "on_time_weight": 15,
            "overdue_deduction": 1,
            "veto_deduction": 3,
        }
        r = await reporting.client.put("/years/2026/assessment/weights", headers=ADMIN, json=bad)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert ["body", "on_time_weight"] in [e["loc"] for e in r.json()["errors"]]
        r = await reporting.client.put(
            "/years/2026/assessment/weights", headers=ADMIN, json={**bad, "on_time_weight": -5}
        )
        assert r.status_code == 422
        r = await reporting.client.put("/years/2026/assessment/weights", headers=LEADER, json=bad)
        assert r.status_code == 403

    async def test_files_and_scope(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        assert (await c.get("/years/2026/assessment.xlsx", headers=ADMIN)).status_code == 200
        assert (await c.get("/years/2026/assessment.pdf", headers=ADMIN)).status_code == 200
        assert (
            fake.calls == ["xlsx", "pdf"]
            and fake.documents[0].title == "2026年度各区县（市）党建工作考核结果"
        )
        assert (await c.get("/years/2026/assessment", headers=DISTRICT_ADMIN)).status_code == 403

    async def test_a_year_without_published_rounds_is_409(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        r = await reporting.client.get("/years/2024/assessment", headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/year-not-published"
