"""Results: district composites and rankings, site rankings with ties, preview, problems by item, trend, exports."""

import csv
import io

import pytest
from openpyxl import load_workbook

from services.kit.testing import principal_headers
from tests.scoring.conftest import (
    ROUND,
    SITES,
    START,
    as_admin,
    as_district_admin,
    as_inspector,
    filled_sheet,
    outbox_rows,
    to_status,
)

FINDING = {
    "category": "党员管理",
    "severity": "general",
    "level": "unit",
    "concerns": "宁波某科技有限公司党支部",
}


async def build_round(client, *, round_code: str = ROUND) -> dict[str, dict]:
    """Yinzhou: district 92, town 100, village 94.4, enterprise 94 (locked), village 100 (reviewed only).
    Haishu: district 90, street 100, community 100 (locked)."""
    plan = [
        ("330212", {"A01": {"deductions": [{"points": 8, "reason": "述职评议流于形式"}]}}, "locked"),
        ("330212001", {}, "locked"),
        ("330212001201", {"C01": {"deductions": [{"points": 8, "reason": "未按期换届"}]}}, "locked"),
        (
            "91330212MA0001",
            {"C14": {"deductions": [{"points": 6, "reason": "党员信息未更新", "finding": FINDING}]}},
            "locked",
        ),
        ("330212001202", {}, "reviewed"),
        ("330203", {"A02": {"met": False}}, "locked"),
        ("330203001", {}, "locked"),
        ("330203001001", {}, "locked"),
    ]
    out = {}
    for code, overrides, status in plan:
        sheet = await filled_sheet(client, code, overrides=overrides, round_code=round_code)
        out[code] = await to_status(client, sheet, status)
    return out


@pytest.fixture(scope="module")
async def built(module_client, module_sampling, module_clock):
    """The round of build_round, built once for this module (reads only; extra data uses other rounds)."""
    module_sampling.drawn.clear()
    module_sampling.down = False
    for code in SITES:
        module_sampling.draw(code)
    module_clock.set(START)
    await build_round(module_client)
    return module_client


@pytest.fixture
def client(built):
    return built


class TestDistrictRankings:
    async def test_composite_rank_and_breakdown_from_locked_sheets(self, client):
        r = await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())
        assert r.status_code == 200
        body = r.json()
        assert body["preview"] is False and body["rubric_version"] == "2026.1"
        haishu, yinzhou = body["items"]
        # haishu: 40 % × 90 + 60 % × (100 + 100) / 2 = 96.00
        assert (haishu["rank"], haishu["district"], haishu["composite"], haishu["grade"]) == (
            1,
            "haishu",
            96.0,
            "好",
        )
        # yinzhou: 40 % × 92 + 60 % × (100 + 94.4 + 94) / 3 = 36.8 + 57.68 = 94.48
        assert (yinzhou["rank"], yinzhou["composite"], yinzhou["own_score"], yinzhou["grassroots_count"]) == (
            2,
            94.48,
            92.0,
            3,
        )
        assert yinzhou["grassroots_mean"] == 96.13
        assert yinzhou["grassroots_by_type"] == {
            "enterprise": {"count": 1, "mean": 94.0},
            "town": {"count": 1, "mean": 100.0},
            "village": {"count": 1, "mean": 94.4},
        }
        assert "40% × 92.00" in yinzhou["explanation"] and "= 94.48" in yinzhou["explanation"]
        assert yinzhou["preview_sheets"] == 0 and yinzhou["complete"]

    async def test_is_a_page_of_the_round(self, client):
        body = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()
        assert (body["round_code"], body["total"], body["limit"], body["offset"]) == (ROUND, 2, 50, 0)
        second = (
            await client.get(
                f"/rounds/{ROUND}/rankings/districts", params={"limit": 1, "offset": 1}, headers=as_admin()
            )
        ).json()
        assert [d["district"] for d in second["items"]] == ["yinzhou"] and second["items"][0]["rank"] == 2
        assert (second["total"], second["limit"], second["offset"]) == (2, 1, 1)

    async def test_unknown_query_parameter_is_refused_naming_it(self, client):
        r = await client.get(
            f"/rounds/{ROUND}/rankings/districts", params={"previw": "true"}, headers=as_admin()
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "previw"]

    async def test_preview_counts_reviewed_sheets_and_marks_them(self, client):
        body = (
            await client.get(
                f"/rounds/{ROUND}/rankings/districts", params={"preview": True}, headers=as_admin()
            )
        ).json()
        yinzhou = next(d for d in body["items"] if d["district"] == "yinzhou")
        # the reviewed village (100) joins: 36.8 + 60 % × (100 + 94.4 + 94 + 100) / 4 = 36.8 + 58.26 = 95.06
        assert (yinzhou["composite"], yinzhou["grassroots_count"], yinzhou["preview_sheets"]) == (95.06, 4, 1)
        assert body["preview"] is True

    async def test_preview_is_for_city_admin_only(self, client):
        r = await client.get(
            f"/rounds/{ROUND}/rankings/districts",
            params={"preview": True},
            headers=as_district_admin("yinzhou"),
        )
        assert r.status_code == 403

    async def test_district_admin_sees_own_row_and_inspector_none(self, client):
        body = (
            await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_district_admin("yinzhou"))
        ).json()
        assert [(d["district"], d["rank"]) for d in body["items"]] == [("yinzhou", 2)]
        assert (
            await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_inspector())
        ).status_code == 403

    async def test_round_without_sheets_has_empty_ranking(self, client):
        body = (await client.get("/rounds/2030Q1/rankings/districts", headers=as_admin())).json()
        assert body["items"] == [] and body["rubric_version"] is None


