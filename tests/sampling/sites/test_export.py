"""Exports are text in a spreadsheet, never formulas, and one bad legacy row never breaks them."""

from __future__ import annotations

import httpx

from services.sampling.models import Site
from tests.sampling.conftest import ADMIN, csv_rows, export_file, xlsx_rows

FORMULA = '=HYPERLINK("http://x","点击")'
CSV = "text/csv"


class TestSiteExport:
    async def _formula_site(self, city: httpx.AsyncClient) -> None:
        body = {"code": "330212001091", "type": "village", "name": FORMULA, "parent_code": "330212001"}
        body["tags"] = ["+1", "@cmd"]
        assert (await city.post("/sites", json=body, headers=ADMIN)).status_code == 201

    async def test_csv_cells_that_would_start_a_formula_are_text(self, city):
        await self._formula_site(city)
        row = next(
            r
            for r in csv_rows(await export_file(city, "/sites/export", "csv"))
            if r["code"] == "330212001091"
        )
        assert row["name"] == "'" + FORMULA
        assert row["tags"] == "'+1;@cmd"

    async def test_xlsx_cells_that_would_start_a_formula_are_text(self, city):
        await self._formula_site(city)
        rows = xlsx_rows(await export_file(city, "/sites/export", "xlsx"))
        header = [c.value for c in rows[0]]  # type: ignore[attr-defined]
        cell = next(r for r in rows if r[0].value == "330212001091")[header.index("name")]  # type: ignore[attr-defined]
        assert cell.data_type == "s" and cell.value == "'" + FORMULA  # type: ignore[attr-defined]
        assert not any(c.data_type == "f" for r in rows for c in r)  # type: ignore[attr-defined]

    async def test_the_quoted_csv_reimports_as_the_original_text(self, city):
        await self._formula_site(city)
        r = await export_file(city, "/sites/export", "csv")
        again = await city.post("/sites/import", content=r.content, headers={**ADMIN, "content-type": CSV})
        assert again.status_code == 200 and again.json()["updated"] == 0
        assert (await city.get("/sites/by-code/330212001091", headers=ADMIN)).json()["name"] == FORMULA

    async def test_a_legacy_name_with_a_control_character_does_not_break_the_xlsxexport_file(self, city):
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
        rows = xlsx_rows(await export_file(city, "/sites/export", "xlsx"))
        assert any(r[0].value == "330212001092" for r in rows)  # type: ignore[attr-defined]
