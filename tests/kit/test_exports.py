"""services.kit.exports: spreadsheet cells never run as formulas."""

from __future__ import annotations

import pytest

from services.kit.exports import safe_cell, safe_row


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil","点击")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_string_that_could_start_a_formula_is_quoted(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["天童村", "a=b", "", -3, 2.5, None, True])
def test_anything_else_is_left_alone(value: object) -> None:
    assert safe_cell(value) == value


def test_a_row_goes_cell_by_cell() -> None:
    assert safe_row(("东吴镇", "=1+1", -5)) == ["东吴镇", "'=1+1", -5]
