"""Cells that a spreadsheet shows as text, never runs as a formula (CSV/formula injection).

A site named ``=HYPERLINK("http://evil","点击")`` must reach Excel or WPS as that text. OWASP's rule:
a cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is prefixed with a single quote. Numbers are
left as numbers (a negative score is not a formula).
"""

from __future__ import annotations

from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` ready for a CSV or XLSX cell: strings that could start a formula are quoted."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def safe_row(row: Any) -> list[Any]:
    """Every cell of `row` through :func:`safe_cell`."""
    return [safe_cell(v) for v in row]