class TestSiteRankings:
    async def test_ties_share_a_rank(self, client, module_sampling):
        for code in ("330212001201", "330212001202"):
            module_sampling.draw(code, round_code="2026T1")
            await to_status(client, await filled_sheet(client, code, round_code="2026T1"), "locked")
        body = (
            await client.get(
                "/rounds/2026T1/rankings/sites", params={"site_type": "village"}, headers=as_admin()
            )
        ).json()
        assert [(s["rank"], s["site"]["code"], s["score"]) for s in body["items"]] == [
            (1, "330212001201", 100.0),
            (1, "330212001202", 100.0),
        ]
        assert body["items"][0]["sections"]["C"]["percent"] == 100.0

    async def test_only_locked_unless_preview(self, client):
        locked = (
            await client.get(
                f"/rounds/{ROUND}/rankings/sites", params={"site_type": "village"}, headers=as_admin()
            )
        ).json()
        assert [s["site"]["code"] for s in locked["items"]] == ["330212001201"]
        preview = (
            await client.get(
                f"/rounds/{ROUND}/rankings/sites",
                params={"site_type": "village", "preview": True},
                headers=as_admin(),
            )
        ).json()
        assert [(s["site"]["code"], s["rank"], s["preview"]) for s in preview["items"]] == [
            ("330212001202", 1, True),
            ("330212001201", 2, False),
        ]

    async def test_district_admin_sees_own_sites_with_their_citywide_rank(self, client):
        body = (
            await client.get(
                f"/rounds/{ROUND}/rankings/sites",
                params={"site_type": "district"},
                headers=as_district_admin("haishu"),
            )
        ).json()
        assert [(s["site"]["code"], s["rank"], s["score"]) for s in body["items"]] == [("330203", 2, 90.0)]
        assert body["total"] == 1

    async def test_pages(self, client):
        page = (
            await client.get(
                f"/rounds/{ROUND}/rankings/sites",
                params={"site_type": "district", "limit": 1, "offset": 1},
                headers=as_admin(),
            )
        ).json()
        assert page["total"] == 2 and [s["site"]["code"] for s in page["items"]] == ["330203"]

    async def test_unknown_site_type_is_422(self, client):
        r = await client.get(
            f"/rounds/{ROUND}/rankings/sites", params={"site_type": "farm"}, headers=as_admin()
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "site_type"]


class TestProblemsByItem:
    async def test_items_that_fail_most_come_first(self, client):
        body = (await client.get(f"/rounds/{ROUND}/problems/by-item", headers=as_admin())).json()
        first = body["items"][0]
        assert (
            first["item_code"],
            first["title"],
            first["findings"],
            first["deductions"],
            first["points_lost"],
        ) == ("C14", "党员基础信息维护", 1, 1, 6.0)
        by_code = {i["item_code"]: i for i in body["items"]}
        assert (
            by_code["C01"]["sheets"],
            by_code["C01"]["sheets_with_deductions"],
            by_code["C01"]["mean_points"],
        ) == (3, 1, 5.33)
        assert by_code["A02"]["points_lost"] == 10.0
        assert body["total"] == len(body["items"]) and (body["limit"], body["offset"]) == (50, 0)

    async def test_pages(self, client):
        whole = (await client.get(f"/rounds/{ROUND}/problems/by-item", headers=as_admin())).json()
        page = (
            await client.get(
                f"/rounds/{ROUND}/problems/by-item", params={"limit": 2, "offset": 1}, headers=as_admin()
            )
        ).json()
        assert page["items"] == whole["items"][1:3] and page["total"] == whole["total"]


