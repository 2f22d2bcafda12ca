"""Input text, numbers and nesting every request model refuses; cells every export neutralises."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.kit.exports import safe_cell, safe_row
from services.kit.text import InputModel


class Body(InputModel):
    name: str
    data: dict[str, Any] = {}


class TestInputModel:
    @pytest.mark.parametrize("bad", ["a\x00b", "\x1b[31m", "x\x7f", "\x85"])
    def test_refuses_control_characters(self, bad: str) -> None:
        with pytest.raises(ValidationError, match="control characters"):
            Body(name=bad)

    def test_keeps_tabs_and_line_breaks_in_text(self) -> None:
        assert Body(name="第一行\n第二行\t完").name == "第一行\n第二行\t完"

    def test_refuses_integers_past_64_bits_anywhere(self) -> None:
        with pytest.raises(ValidationError, match="64 bits"):
            Body(name="x", data={"n": [1, 2**64]})

    def test_refuses_control_characters_in_nested_keys(self) -> None:
        with pytest.raises(ValidationError, match="control"):
            Body(name="x", data={"k\x00": 1})

    def test_refuses_deep_nesting(self) -> None:
        deep: Any = 1
        for _ in range(40):
            deep = {"a": deep}
        with pytest.raises(ValidationError, match="nested"):
            Body(name="x", data=deep)


class TestSafeCell:
    @pytest.mark.parametrize(
        "value", ['=HYPERLINK("http://x","点击")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    )
    def test_formula_starts_are_quoted(self, value: str) -> None:
        assert safe_cell(value) == "'" + value

    def test_numbers_and_plain_text_unchanged(self) -> None:
        assert safe_row([-3.5, 7, "慈溪市", None]) == [-3.5, 7, "慈溪市", None]
