"""Standing in a ranking: vetoed (一票否决) entries after every entry without a veto; every district listed,
incomplete ones marked (code and Chinese) and ranked after the complete ones, never dropped."""

from types import SimpleNamespace

from services.scoring.results.service import district_rows
from services.scoring.rubric import default_definition, parse_definition
from tests.scoring.conftest import ROUND, as_admin, filled_sheet, to_status

DEFINITION = parse_definition(default_definition())
VETO = {"A10": {"deductions": [], "veto_triggered": True}}
A01_MINUS_8 = {"A01": {"deductions": [{"points": 8, "reason": "述职评议流于形式"}]}}


async def districts(client) -> list[dict]:
    r = await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


class TestVeto:
    async def test_vetoed_site_and_district_rank_after_those_without_a_veto(self, client):
        # haishu's own sheet: full marks but A10 vetoed (score 100, grade 差); yinzhou's: 92, no veto.
        plan = [
            ("330203", VETO),
            ("330203001", {}),
            ("330212", A01_MINUS_8),
            ("330212001", {}),
        ]
        for code, overrides in plan:
            await to_status(client, await filled_sheet(client, code, overrides=overrides), "locked")
        sites = (
            await client.get(
                f"/rounds/{ROUND}/rankings/sites", params={"site_type": "district"}, headers=as_admin()
            )
        ).json()["items"]
        assert [(s["rank"], s["site"]["code"], s["score"], s["grade"], s["vetoed"]) for s in sites] == [
            (1, "330212", 92.0, "好", False),
            (2, "330203", 100.0, "差", True),
        ]
        rows = await districts(client)
        assert [(d["rank"], d["district"], d["vetoed"], d["complete"]) for d in rows] == [
            (1, "yinzhou", False, True),
            (2, "haishu", True, True),
        ]
        assert rows[1]["composite"] > rows[0]["composite"]
        assert rows[1]["own_sheets"][0]["veto_items"] == ["A10"]
        assert "一票否决" in rows[1]["explanation"]


class TestEveryDistrict:
    async def test_without_own_sheet_is_incomplete_and_ranked_after_complete(self, client):
        # yinzhou complete (92 / town 100 → 96.80); haishu only a street at 100, its own sheet a draft.
        for code, overrides in (("330212", A01_MINUS_8), ("330212001", {}), ("330203001", {})):
            await to_status(client, await filled_sheet(client, code, overrides=overrides), "locked")
        await filled_sheet(client, "330203")
        rows = await districts(client)
        assert [(d["rank"], d["district"], d["complete"], d["composite"]) for d in rows] == [
            (1, "yinzhou", True, 96.8),
            (2, "haishu", False, 100.0),
        ]
        assert rows[0]["missing"] == []
        assert rows[1]["missing"] == [
            {"code": "no_own_sheet", "message": "缺少区县（功能区）本级 A 板块评分表"}
        ]
        assert "不完整" in rows[1]["explanation"]
        csv_text = (
            await client.get(f"/rounds/{ROUND}/export.csv", params={"table": "districts"}, headers=as_admin())
        ).content.decode("utf-8-sig")
        header, _, haishu = csv_text.splitlines()[:3]
        assert "缺失说明" in header and "一票否决" in header
        assert "缺少区县（功能区）本级 A 板块评分表" in haishu and haishu.startswith("2,海曙区,haishu")

    async def test_district_with_no_counted_sheet_is_listed_unranked(self, client):
        for code in ("330212", "330212001"):
            await to_status(client, await filled_sheet(client, code), "locked")
        await to_status(client, await filled_sheet(client, "330203"), "submitted")
        rows = await districts(client)
        assert [(d["rank"], d["district"], d["complete"], d["composite"]) for d in rows] == [
            (1, "yinzhou", True, 100.0),
            (None, "haishu", False, None),
        ]
        assert [m["code"] for m in rows[1]["missing"]] == ["no_counted_sheet"]
        assert rows[1]["grade"] is None and rows[1]["grassroots_count"] == 0


def agg(district: str, site_type: str, n: int, cents: int) -> SimpleNamespace:
    return SimpleNamespace(district=district, site_type=site_type, status="locked", n=n, cents=cents)


def own(district: str, score: float, veto: list[str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        id=f"s-{district}",
        district=district,
        site_code=district,
        site_name=district,
        score=score,
        grade="好",
        status="locked",
        veto_items=veto or [],
    )


class TestStandingOrder:
    def test_no_veto_complete_then_incomplete_then_vetoed_then_unranked(self):
        aggregates = [agg(d, "town", 1, 9000) for d in ("a", "b", "c", "d", "e")] + [
            agg("f", "town", 1, 9900)
        ]
        own_rows = [own("a", 80), own("b", 80), own("c", 99, ["A10"]), own("d", 70), own("e", 99, ["B10"])]
        rows = district_rows(aggregates, own_rows, DEFINITION, ["a", "b", "c", "d", "e", "f", "g"])
        got = [(d["rank"], d["district"], d["complete"], d["vetoed"]) for d in rows]
        assert got == [
            (1, "a", True, False),  # 86.00, tied with b: one rank, listed by slug
            (1, "b", True, False),
            (3, "d", True, False),  # 82.00
            (4, "f", False, False),  # 99.00 on its grassroots alone: incomplete, after the complete
            (5, "c", True, True),  # 93.60, vetoed: after every district without a veto
            (5, "e", True, True),
            (None, "g", False, False),  # nothing counted: listed, unranked
        ]
        assert [m["code"] for m in rows[3]["missing"]] == ["no_own_sheet"]
        assert [m["code"] for m in rows[6]["missing"]] == ["no_counted_sheet"]

    def test_explanation_shows_the_unrounded_mean_its_sum_adds_up_to(self):
        # own 92; grassroots 88.03, 76.50, 81.00: mean 81.8433…; 36.8 + 49.106 = 85.906 → 85.91
        aggregates = [agg("x", "village", 3, 8803 + 7650 + 8100)]
        (row,) = district_rows(aggregates, [own("x", 92)], DEFINITION)
        assert row["composite"] == 85.91 and row["grassroots_mean"] == 81.84
        assert "60% × 81.8433…" in row["explanation"] and "= 85.91" in row["explanation"]
