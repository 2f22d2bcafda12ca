"""The arithmetic, checked against a hand calculation, and properties that must hold for any input."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring import calc
from services.scoring.rubric import default_definition, parse_definition

RUBRIC = parse_definition(default_definition())
D = Decimal

# The worked example of docs/scoring.md: a village (C 70 %, D 30 %).
VILLAGE_DATA = {
    "C01": {"deductions": [{"points": 2}]},
    "C02": {"grade": "较好"},
    "C03": {"deductions": [{"points": 1}, {"points": 0.5}]},
    "C04": {"deductions": []},
    "C05": {"deductions": []},
    "C06": {"deductions": []},
    "C07": {"deductions": []},
    "C08": {"deductions": []},
    "C09": {"grade": "好"},
    "C10": {"met": True},
    "C11": {"grade": "一般"},
    "C12": {"grade": "好"},
    "C13": {"grade": "较好"},
    "C14": {"deductions": [{"points": 1}]},
    "D01": {"grade": "较好"},
    "D02": {"deductions": [{"points": 3}]},
    "D03": {"grade": "好"},
    "D04": {"grade": "较好"},
    "D05": {"deductions": []},
    "D06": {"grade": "一般"},
    "D07": {"deductions": [{"points": 2}]},
    "D08": {},
}
VILLAGE_POLL = {
    "party_member": {"satisfied": 30, "basically_satisfied": 8, "dissatisfied": 2},
    "resident": {"satisfied": 45, "basically_satisfied": 10, "dissatisfied": 5},
}


def village_points() -> dict[str, Decimal | None]:
    rate = calc.poll_rate(VILLAGE_POLL, RUBRIC)
    out = {}
    for code, data in VILLAGE_DATA.items():
        it = RUBRIC.item(code)
        assert it is not None
        out[code] = calc.item_points(it, data, RUBRIC.graded_scale, rate)
    return out


class TestItemPoints:
    def test_deduction_starts_at_maximum_and_floors_at_zero(self):
        it = RUBRIC.item("C08")  # 6 points
        assert calc.item_points(it, {"deductions": [{"points": 2.5}]}, RUBRIC.graded_scale, None) == D("3.50")
        assert calc.item_points(
            it, {"deductions": [{"points": 5}, {"points": 5}]}, RUBRIC.graded_scale, None
        ) == D("0.00")

    def test_graded_gives_100_80_60_0_percent(self):
        it = RUBRIC.item("C02")  # 7 points
        got = [
            calc.item_points(it, {"grade": g}, RUBRIC.graded_scale, None)
            for g in ("好", "较好", "一般", "差")
        ]
        assert got == [D("7.00"), D("5.60"), D("4.20"), D("0.00")]

    def test_check_is_all_or_nothing(self):
        it = RUBRIC.item("A02")
        assert calc.item_points(it, {"met": True}, RUBRIC.graded_scale, None) == D(10)
        assert calc.item_points(it, {"met": False}, RUBRIC.graded_scale, None) == D(0)

    def test_satisfaction_poll_rate(self):
        # party members (30×100 + 8×80) / 4000 = 0.91; residents (45×100 + 10×80) / 6000 = 0.88333…
        rate = calc.poll_rate(VILLAGE_POLL, RUBRIC)
        assert rate is not None
        assert calc.r2(rate * 100) == D("89.67")
        assert calc.item_points(RUBRIC.item("D08"), {}, RUBRIC.graded_scale, rate) == D("17.93")

    def test_poll_without_answers_leaves_rate_item_unscored(self):
        assert (
            calc.poll_rate(
                {"party_member": {"satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0}}, RUBRIC
            )
            is None
        )

    def test_a_group_nobody_answered_drops_out(self):
        rate = calc.poll_rate(
            {"resident": {"satisfied": 1, "basically_satisfied": 1, "dissatisfied": 0}}, RUBRIC
        )
        assert rate == D("0.9")


class TestCheckItemScore:
    def test_deduction_above_item_maximum_names_the_field(self):
        errors = calc.check_item_score(
            RUBRIC.item("C08"), {"deductions": [{"points": 7}]}, RUBRIC.graded_scale, ["items", 0]
        )
        assert errors[0]["loc"] == ["items", 0, "deductions", 0, "points"]
        assert "maximum" in errors[0]["msg"]

    def test_negative_deduction_is_refused(self):
        errors = calc.check_item_score(
            RUBRIC.item("C08"), {"deductions": [{"points": -1}]}, RUBRIC.graded_scale, []
        )
        assert errors[0]["loc"] == ["deductions", 0, "points"]

    def test_grade_outside_scale_is_refused(self):
        errors = calc.check_item_score(RUBRIC.item("C02"), {"grade": "优秀"}, RUBRIC.graded_scale, [])
        assert errors[0]["loc"] == ["grade"]

    def test_value_of_another_scoring_type_is_refused(self):
        errors = calc.check_item_score(
            RUBRIC.item("C02"), {"grade": "好", "met": True}, RUBRIC.graded_scale, []
        )
        assert [e["loc"] for e in errors] == [["met"]]

    def test_rate_of_poll_item_cannot_be_typed_in(self):
        errors = calc.check_item_score(RUBRIC.item("D08"), {"rate": 1.0}, RUBRIC.graded_scale, [])
        assert errors[0]["loc"] == ["rate"]

    def test_veto_flag_only_on_veto_items(self):
        assert calc.check_item_score(
            RUBRIC.item("C01"), {"deductions": [], "veto_triggered": True}, RUBRIC.graded_scale, []
        )[0]["loc"] == ["veto_triggered"]
        assert (
            calc.check_item_score(
                RUBRIC.item("A10"), {"deductions": [], "veto_triggered": True}, RUBRIC.graded_scale, []
            )
            == []
        )


class TestSheetResult:
    def test_hand_computed_village(self):
        res = calc.sheet_result(RUBRIC, "village", village_points())
        c, d = res.sections
        # C: 6 + 5.6 + 6.5 + 7×4 + 6 + 8 + 6 + 4.2 + 8 + 6.4 + 5 = 89.70 of 100
        assert (c.code, c.points, c.max_points, c.weight) == ("C", D("89.70"), D(100), D(70))
        # D: 9.6 + 9 + 12 + 9.6 + 12 + 6 + 8 + 17.93 = 84.13 of 100
        assert (d.code, d.points, d.weight) == ("D", D("84.13"), D(30))
        # 70 % × 89.70 + 30 % × 84.13 = 62.79 + 25.239 = 88.029 → 88.03, 较好 (80 ≤ s < 90)
        assert res.score == D("88.03")
        assert res.grade == "较好"
        assert res.complete

    def test_veto_caps_grade_at_poor_and_keeps_score(self):
        points = {
            code: D(it.points) for code, it in ((i.code, i) for _, i in RUBRIC.applicable_items("district"))
        }
        res = calc.sheet_result(RUBRIC, "district", points, vetoed={"A10"})
        assert res.score == D("100.00")
        assert (res.grade_before_veto, res.grade, res.veto_items) == ("好", "差", ["A10"])

    def test_score_is_none_until_every_item_is_scored(self):
        points = village_points()
        points["C05"] = None
        res = calc.sheet_result(RUBRIC, "village", points)
        assert res.score is None and res.grade is None and not res.complete
        assert (res.scored_items, res.items) == (21, 22)

    def test_only_applicable_items_count(self):
        # an enterprise is scored on section C alone; D items given anyway change nothing
        points = {code: p for code, p in village_points().items()}
        res = calc.sheet_result(RUBRIC, "enterprise", points)
        assert [s.code for s in res.sections] == ["C"]
        assert res.score == D("89.70")


class TestComposite:
    def test_hand_computed_district_composite(self):
        # 40 % × 92 + 60 % × (88.03 + 76.50 + 81.00) / 3 = 36.8 + 49.106 = 85.906 → 85.91
        res = calc.composite(D("92"), [D("88.03"), D("76.50"), D("81.00")], RUBRIC)
        assert res.grassroots_mean == D("81.84")
        assert res.composite == D("85.91")
        assert res.complete
        assert calc.grade_for(res.composite, RUBRIC) == "较好"

    def test_missing_own_sheet_gives_grassroots_all_weight(self):
        res = calc.composite(None, [D("80"), D("70")], RUBRIC)
        assert res.composite == D("75.00") and not res.complete

    def test_grade_band_edges(self):
        assert [calc.grade_for(D(x), RUBRIC) for x in ("90", "89.99", "80", "60", "59.99", "0")] == [
            "好",
            "较好",
            "较好",
            "一般",
            "差",
            "差",
        ]


class TestCompetitionRanks:
    def test_ties_share_a_rank_and_the_next_is_skipped(self):
        assert calc.competition_ranks([D(90), D(85), D(85), D(80), None]) == [1, 2, 2, 4, None]


SITE_TYPES_WITH_ITEMS = ["district", "town", "village", "enterprise", "institution"]


@st.composite
def item_scores(draw):
    site_type = draw(st.sampled_from(SITE_TYPES_WITH_ITEMS))
    poll = {
        g: {a: draw(st.integers(0, 500)) for a in ("satisfied", "basically_satisfied", "dissatisfied")}
        for g in ("party_member", "resident")
    }
    poll["resident"]["satisfied"] += 1
    rate = calc.poll_rate(poll, RUBRIC)
    points = {}
    vetoed = set()
    for _, it in RUBRIC.applicable_items(site_type):
        if it.scoring_type == "deduction":
            data = {
                "deductions": [
                    {"points": p}
                    for p in draw(st.lists(st.decimals(D("0.01"), D(it.points), places=2), max_size=6))
                ]
            }
        elif it.scoring_type == "graded":
            data = {"grade": draw(st.sampled_from(list(RUBRIC.graded_scale)))}
        elif it.scoring_type == "check":
            data = {"met": draw(st.booleans())}
        else:
            data = {}
        if it.veto and draw(st.booleans()):
            data["veto_triggered"] = True
            vetoed.add(it.code)
        assert calc.check_item_score(it, data, RUBRIC.graded_scale, []) == []
        points[it.code] = calc.item_points(it, data, RUBRIC.graded_scale, rate)
    return site_type, points, vetoed


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(item_scores())
    def test_score_stays_within_0_and_100(self, case):
        site_type, points, vetoed = case
        res = calc.sheet_result(RUBRIC, site_type, points, vetoed)
        assert res.score is not None
        assert D(0) <= res.score <= D(100)
        for s in res.sections:
            assert D(0) <= s.points <= s.max_points
        if vetoed:
            assert res.grade == "差"

    @settings(max_examples=100, deadline=None)
    @given(st.decimals(D(0), D(100), places=2), st.lists(st.decimals(D(0), D(100), places=2), max_size=30))
    def test_composite_stays_within_its_parts(self, own, grassroots):
        res = calc.composite(own, grassroots, RUBRIC)
        assert res.composite is not None
        low = min([own, *grassroots])
        high = max([own, *grassroots])
        assert low - D("0.01") <= res.composite <= high + D("0.01")


class TestRoundedOnce:
    """The score is rounded once, at the end: no item (D08) is rounded before it is added up."""

    # Party members 7 满意 / 4 基本满意, no residents answered: rate = (700 + 320) / 1100 = 0.92727…,
    # D08 = 20 × 0.92727… = 18.5454…, D = 66.2 + 18.5454… = 84.7454…,
    # score = 70 % × 89.70 + 30 % × 84.7454… = 62.79 + 25.42363… = 88.21363… → 88.21.
    # Rounding D08 first (18.55) gave 62.79 + 25.425 = 88.215 → 88.22, one cent off.
    POLL = {
        "party_member": {"satisfied": 7, "basically_satisfied": 4, "dissatisfied": 0},
        "resident": {"satisfied": 0, "basically_satisfied": 0, "dissatisfied": 0},
    }

    def exact_points(self) -> dict[str, Decimal | None]:
        rate = calc.poll_rate(self.POLL, RUBRIC)
        out: dict[str, Decimal | None] = {}
        for code, data in VILLAGE_DATA.items():
            it = RUBRIC.item(code)
            assert it is not None
            out[code] = calc.item_points(it, data, RUBRIC.graded_scale, rate, exact=True)
        return out

    def test_hand_computed_score_rounds_once(self):
        points = self.exact_points()
        assert calc.r2(points["D08"] or D(0)) == D("18.55")  # shown on the item, rounded
        res = calc.sheet_result(RUBRIC, "village", points)
        assert res.score == D("88.21")
        assert {s.code: s.points for s in res.sections} == {"C": D("89.70"), "D": D("84.75")}

    def test_exact_points_are_unrounded_and_round_to_the_shown_ones(self):
        rate = calc.poll_rate(self.POLL, RUBRIC)
        d08 = RUBRIC.item("D08")
        assert d08 is not None
        exact = calc.item_points(d08, {}, RUBRIC.graded_scale, rate, exact=True)
        assert exact is not None and exact != calc.r2(exact)
        assert calc.item_points(d08, {}, RUBRIC.graded_scale, rate) == calc.r2(exact)


class TestNotApplicable:
    """An item marked 不适用 at a site leaves the denominator, as an item of another site type does."""

    def test_item_leaves_its_section_maximum(self):
        # The worked village with C14 (6 points, scored 5) not applicable: C = 84.70 / 94 = 90.1064 %,
        # score = 70 % × 90.1064 + 30 % × 84.1333 = 63.0745 + 25.24 = 88.3145 → 88.31 (was 88.03).
        points = village_points()
        res = calc.sheet_result(RUBRIC, "village", points, not_applicable={"C14"})
        c, d = res.sections
        assert (c.points, c.max_points, c.percent, c.items) == (D("84.70"), D(94), D("90.11"), 13)
        assert d.percent == D("84.13")
        assert res.score == D("88.31") and res.complete

    def test_unscored_not_applicable_item_does_not_hold_the_score_back(self):
        points = {**village_points(), "C14": None}
        assert calc.sheet_result(RUBRIC, "village", points).score is None
        assert calc.sheet_result(RUBRIC, "village", points, not_applicable={"C14"}).score == D("88.31")

    def test_section_with_no_item_left_drops_out_and_weights_rescale(self):
        d_items = {it.code for s, it in RUBRIC.applicable_items("village") if s.code == "D"}
        res = calc.sheet_result(RUBRIC, "village", village_points(), not_applicable=d_items)
        assert [s.code for s in res.sections] == ["C"]
        assert res.score == D("89.70")  # C alone carries 100 %