class TestPublishAndTrend:
    async def test_publish_records_time_and_notifies(self, client, module_clock):
        clock = module_clock
        # one village is only reviewed: publishing takes the city admin's override
        r = await client.post(
            f"/rounds/{ROUND}/results/publish", json={"override_reason": "先行发布"}, headers=as_admin()
        )
        assert r.status_code == 201 and r.json()["locked_sheets"] == 7
        body = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()
        assert body["published_at"].startswith(clock.now().date().isoformat())
        assert (body["provisional"], body["published_version"]) == (True, 1)
        published = sorted(
            (e for e in await outbox_rows(client) if e["event_type"] == "scoring.results.published"),
            key=lambda e: (e["payload"]["district"] is None, e["payload"]["org_unit"]),
        )
        assert {e["target"] for e in published} == {"notify"}
        # one event per district with its own row, then one for the city with the whole ranking
        assert [e["payload"]["org_unit"] for e in published] == ["ningbo/haishu", "ningbo/yinzhou", "ningbo"]
        assert [[d["district"] for d in e["payload"]["districts"]] for e in published] == [
            ["haishu"],
            ["yinzhou"],
            ["haishu", "yinzhou"],
        ]

    async def test_nothing_to_publish_is_409(self, client):
        r = await client.post("/rounds/2030Q1/results/publish", headers=as_admin())
        assert r.status_code == 409 and r.json()["type"] == "/problems/nothing-to-publish"

    async def test_trend_across_rounds(self, client, module_sampling):
        for code in ("330203", "330203001"):
            module_sampling.draw(code, round_code="2025Q4")
            await to_status(
                client, await filled_sheet(client, code, round_code="2025Q4", grade="较好"), "locked"
            )
        body = (
            await client.get(
                "/trend",
                params={"district": "haishu"},
                headers=principal_headers(roles=["leader"], scope="ningbo"),
            )
        ).json()
        assert body["rounds"][0] == "2025Q4" and ROUND in body["rounds"]
        [haishu] = body["items"]
        assert [p["round_code"] for p in haishu["points"]] == ["2025Q4", ROUND]
        assert haishu["points"][1]["composite"] == 96.0
        assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)


class TestExports:
    async def test_csv_has_chinese_headers_and_plain_numbers(self, client):
        r = await client.get(f"/rounds/{ROUND}/export.csv", params={"table": "districts"}, headers=as_admin())
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        text = r.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        # The district's Chinese name (its own sheet's site name) beside its slug.
        assert rows[0][:5] == ["排名", "区县（功能区）", "区县代码", "综合得分", "等级"]
        assert rows[1][:5] == ["1", "海曙区", "haishu", "96.0", "好"]
        assert "\n2,鄞州区,yinzhou,94.48," in text.replace("\r\n", "\n")

    @pytest.mark.parametrize(("table", "first_header"), [("sites", "排名"), ("items", "细项编码")])
    async def test_other_csv_tables(self, client, table, first_header):
        r = await client.get(f"/rounds/{ROUND}/export.csv", params={"table": table}, headers=as_admin())
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][0] == first_header and len(rows) > 2

    async def test_xlsx_has_a_sheet_per_ranking_with_numeric_cells(self, client):
        r = await client.get(f"/rounds/{ROUND}/export.xlsx", headers=as_admin())
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        assert wb.sheetnames == [
            "区县排名",
            "区县市排名",
            "镇乡排名",
            "街道排名",
            "村排名",
            "社区排名",
            "非公企业排名",
            "细项问题统计",
        ]
        ws = wb["区县排名"]
        assert [c.value for c in ws[1]][:4] == ["排名", "区县（功能区）", "区县代码", "综合得分"]
        assert ws["A3"].value == 2 and ws["D3"].value == 94.48 and isinstance(ws["D3"].value, float)
        village = wb["村排名"]
        assert village["G2"].value == 94.4 and village["B2"].value == "330212001201"


class TestEveryAssignedDistrictIsListed:
    """The live ranking lists every district sampling assigned a site in, never silently leaving one out."""

    BEILUN_STREET = {
        "code": "330206001",
        "name": "新碶街道",
        "type": "street",
        "org_unit": "ningbo/beilun/330206001",
        "district": "beilun",
    }

    async def test_a_district_with_no_sheet_yet_comes_last_unranked(self, client, module_sampling):
        key = (ROUND, self.BEILUN_STREET["code"])
        module_sampling.drawn[key] = {
            **module_sampling.drawn[(ROUND, "330203001")],
            "site": self.BEILUN_STREET,
        }
        try:
            r = await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())
        finally:
            module_sampling.drawn.pop(key)
        body = r.json()
        assert r.status_code == 200 and body["all_districts"] is True
        assert [d["district"] for d in body["items"]] == ["haishu", "yinzhou", "beilun"]
        beilun = body["items"][-1]
        assert beilun["rank"] is None and beilun["composite"] is None and beilun["complete"] is False

    async def test_with_sampling_unreachable_it_answers_and_says_the_list_may_be_short(
        self, client, module_sampling
    ):
        module_sampling.down = True
        try:
            r = await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())
        finally:
            module_sampling.down = False
        assert r.status_code == 200 and r.json()["all_districts"] is False
        assert [d["district"] for d in r.json()["items"]] == ["haishu", "yinzhou"]
