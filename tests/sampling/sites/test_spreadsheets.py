"""Imports of the spreadsheets people have: GBK CSVs, Chinese headers and labels, our own exports."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.sampling.conftest import ADMIN, city_rows, import_json, inspector_rows

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a district office types into Excel on Chinese Windows and saves as "CSV (逗号分隔)".
CHINESE_CSV = (
    "编码,类型,名称,上级编码,区县,启用,标签\n"
    "330212,区县市,鄞州区,,yinzhou,是,\n"
    "330212001,镇,东吴镇,330212,,是,\n"
    "330212001201,村,三塘村,330212001,,是,山区；重点\n"
    "330212001202,社区,天童社区,330212001,,否,\n"
    "330212001E1,非公企业,东吴科技,330212001,,是,\n"
)


async def _post(client, path: str, data: bytes, content_type: str = CSV, **params):
    return await client.post(
        path, params=params, content=data, headers={**ADMIN, "content-type": content_type}
    )


async def _count(client) -> int:
    return int((await client.get("/sites", params={"limit": 1}, headers=ADMIN)).json()["total"])


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class TestEncodings:
    @pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
    async def test_a_chinese_csv_imports_in_every_encoding_excel_writes(self, client, encoding):
        r = await _post(client, "/sites/import", CHINESE_CSV.encode(encoding))
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["errors"]) == (5, [])
        site = (await client.get("/sites/by-code/330212001201", headers=ADMIN)).json()
        assert (site["name"], site["type"], site["tags"]) == ("三塘村", "village", ["山区", "重点"])
        community = (await client.get("/sites/by-code/330212001202", headers=ADMIN)).json()
        assert (community["type"], community["active"]) == ("community", False)

    async def test_a_gbk_file_sent_as_multipart_imports(self, client):
        files = {"file": ("名录.csv", CHINESE_CSV.encode("gbk"), "text/csv")}
        r = await client.post("/sites/import", files=files, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 5


class TestNotText:
    async def test_an_image_sent_as_csv_is_a_415_and_writes_nothing(self, client):
        r = await _post(client, "/sites/import", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
        assert r.status_code == 415
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/unsupported-media-type"
        assert "PNG" in r.json()["detail"]
        assert await _count(client) == 0

    async def test_a_workbook_sent_as_csv_says_to_send_it_as_xlsx(self, client):
        r = await _post(client, "/inspectors/import", _xlsx([["user_id"]]))
        assert r.status_code == 415
        assert "format=xlsx" in r.json()["detail"]

    async def test_a_csv_sent_as_xlsx_is_an_unreadable_file(self, client):
        r = await _post(client, "/sites/import", CHINESE_CSV.encode(), XLSX)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unreadable-file"


class TestHeaders:
    async def test_unknown_headers_are_one_clear_problem_not_a_missing_code_on_every_row(self, client):
        text = "单位,种类,名字\n330212,区县市,鄞州区\n330212001,镇,东吴镇\n"
        r = await _post(client, "/sites/import", text.encode("gbk"))
        assert r.status_code == 422
        problem = r.json()
        assert problem["type"] == "/problems/unreadable-file"
        assert "编码（code）、类型（type）、名称（name）" in problem["detail"]
        assert "单位、种类、名字" in problem["detail"]

    async def test_an_xlsx_with_chinese_headers_imports(self, client):
        data = _xlsx(
            [
                ["编码", "名称", "类型", "上级", "区县（功能区）"],
                ["330212", "鄞州区", "区县", None, "yinzhou"],
                ["330212001", "东吴镇", "镇", "330212", None],
                ["330212001201", "三塘村", "村", "330212001", None],
            ]
        )
        r = await _post(client, "/sites/import", data, XLSX)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 3


class TestRowErrors:
    async def test_bad_rows_are_reported_in_chinese_with_loc_and_type(self, client):
        text = CHINESE_CSV + "330212009001,村,新村,330212009,,是,\n330212001301,农场,某农场,330212001,,是,\n"
        r = await _post(client, "/sites/import", text.encode("gbk"))
        assert r.status_code == 422
        problem = r.json()
        assert problem["type"] == "/problems/import-rejected"
        assert problem["detail"].startswith("名录文件共 7 行，其中 2 行有错误，全部未导入")
        errors = {(e["line"], e["type"]): e for e in problem["errors"]}
        parent = errors[(7, "unknown-parent")]
        assert parent["loc"] == ["file", 7, "parent_code"]
        assert parent["msg"] == "上级 330212009 既不在文件中，也不在名录中"
        assert errors[(8, "wrong-type")]["msg"].startswith("未知的点位类型“农场”")
        assert await _count(client) == 0

    async def test_the_report_of_good_rows_only_carries_the_same_chinese_reasons(self, client):
        text = CHINESE_CSV + "330212001301,村,某村,,,是,\n"
        r = await _post(client, "/sites/import", text.encode("gbk"), good_rows_only="true")
        assert r.status_code == 200, r.text
        [error] = r.json()["errors"]
        assert (error["line"], error["column"], error["problem"]) == (7, "parent_code", "missing-field")
        assert error["reason"] == "村须填写上级编码（parent_code）"


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    @pytest.mark.parametrize("lang", ["en", "zh"])
    async def test_an_export_reimports_unchanged(self, client, fmt, lang):
        rows = city_rows()
        assert (await import_json(client, "/sites/import", rows)).status_code == 200
        exported = await client.get("/sites/export", params={"format": fmt, "lang": lang}, headers=ADMIN)
        assert exported.status_code == 200, exported.text
        r = await _post(client, "/sites/import", exported.content, CSV if fmt == "csv" else XLSX)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, len(rows))

    async def test_the_chinese_export_writes_chinese_headers_and_labels(self, client):
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        r = await client.get("/sites/export", params={"format": "csv", "lang": "zh"}, headers=ADMIN)
        assert r.content.startswith(codecs.BOM_UTF8)
        table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert list(table[0]) == ["编码", "类型", "子类型", "名称", "上级编码", "区县", "启用", "标签"]
        assert {row["类型"] for row in table} >= {"区县市", "功能区", "镇乡", "街道", "村", "社区"}
        assert {row["启用"] for row in table} == {"是"}

    async def test_the_chinese_xlsx_export_names_its_sheet(self, client):
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        r = await client.get("/sites/export", params={"format": "xlsx", "lang": "zh"}, headers=ADMIN)
        wb = load_workbook(io.BytesIO(r.content))
        assert wb.sheetnames == ["名录"]

    async def test_a_result_sheet_with_labels_and_district_names_reimports_unchanged(self, client):
        # Scoring's site ranking: no parent column, the type as 村, the district by name, extra columns.
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        text = (
            "排名,点位编码,点位名称,类型,所属区县,组织路径,得分,等级,一票否决项,状态,A板块得分率（%）\n"
            "1,330212001001,yinzhou1村1,村,yinzhou区,ningbo/yinzhou/330212001/330212001001,96.5,好,,已锁定,97\n"
            "2,330212001002,yinzhou1村2,社区,yinzhou,ningbo/yinzhou/330212001/330212001002,95,好,,已提交,95\n"
        )
        r = await _post(client, "/sites/import", text.encode("utf-8-sig"))
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 2)


class TestInspectors:
    async def test_a_gbk_pool_with_chinese_headers_and_district_names_imports(self, client):
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        text = "用户ID,姓名,所属区县,可任组长,启用\nu-chen,陈晓东,haishu区,是,是\nu-li,李娜,yinzhou,否,是\n"
        r = await _post(client, "/inspectors/import", text.encode("gbk"))
        assert r.status_code == 200, r.text
        people = (await client.get("/inspectors", headers=ADMIN)).json()["items"]
        assert [(p["user_id"], p["home_district"], p["can_lead"]) for p in people] == [
            ("u-chen", "haishu", True),
            ("u-li", "yinzhou", False),
        ]

    async def test_an_unknown_district_is_named_in_chinese(self, client):
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        text = "用户ID,姓名,所属区县\nu-chen,陈晓东,慈溪市\n"
        r = await _post(client, "/inspectors/import", text.encode("gbk"))
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert (error["loc"], error["type"]) == (["file", 2, "home_district"], "unknown-district")
        assert error["msg"] == "名录中没有区县或功能区“慈溪市”"

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    @pytest.mark.parametrize("lang", ["en", "zh"])
    async def test_an_export_of_the_pool_reimports_unchanged(self, client, fmt, lang):
        assert (await import_json(client, "/sites/import", city_rows())).status_code == 200
        people = inspector_rows()
        assert (await import_json(client, "/inspectors/import", people)).status_code == 200
        exported = await client.get("/inspectors/export", params={"format": fmt, "lang": lang}, headers=ADMIN)
        assert exported.status_code == 200, exported.text
        r = await _post(client, "/inspectors/import", exported.content, CSV if fmt == "csv" else XLSX)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, len(people))
