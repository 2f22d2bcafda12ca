"""The shared GB/T 9704-2012 figures and the line-breaking of long titles."""

from __future__ import annotations

from datetime import date

import pytest

from services.reporting.render import layout


def test_the_type_area_holds_22_lines_of_28_characters() -> None:
    assert layout.CORE_W_MM == 156 and layout.CORE_H_MM == 225
    assert abs(layout.LINE_PITCH_PT - 28.99) < 0.01
    # 28 characters of 16 pt set 0.25 pt tighter fit the 156 mm width, 29 do not
    width_pt = layout.CORE_W_MM * layout.PT_PER_MM
    pitch = layout.SIZE_BODY + layout.LETTER_SPACING_PT
    assert 28 * pitch <= width_pt < 29 * pitch


def test_dates_and_widths() -> None:
    assert layout.chinese_date(date(2026, 4, 3)) == "2026年4月3日"
    assert layout.text_width_chars("2026年4月3日") == 6
    # 首字比署名首字右移二字: 9 - 6
    assert layout.date_right_indent_chars("中共宁波市委组织部", "2026年4月3日") == 3
    assert layout.date_right_indent_chars(None, "2026年4月3日") == 4


@pytest.mark.parametrize(
    ("title", "lines"),
    [
        ("关于基层党建专项督查情况的专报", ["关于基层党建专项督查情况的专报"]),
        (
            "关于2026年第一季度基层党建专项督查情况的专报",
            ["关于2026年第一季度", "基层党建专项督查情况的专报"],
        ),
        (
            "关于2026年第一季度党建争强通报暨基层党建专项督查问题清单",
            ["关于2026年第一季度党建争强通报", "暨基层党建专项督查问题清单"],
        ),
    ],
)
def test_long_titles_break_at_word_ends_into_balanced_lines(title: str, lines: list[str]) -> None:
    assert layout.title_lines(title) == lines


def test_every_line_of_a_very_long_title_fits() -> None:
    title = "关于" + "基层党组织标准化规范化建设" * 6 + "的报告"
    lines = layout.title_lines(title)
    assert "".join(lines) == title
    assert len(lines) >= 3
    assert all(layout.text_width_chars(line) <= layout.TITLE_CHARS_PER_LINE for line in lines)
    # a run of digits is never split: left whole for the renderer to wrap
    assert layout.title_lines("2026" * 30) == ["2026" * 30]
