"""A workbook to XLSX (openpyxl): per sheet a title row merged across, a bold header, panes frozen
below it, an autofilter over the data, number formats per column, widths fitted to Chinese text.

Every string goes through the kit's `safe_cell` (a site named 「=HYPERLINK(…)」 stays text) and loses
the control characters openpyxl refuses; numbers stay numbers.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook as XlWorkbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.kit.exports import safe_cell
from services.reporting.render.model import Sheet, Workbook

FONT_NAME = "宋体"
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_BAD_TAB = re.compile(r"[\[\]:*?/\\]")


def display_width(value: Any) -> float:
    """Excel column width units a value needs: a CJK (wide) character about 2, others 1."""
    if value is None:
        return 0.0
    text = value if isinstance(value, str) else f"{value}"
    longest = max(text.split("\n"), key=len) if text else ""
    return float(sum(2 if ord(ch) > 0x2E7F else 1 for ch in longest))


def _cell(value: str | int | float | None) -> Any:
    value = safe_cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _tab_name(name: str, taken: set[str]) -> str:
    base = _BAD_TAB.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f"({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    ncols = max(1, len(sheet.columns))
    row = 1
    if sheet.title:
        ws.cell(row=1, column=1, value=_cell(sheet.title))
        ws.cell(row=1, column=1).font = Font(name=FONT_NAME, bold=True, size=14)
        ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
        if ncols > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
        ws.row_dimensions[1].height = 28
        row = 2
    header_row = row
    for c, name in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=header_row, column=c, value=_cell(name))
        cell.font = Font(name=FONT_NAME, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    body_font = Font(name=FONT_NAME)
    for r, values in enumerate(sheet.rows, start=header_row + 1):
        for c, value in enumerate(values[:ncols], start=1):
            cell = ws.cell(row=r, column=c, value=_cell(value))
            cell.font = body_font
            cell.border = _BORDER
            fmt = sheet.number_formats.get(c - 1)
            if fmt and isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = fmt
    last_row = header_row + len(sheet.rows)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{max(last_row, header_row)}"
    for c in range(1, ncols + 1):
        if sheet.widths and len(sheet.widths) >= c:
            width = sheet.widths[c - 1]
        else:
            # The header carries the autofilter's drop-down arrow: two more units.
            needed = [display_width(sheet.columns[c - 1]) + 2 if c <= len(sheet.columns) else 0.0]
            needed += [display_width(v[c - 1]) for v in sheet.rows if len(v) >= c]
            width = min(MAX_WIDTH, max(MIN_WIDTH, max(needed) + 2))
        ws.column_dimensions[get_column_letter(c)].width = width


def render(book: Workbook) -> bytes:
    """The workbook as XLSX bytes (blocking: call it in a thread from async code)."""
    wb = XlWorkbook()
    default = wb.active
    taken: set[str] = set()
    for sheet in book.sheets:
        ws = wb.create_sheet(title=_tab_name(sheet.name, taken))
        _fill(ws, sheet)
    if book.sheets and default is not None:
        wb.remove(default)
    if book.properties_title:
        wb.properties.title = book.properties_title
    wb.properties.creator = "dangjian-inspection"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
