"""The documents through the real renderers (services.reporting.render), read back with real readers:
python-docx and openpyxl for the text, pdftotext (poppler) for the PDF's Chinese text."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.reporting.conftest import ADMIN, Harness
from tests.reporting.reports.conftest import ADMIN2
from tests.reporting.reports.data import NOW, round_facts, seed

ANY = {"If-Match": "*"}


@pytest.fixture
async def seeded(reporting: Harness) -> Harness:
    reporting.clock.set(NOW)
    await seed(reporting.app, round_facts())
    return reporting


def _docx_text(content: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(content))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout


async def test_the_issued_special_report_reads_back_from_its_docx_and_pdf(
    seeded: Harness, tmp_path: Path
) -> None:
    c = seeded.client
    rid = (await c.post("/rounds/2026Q1/special-reports", headers=ADMIN)).json()["id"]
    await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})
    await c.post(f"/special-reports/{rid}/review", headers={**ADMIN2, **ANY}, json={"decision": "approve"})
    r = await c.post(
        f"/special-reports/{rid}/issue", headers={**ADMIN, **ANY}, json={"doc_number": "甬组督〔2026〕3号"}
    )
    assert r.status_code == 200, r.text
    docx_text = _docx_text((await c.get(f"/special-reports/{rid}/document.docx", headers=ADMIN)).content)
    pdf_text = "".join(
        _pdf_text(
            (await c.get(f"/special-reports/{rid}/document.pdf", headers=ADMIN)).content, tmp_path
        ).split()
    )
    for text in (docx_text, pdf_text):
        assert "关于2026年第一季度基层党建专项督查情况的专报" in "".join(text.split())
        assert "甬组督〔2026〕3号" in text
        for heading in ("一、基本情况", "三、督查结果", "六、整改进展", "七、下一步工作"):
            assert heading in text
        assert "海曙区" in text and "93.75" in text


async def test_a_draft_reads_back_marked_as_draft(seeded: Harness) -> None:
    c = seeded.client
    rid = (await c.post("/rounds/2026Q1/special-reports", headers=ADMIN)).json()["id"]
    text = _docx_text((await c.get(f"/special-reports/{rid}/document.docx", headers=ADMIN)).content)
    assert "草稿" in text


async def test_the_bulletin_and_problem_list_read_back(seeded: Harness, tmp_path: Path) -> None:
    c = seeded.client
    wb = openpyxl.load_workbook(
        io.BytesIO((await c.get("/rounds/2026Q1/bulletin.xlsx", headers=ADMIN)).content)
    )
    ranking = wb["区县排名"]
    values = [[cell.value for cell in row] for row in ranking.iter_rows()]
    assert any(row[:3] == [1, "海曙区", 93.75] for row in values)
    text = _docx_text((await c.get("/rounds/2026Q1/bulletin.docx", headers=ADMIN)).content)
    assert "党建争强情况的通报" in "".join(text.split()) and "四、逾期未整改问题通报" in text
    pdf = _pdf_text((await c.get("/rounds/2026Q1/bulletin.pdf", headers=ADMIN)).content, tmp_path)
    assert "区县（市）综合排名" in "".join(pdf.split())
    wb = openpyxl.load_workbook(
        io.BytesIO((await c.get("/rounds/2026Q1/districts/yinzhou/problem-list.xlsx", headers=ADMIN)).content)
    )
    cells = [str(cell.value) for row in wb.worksheets[0].iter_rows() for cell in row]
    assert "天童村缺少近三个月的三会一课记录" in cells
    text = _docx_text(
        (await c.get("/rounds/2026Q1/districts/yinzhou/problem-list.docx", headers=ADMIN)).content
    )
    assert "鄞州区2026年第一季度基层党建专项督查问题清单" in "".join(text.split())


async def test_the_assessment_reads_back(seeded: Harness, tmp_path: Path) -> None:
    c = seeded.client
    wb = openpyxl.load_workbook(
        io.BytesIO((await c.get("/years/2026/assessment.xlsx", headers=ADMIN)).content)
    )
    lines = [row[1].value for row in wb["得分说明"].iter_rows() if row[1].value]
    assert "季度综合得分均值 93.75 × 60% = 56.25" in lines
    pdf = "".join(
        _pdf_text((await c.get("/years/2026/assessment.pdf", headers=ADMIN)).content, tmp_path).split()
    )
    assert "2026年度各区县（市）党建工作考核结果" in pdf
