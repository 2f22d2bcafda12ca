"""GB/T 9704-2012 figures shared by the DOCX and the PDF, so both lay a document out the same way.

A4 (210 x 297 mm); 天头 37 mm, 地脚 35 mm, 订口 (left, inner) 28 mm, right 26 mm: a 版心 of 156 x 225 mm
holding 22 lines of 28 characters of 三号 (16 pt) text. Sizes in points: 二号 22, 三号 16, 四号 14.
"""

from __future__ import annotations

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
