"""The XLSX read back with openpyxl: values, title row, header, frozen panes, formats, widths, filter."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.reporting.render import xlsx
from services.reporting.render.model import Sheet, Workbook

RANKING = Sheet(
    name="区县排名",
    title="2026年第一季度各区（县、市）督查排名",
    columns=["排名", "地区", "综合得分", "整改率", "备注"],
    rows=[
        [1, "慈溪市", 92.456, 0.8123, None],
        [2, "宁波国家高新技术产业开发区", 90.1, 0.5, '=HYPERLINK("http://evil","点击")'],
    ],
    number_formats={2: "0.00", 3: "0.0%"},
)


def read(book: Workbook):  # type: ignore[no-untyped-def]
    data = xlsx.render(book)
    assert data[:2] == b"PK"
    return load_workbook(io.BytesIO(data))


def test_values_title_header_and_panes() -> None:
    wb = read(Workbook(sheets=[RANKING], properties_title="督查排名"))
    assert wb.sheetnames == ["区县排名"]
    assert wb.properties.title == "督查排名"
    ws = wb["区县排名"]
    assert ws["A1"].value == "2026年第一季度各区（县、市）督查排名"
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:E1"]
    assert [c.value for c in ws[2]] == ["排名", "地区", "综合得分", "整改率", "备注"]
    assert all(c.font.bold for c in ws[2])
    assert [c.value for c in ws[3]] == [1, "慈溪市", 92.456, 0.8123, None]
    # numbers stay numbers, shown through their formats
    assert isinstance(ws["C3"].value, float)
    assert ws["C3"].number_format == "0.00"
    assert ws["D4"].number_format == "0.0%"
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:E4"


def test_a_formula_stays_text() -> None:
    ws = read(Workbook(sheets=[RANKING]))["区县排名"]
    assert ws["E4"].value == '\'=HYPERLINK("http://evil","点击")'
    assert ws["E4"].data_type == "s"


def test_widths_fit_chinese_text() -> None:
    ws = read(Workbook(sheets=[RANKING]))["区县排名"]
    # 「宁波国家高新技术产业开发区」: 13 CJK characters ≈ 26 width units, plus padding
    assert 26 <= ws.column_dimensions["B"].width <= 32
    # 「排名」 and short numbers: the header's two characters and its filter arrow
    assert 6 <= ws.column_dimensions["A"].width <= 10
    assert xlsx.display_width("慈溪市") == 6 and xlsx.display_width("92.5") == 4


def test_no_title_puts_the_header_first_and_given_widths_win() -> None:
    sheet = Sheet(
        name="问题清单", columns=["问题", "责任单位"], rows=[["台账不全", "鄞州区"]], widths=[40, 12]
    )
    ws = read(Workbook(sheets=[sheet]))["问题清单"]
    assert [c.value for c in ws[1]] == ["问题", "责任单位"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B2"
    assert ws.column_dimensions["A"].width == 40


def test_tab_names_are_made_legal_and_unique() -> None:
    sheets = [
        Sheet(name="排名/2026:Q1", columns=["a"], rows=[]),
        Sheet(name="排名/2026:Q1", columns=["a"], rows=[]),
        Sheet(name="很" * 40, columns=["a"], rows=[]),
    ]
    wb = read(Workbook(sheets=sheets))
    assert wb.sheetnames == ["排名_2026_Q1", "排名_2026_Q1(2)", "很" * 31]


def test_control_characters_do_not_break_the_workbook() -> None:
    sheet = Sheet(name="s", columns=["名称"], rows=[["村\x01社区"]])
    ws = read(Workbook(sheets=[sheet]))["s"]
    assert ws["A2"].value == "村\ufffd社区"
