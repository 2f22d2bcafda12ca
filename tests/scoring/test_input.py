"""Bad input is a 422 problem naming the field, never a 500, and nothing is written; exports never run formulas."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.scoring.models import Rubric
from tests.scoring.conftest import (
    FULL_POLL,
    ROUND,
    SITES,
    act,
    as_admin,
    as_inspector,
    as_leader,
    filled_sheet,
    open_sheet,
    patch,
    to_status,
)

VILLAGE = "330212001201"
FINDING = {"category": "组织生活", "severity": "general", "level": "unit", "concerns": "某支部"}


def problem(r, *fragments: str) -> str:
    """Assert `r` is a 422 problem+json; return its errors as text for the field checks."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    text = str(r.json().get("errors", r.json()))
    for f in fragments:
        assert f in text, (f, text)
    return text


async def history(client, sheet) -> list[str]:
    return [
        h["action"]
        for h in (await client.get(f"/sheets/{sheet['id']}/history", headers=as_inspector())).json()["items"]
    ]


class TestSheetBodies:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"notes": "记录\x00"}, "notes"),
            (
                {"items": [{"item_code": "C01", "deductions": [{"points": 2, "reason": "未换届\x01"}]}]},
                "reason",
            ),
            (
                {
                    "items": [
                        {
                            "item_code": "C01",
                            "deductions": [
                                {
                                    "points": 2,
                                    "reason": "未换届",
                                    "finding": {**FINDING, "concerns": "王\x00某"},
                                }
                            ],
                        }
                    ]
                },
                "concerns",
            ),
            ({"items": [{"item_code": "C01", "notes": "\x1b[31m", "deductions": []}]}, "notes"),
            ({"poll": {"resident": {**FULL_POLL["resident"], "satisfied": 2**64}}}, "satisfied"),
            (
                {
                    "items": [
                        {"item_code": "C01", "deductions": [{"points": 2, "reason": "x", "id": "a\x00"}]}
                    ]
                },
                "id",
            ),
        ],
        ids=[
            "nul-in-notes",
            "control-in-reason",
            "nul-in-finding",
            "escape-in-item-notes",
            "huge-poll",
            "nul-in-id",
        ],
    )
    async def test_refused_naming_the_field_and_nothing_saved(self, client, body, field):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, body)
        problem(r, field)
        again = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert again["version"] == sheet["version"] and again["notes"] == ""
        assert await history(client, sheet) == ["created"]

    async def test_return_reason_with_nul(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, submitted, "return", as_leader(), {"reason": "补充\x00材料"})
        problem(r, "reason")
        again = (await client.get(f"/sheets/{submitted['id']}", headers=as_inspector())).json()
        assert again["status"] == "submitted" and again["return_reason"] is None

    async def test_site_code_with_nul(self, client):
        r = await client.post(
            f"/rounds/{ROUND}/sheets", json={"site_code": "330212\x00"}, headers=as_inspector()
        )
        problem(r, "site_code")
        assert (await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())).json()["total"] == 0


class TestPathsAndQueries:
    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/rubrics/9223372036854775808", "rubric_id"),
            ("/rubrics/0", "rubric_id"),
            (f"/rounds/{ROUND}/sheets?offset=9223372036854775808", "offset"),
            (f"/rounds/{ROUND}/sheets?district=yin%00zhou", "district"),
            (f"/rounds/{ROUND}/sheets?site_type=%3DHYPERLINK", "site_type"),
            ("/trend?district=%00", "district"),
            ("/sheets/abc%00def", "sheet_id"),
            (f"/rounds/{ROUND}/rankings/sites?site_type=village&offset=-1", "offset"),
        ],
    )
    async def test_out_of_range_or_control_characters_are_422(self, client, path, field):
        problem(await client.get(path, headers=as_admin()), field)

    async def test_rubric_id_beyond_the_column_is_simply_missing(self, client):
        # 64-bit but beyond PostgreSQL's INTEGER: no such rubric, not a driver error
        r = await client.get(f"/rubrics/{2**40}", headers=as_admin())
        assert r.status_code == 404 and r.json()["type"] == "/problems/rubric-not-found"


class TestRubricBodies:
    async def _count(self, client) -> int:
        async with client.app.state.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Rubric))).scalar_one())

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"version": "2099\x00"}, "version"),
            ({"version": "2099.1", "name": "新版\x07"}, "name"),
            ({"version": "2099.1", "based_on_id": 2**63}, "based_on_id"),
            ({"version": "2099.1", "based_on_id": 2**40}, "based_on_id"),
        ],
    )
    async def test_draft_refused_naming_the_field(self, client, body, field):
        before = await self._count(client)
        problem(await client.post("/rubrics", json=body, headers=as_admin()), field)
        assert await self._count(client) == before

    async def test_definition_with_nul_or_deep_nesting(self, client):
        draft = (await client.post("/rubrics", json={"version": "2099.3"}, headers=as_admin())).json()
        doc = {**draft["definition"], "name": "测评\x00体系"}
        problem(
            await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin()),
            "definition",
        )
        deep: dict = {}
        for _ in range(40):
            deep = {"x": deep}
        doc = {**draft["definition"], "extra": deep}
        problem(
            await client.put(f"/rubrics/{draft['id']}", json={"definition": doc}, headers=as_admin()),
            "definition",
        )
        assert (await client.get(f"/rubrics/{draft['id']}", headers=as_admin())).json()[
            "definition"
        ] == draft["definition"]

    @pytest.mark.parametrize("rubric_id", [2**40, 2**63])
    async def test_binding_an_unknown_or_huge_rubric_id(self, client, rubric_id):
        r = await client.put("/rounds/2099Q1/rubric", json={"rubric_id": rubric_id}, headers=as_admin())
        problem(r, "rubric_id")
        assert (await client.get("/rounds/2099Q1/rubric", headers=as_admin())).status_code == 404


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
                    seen[row[1].value] = (row[2].value, row[2].data_type)
        # (XML reads a stored CR back as LF)
        assert seen == {code: ("'" + name.replace("\r", "\n"), "s") for code, name in FORMULAS.items()}
