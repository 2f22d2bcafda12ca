"""GB/T 9704-2012 figures shared by the DOCX and the PDF, so both lay a document out the same way.

A4 (210 x 297 mm); 天头 37 mm, 地脚 35 mm, 订口 (left, inner) 28 mm, right 26 mm: a 版心 of 156 x 225 mm
holding 22 lines of 28 characters of 三号 (16 pt) text. Sizes in points: 二号 22, 三号 16, 四号 14.
"""

from __future__ import annotations

import re
from datetime import date

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
TOP_MM, BOTTOM_MM, LEFT_MM, RIGHT_MM = 37.0, 35.0, 28.0, 26.0
CORE_W_MM = PAGE_W_MM - LEFT_MM - RIGHT_MM  # 156
CORE_H_MM = PAGE_H_MM - TOP_MM - BOTTOM_MM  # 225
LINES, CHARS = 22, 28
PT_PER_MM = 72 / 25.4
LINE_PITCH_PT = CORE_H_MM * PT_PER_MM / LINES  # 28.99 pt
CHAR_PITCH_PT = CORE_W_MM * PT_PER_MM / CHARS  # 15.79 pt

# 28 characters of 16 pt fill 448 pt, the 版心 holds 442.2 pt: each character is set 0.25 pt tighter
# (character spacing, which Word, WPS and LibreOffice all honour; a "lines and chars" document grid
# does the same in Word but LibreOffice then gives every character two grid cells).
LETTER_SPACING_PT = -0.25

SIZE_TITLE = 22.0  # 二号
SIZE_BODY = 16.0  # 三号
SIZE_PAGE_NO = 14.0  # 四号
SIZE_RECORD = 14.0  # 版记: 四号
SIZE_TABLE = 12.0  # 小四, tables
SIZE_ISSUER = 36.0  # 发文机关标志 (the standard bounds it at 22 x 15 mm a character)
PAGE_NO_GAP_MM = 7.0  # 页码的一字线上距版心下边缘 7 mm
RED = "FF0000"


# What XML 1.0 cannot carry (DOCX and the PDF's HTML are XML-ish): C0 controls but TAB/LF/CR,
# surrogates, U+FFFE/U+FFFF. Shown as U+FFFD rather than failing the whole document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` with the characters no DOCX or HTML can hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def issuer_top_mm(landscape: bool) -> float:
    """发文机关标志's top below the 版心's: 35 mm (7.2.3); none on a landscape page, whose 138 mm high
    版心 would otherwise push the title to the next page."""
    return 0.0 if landscape else 35.0


def chinese_date(d: date) -> str:
    """成文日期 in Arabic numerals, no leading zeros: 2026年4月3日."""
    return f"{d.year}年{d.month}月{d.day}日"


def text_width_chars(text: str) -> float:
    """Width in 三号 characters: a CJK character is one, a digit or Latin letter about half."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.5 for ch in text)


def date_right_indent_chars(signature: str | None, dated: str) -> float:
    """How far the date sits from the right edge (in characters).

    Without a seal (GB/T 9704-2012 7.3.5.2) the signature is set 右空二字 and the date on the next line
    starts two characters to the right of the signature's first character; with no signature the
    date is 右空四字.
    """
    if not signature:
        return 4.0
    return max(0.0, text_width_chars(signature) - text_width_chars(dated))


SIGNATURE_RIGHT_INDENT_CHARS = 2.0


TITLE_CHARS_PER_LINE = int(CORE_W_MM * PT_PER_MM // SIZE_TITLE)  # 20 characters of 二号
TITLE_CHARS_PER_LINE_LANDSCAPE = int((PAGE_H_MM - LEFT_MM - RIGHT_MM) * PT_PER_MM // SIZE_TITLE)  # 31
# Where a title may break: after these (a word ends), never inside 〔2026〕 or a number.
_BREAK_AFTER = "的于和与及、）〕”度"
_BREAK_BEFORE = "暨"
_NO_BREAK_BEFORE = "，。、）〕”：；！？"


def title_lines(title: str, per_line: float = TITLE_CHARS_PER_LINE) -> list[str]:
    """A title too long for one line, broken into balanced lines (GB/T 9704-2012 7.3.2: 梯形 or 菱形,
    words kept whole): as few lines as fit, each about the same width, the upper ones no longer than
    the lower, breaks preferably right after 「的」「于」「、」「季度」 or before 「暨」."""
    total = text_width_chars(title)
    if total <= per_line:
        return [title]
    fewest = int(-(-total // per_line))  # ceil
    for count in range(fewest, fewest + 4):
        lines = _split(title, count, per_line)
        if lines and all(text_width_chars(line) <= per_line for line in lines):
            return lines
    return [title]  # one unbreakable run: let the renderer wrap it


def _split(title: str, count: int, per_line: float) -> list[str] | None:
    lines: list[str] = []
    rest = title
    for remaining in range(count, 1, -1):
        target = text_width_chars(rest) / remaining
        best, best_cost = None, float("inf")
        width = 0.0
        for i, ch in enumerate(rest[:-1]):
            width += text_width_chars(ch)
            if width > per_line:
                break
            nxt = rest[i + 1]
            if nxt in _NO_BREAK_BEFORE or (ch.isascii() and nxt.isascii()):
                continue
            if text_width_chars(rest[i + 1 :]) > (remaining - 1) * per_line:
                continue
            # about the target width, the upper line not the longer (梯形), a word boundary first
            cost = abs(width - target) + (0.0 if width <= target + 0.5 else 2.0)
            cost -= 5.0 if ch in _BREAK_AFTER or nxt in _BREAK_BEFORE else 0.0
            if cost < best_cost:
                best, best_cost = i + 1, cost
        if best is None:
            return None
        lines.append(rest[:best])
        rest = rest[best:]
    lines.append(rest)
    return lines
