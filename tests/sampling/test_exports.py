"""Exports are text in a spreadsheet, never formulas, and one bad legacy row never breaks them."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from services.sampling.models import Site
from tests.sampling.conftest import ADMIN, import_json

FORMULA = '=HYPERLINK("http://x","点击")'
CSV = "text/csv"


async def _export(client: httpx.AsyncClient, path: str, fmt: str) -> httpx.Response:
    r = await client.get(path, params={"format": fmt}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r


def _csv_rows(r: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))


def _xlsx_rows(r: httpx.Response) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    return [[c for c in row] for row in ws.iter_rows()]  # type: ignore[misc]


class TestSiteExport:
    async def _formula_site(self, city: httpx.AsyncClient) -> None:
        body = {"code": "330212001091", "type": "village", "name": FORMULA, "parent_code": "330212001"}
        body["tags"] = ["+1", "@cmd"]
        assert (await city.post("/sites", json=body, headers=ADMIN)).status_code == 201

    async def test_csv_cells_that_would_start_a_formula_are_text(self, city):
        await self._formula_site(city)
        row = next(
            r for r in _csv_rows(await _export(city, "/sites/export", "csv")) if r["code"] == "330212001091"
        )
        assert row["name"] == "'" + FORMULA
        assert row["tags"] == "'+1;@cmd"

    async def test_xlsx_cells_that_would_start_a_formula_are_text(self, city):
        await self._formula_site(city)
        rows = _xlsx_rows(await _export(city, "/sites/export", "xlsx"))
        header = [c.value for c in rows[0]]  # type: ignore[attr-defined]
        cell = next(r for r in rows if r[0].value == "330212001091")[header.index("name")]  # type: ignore[attr-defined]
        assert cell.data_type == "s" and cell.value == "'" + FORMULA  # type: ignore[attr-defined]
        assert not any(c.data_type == "f" for r in rows for c in r)  # type: ignore[attr-defined]

    async def test_the_quoted_csv_reimports_as_the_original_text(self, city):
        await self._formula_site(city)
        r = await _export(city, "/sites/export", "csv")
        again = await city.post("/sites/import", content=r.content, headers={**ADMIN, "content-type": CSV})
        assert again.status_code == 200 and again.json()["updated"] == 0
        assert (await city.get("/sites/by-code/330212001091", headers=ADMIN)).json()["name"] == FORMULA

    async def test_a_legacy_name_with_a_control_character_does_not_break_the_xlsx_export(self, city):
        async with city.app.state.sessionmaker() as s:  # type: ignore[attr-defined]
            s.add(
                Site(
                    code="330212001092",
                    type="village",
                    name="旧\x07数据",  # PostgreSQL cannot even store NUL
                    parent_code="330212001",
                    district="yinzhou",
                    org_unit="ningbo/yinzhou/330212001/330212001092",
                )
            )
            await s.commit()
        rows = _xlsx_rows(await _export(city, "/sites/export", "xlsx"))
        assert any(r[0].value == "330212001092" for r in rows)  # type: ignore[attr-defined]


class TestInspectorExport:
    async def test_csv_and_xlsx_cells_are_text(self, city):
        rows = [{"user_id": "u-formula", "name": "@SUM(1,2)", "home_district": "yinzhou", "tags": "-2"}]
        assert (await import_json(city, "/inspectors/import", rows)).status_code == 200
        row = next(
            r
            for r in _csv_rows(await _export(city, "/inspectors/export", "csv"))
            if r["user_id"] == "u-formula"
        )
        assert (row["name"], row["tags"]) == ("'@SUM(1,2)", "'-2")
        sheet = _xlsx_rows(await _export(city, "/inspectors/export", "xlsx"))
        cells = next(r for r in sheet if r[0].value == "u-formula")  # type: ignore[attr-defined]
        assert cells[1].value == "'@SUM(1,2)" and cells[1].data_type == "s"  # type: ignore[attr-defined]
