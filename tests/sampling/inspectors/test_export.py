"""Exports are text in a spreadsheet, never formulas, and one bad legacy row never breaks them."""

from __future__ import annotations

from tests.sampling.conftest import csv_rows, export_file, import_json, xlsx_rows

FORMULA = '=HYPERLINK("http://x","点击")'
CSV = "text/csv"


class TestInspectorExport:
    async def test_csv_and_xlsx_cells_are_text(self, city):
        rows = [{"user_id": "u-formula", "name": "@SUM(1,2)", "home_district": "yinzhou", "tags": "-2"}]
        assert (await import_json(city, "/inspectors/import", rows)).status_code == 200
        row = next(
            r
            for r in csv_rows(await export_file(city, "/inspectors/export", "csv"))
            if r["user_id"] == "u-formula"
        )
        assert (row["name"], row["tags"]) == ("'@SUM(1,2)", "'-2")
        sheet = xlsx_rows(await export_file(city, "/inspectors/export", "xlsx"))
        cells = next(r for r in sheet if r[0].value == "u-formula")  # type: ignore[attr-defined]
        assert cells[1].value == "'@SUM(1,2)" and cells[1].data_type == "s"  # type: ignore[attr-defined]
