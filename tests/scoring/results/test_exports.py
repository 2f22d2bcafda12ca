"""Exports never run formulas: a cell that would start one comes out as text."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.scoring.conftest import SITES, as_admin, filled_sheet, to_status

FORMULAS = {
    "330212001201": '=HYPERLINK("http://evil.example","点击")',
    "330212001202": "+1+1",
    "330212001": "-2+3",
    "91330212MA0001": "@SUM(A1:A9)",
    "330203001001": "\t=1+1",
    "330203001": "\r=1+1",
}


@pytest.fixture
async def formula_round(client, sampling):
    """A round whose drawn sites carry names that a spreadsheet would run as formulas, all locked."""
    round_code = "2026F1"
    for code, name in FORMULAS.items():
        sampling.draw(code, round_code=round_code)
        sampling.drawn[(round_code, code)]["site"] = {**SITES[code], "name": name}
    for code in FORMULAS:
        await to_status(client, await filled_sheet(client, code, round_code=round_code), "locked")
    return round_code


class TestExportCells:
    async def test_csv_cells_starting_a_formula_come_out_as_text(self, client, formula_round):
        r = await client.get(
            f"/rounds/{formula_round}/export.csv", params={"table": "sites"}, headers=as_admin()
        )
        assert r.status_code == 200
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
        names = {row[1]: row[2] for row in rows[1:]}
        assert names == {code: "'" + name for code, name in FORMULAS.items()}

    async def test_xlsx_cells_are_text_never_formulas(self, client, formula_round):
        r = await client.get(f"/rounds/{formula_round}/export.xlsx", headers=as_admin())
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        seen = {}
        for ws in wb.worksheets:
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if ws.title.endswith("排名") and ws.title != "区县排名":
                    # A stored CR reads back as CR with lxml (python-docx brings it) and as LF
                    # with the standard library's XML parser: either is the same text.
                    seen[row[1].value] = (row[2].value.replace("\r", "\n"), row[2].data_type)
        assert seen == {code: ("'" + name.replace("\r", "\n"), "s") for code, name in FORMULAS.items()}
