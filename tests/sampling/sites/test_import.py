"""Bulk import and export of the directory and the inspector pool."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook, load_workbook

from services.kit.testing import principal_headers
from tests.sampling.conftest import ADMIN, city_rows, import_json

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SMALL_CSV = (
    "code,type,name,parent_code,district,active,tags\n"
    "330212,district,鄞州区,,yinzhou,true,\n"
    "330212001,town,东吴镇,330212,,true,\n"
    "330212001201,village,三塘村,330212001,,true,山区;重点\n"
)


async def _count(client, **params) -> int:
    r = await client.get("/sites", params={"limit": 1, **params}, headers=ADMIN)
    return int(r.json()["total"])


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class TestImportSites:
    async def test_csv_import_builds_the_tree_with_org_units(self, client):
        r = await client.post(
            "/sites/import", content=SMALL_CSV.encode(), headers={**ADMIN, "content-type": CSV}
        )
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 3 and r.json()["applied"] is True
        r = await client.get("/sites/by-code/330212001201", headers=ADMIN)
        site = r.json()
        assert site["org_unit"] == "ningbo/yinzhou/330212001/330212001201"
        assert site["district"] == "yinzhou" and site["town_code"] == "330212001"
        assert site["tags"] == ["山区", "重点"]

    async def test_importing_the_same_file_twice_changes_nothing(self, client):
        rows = city_rows()
        first = (await import_json(client, "/sites/import", rows)).json()
        second = (await import_json(client, "/sites/import", rows)).json()
        assert first["created"] == len(rows)
        assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, len(rows))

    async def test_upsert_by_code_updates_changed_rows_only(self, client):
        await client.post("/sites/import", content=SMALL_CSV.encode(), headers={**ADMIN, "content-type": CSV})
        changed = SMALL_CSV.replace("三塘村", "三塘新村")
        r = await client.post(
            "/sites/import", content=changed.encode(), headers={**ADMIN, "content-type": CSV}
        )
        assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 1, 2)
        assert (await client.get("/sites/by-code/330212001201", headers=ADMIN)).json()["name"] == "三塘新村"

    async def test_xlsx_import_as_multipart_upload(self, client):
        data = _xlsx(
            [
                ["code", "type", "name", "parent_code", "district"],
                ["330203", "district", "海曙区", None, "haishu"],
                [330203001, "street", "月湖街道", 330203, None],
            ]
        )
        r = await client.post("/sites/import", files={"file": ("sites.xlsx", data, XLSX)}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 2 and r.json()["format"] == "xlsx"
        assert (await client.get("/sites/by-code/330203001", headers=ADMIN)).json()["parent_code"] == "330203"

    async def test_parents_resolve_from_the_existing_directory(self, client):
        await client.post("/sites/import", content=SMALL_CSV.encode(), headers={**ADMIN, "content-type": CSV})
        r = await import_json(
            client,
            "/sites/import",
            [{"code": "330212001E1", "type": "enterprise", "name": "甬企", "parent_code": "330212001"}],
        )
        assert r.status_code == 200
        assert (await client.get("/sites/by-code/330212001E1", headers=ADMIN)).json()[
            "org_unit"
        ] == "ningbo/yinzhou/330212001/330212001E1"

    async def test_every_bad_row_is_reported_and_nothing_is_written(self, client):
        rows = [
            {"code": "330212", "type": "district", "name": "鄞州区", "district": "yinzhou"},
            {"code": "T1", "type": "town", "name": "甲镇", "parent_code": "NOPE"},
            {"code": "T2", "type": "town", "name": "乙镇", "parent_code": "330212"},
            {"code": "T2", "type": "town", "name": "乙镇重复", "parent_code": "330212"},
            {"code": "V1", "type": "village", "name": "丙村", "parent_code": "330212"},
            {"code": "X1", "type": "planet", "name": "星"},
            {"code": "C1", "type": "town", "name": "环一", "parent_code": "C2"},
            {"code": "C2", "type": "town", "name": "环二", "parent_code": "C1"},
            {"code": "M1", "type": "village", "parent_code": "T2"},
        ]
        r = await import_json(client, "/sites/import", rows)
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/import-rejected"
        found = {(e["line"], e["column"], e["problem"]) for e in body["errors"]}
        assert (2, "parent_code", "unknown-parent") in found
        assert (4, "code", "duplicate-code") in found
        assert (5, "parent_code", "wrong-type") in found
        assert (6, "type", "wrong-type") in found
        assert (7, "parent_code", "cycle") in found and (8, "parent_code", "cycle") in found
        assert (9, "name", "missing-field") in found
        assert await _count(client) == 0

    async def test_good_rows_only_imports_the_rest_and_lists_the_bad(self, client):
        rows = [
            {"code": "330212", "type": "district", "name": "鄞州区", "district": "yinzhou"},
            {"code": "T1", "type": "town", "name": "甲镇", "parent_code": "NOPE"},
            {"code": "V1", "type": "village", "name": "甲村", "parent_code": "T1"},
            {"code": "T2", "type": "town", "name": "乙镇", "parent_code": "330212"},
        ]
        r = await import_json(client, "/sites/import", rows, good_rows_only="true")
        assert r.status_code == 200
        assert (r.json()["created"], r.json()["rejected"]) == (2, 2)
        assert {e["problem"] for e in r.json()["errors"]} == {"unknown-parent", "invalid-parent"}
        assert await _count(client) == 2

    async def test_dry_run_reports_without_writing(self, client):
        r = await import_json(client, "/sites/import", city_rows(), dry_run="true")
        assert r.status_code == 200
        assert r.json()["applied"] is False and r.json()["created"] == len(city_rows())
        assert await _count(client) == 0

    async def test_rows_outside_the_callers_scope_are_refused(self, client):
        await import_json(client, "/sites/import", city_rows())
        district_admin = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        rows = [{"code": "330203099", "type": "street", "name": "外区街道", "parent_code": "330203"}]
        r = await client.post(
            "/sites/import",
            content=json.dumps(rows),
            headers={**district_admin, "content-type": "application/json"},
        )
        assert r.status_code == 422
        # A parent outside the caller's scope is answered like one the directory does not know.
        error = r.json()["errors"][0]
        assert (error["line"], error["column"], error["problem"]) == (1, "parent_code", "unknown-parent")
        assert "ningbo/haishu" not in r.text
        assert (await client.get("/sites/by-code/330203099", headers=ADMIN)).status_code == 404

    async def test_a_move_carries_the_subtree(self, client):
        await import_json(client, "/sites/import", city_rows())
        r = await import_json(
            client,
            "/sites/import",
            [{"code": "330212001", "type": "town", "name": "yinzhou第1镇", "parent_code": "330203"}],
        )
        assert r.json()["updated"] == 1
        village = (await client.get("/sites/by-code/330212001001", headers=ADMIN)).json()
        assert village["org_unit"] == "ningbo/haishu/330212001/330212001001"
        assert village["district"] == "haishu"

    async def test_unreadable_file_is_a_clear_problem(self, client):
        r = await client.post(
            "/sites/import", content=b"\xff\xfe\x00garbage", headers={**ADMIN, "content-type": XLSX}
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unreadable-file"

    async def test_inspector_cannot_import(self, client):
        r = await import_json(client, "/sites/import", [])
        assert r.status_code == 200
        headers = principal_headers(roles=["inspector"], scope="ningbo")
        r = await client.post(
            "/sites/import", content=b"[]", headers={**headers, "content-type": "application/json"}
        )
        assert r.status_code == 403


class TestExportSites:
    async def test_csv_export_reimports_as_unchanged(self, client):
        await import_json(client, "/sites/import", city_rows())
        r = await client.get("/sites/export", params={"format": "csv"}, headers=ADMIN)
        assert r.headers["content-type"].startswith("text/csv")
        again = await client.post("/sites/import", content=r.content, headers={**ADMIN, "content-type": CSV})
        assert again.json()["unchanged"] == len(city_rows())

    async def test_xlsx_and_json_exports_hold_every_site(self, client):
        await import_json(client, "/sites/import", city_rows())
        x = await client.get("/sites/export", params={"format": "xlsx"}, headers=ADMIN)
        ws = load_workbook(io.BytesIO(x.content)).active
        assert ws.max_row == len(city_rows()) + 1
        j = await client.get("/sites/export", params={"format": "json", "district": "yinzhou"}, headers=ADMIN)
        assert all(s["district"] == "yinzhou" for s in j.json()) and len(j.json()) > 1
        again = await import_json(client, "/sites/import", j.json())
        assert again.json()["unchanged"] == len(j.json())

    async def test_district_admin_exports_only_their_district(self, client):
        await import_json(client, "/sites/import", city_rows())
        headers = principal_headers(roles=["district_admin"], scope="ningbo/beilun")
        j = await client.get("/sites/export", params={"format": "json"}, headers=headers)
        assert {s["district"] for s in j.json()} == {"beilun"}
