"""What the renderers take: an official document (公文), a workbook, a chart.

A document is laid out per GB/T 9704-2012 (党政机关公文格式) by the DOCX and PDF renderers alike, so
the two files carry the same text: 发文机关标志 (`issuer_mark`), 发文字号 (`doc_number`), 标题 (`title`),
主送机关 (`addressee`), 正文 (`blocks`), 发文机关署名 (`signature`), 成文日期 (`dated`), 附注 and 抄送.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _M(BaseModel):
    model_config = ConfigDict(frozen=True)


class Heading(_M):
    """A heading inside the body: level 1 「一、」 (黑体), 2 「（一）」 (楷体), 3 「1.」 (仿宋 bold).

    The text is given with its number (「一、基本情况」): the renderers do not number headings.
    """

    kind: Literal["heading"] = "heading"
    level: Literal[1, 2, 3] = 1
    text: str


class Paragraph(_M):
    """A body paragraph (仿宋_GB2312 三号, first line indented two characters)."""

    kind: Literal["paragraph"] = "paragraph"
    text: str


class Table(_M):
    """A table (表格), with an optional caption above it; cells are text."""

    kind: Literal["table"] = "table"
    caption: str | None = None
    columns: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None
    """Relative column widths (any unit); equal when None."""


class Image(_M):
    """A chart or picture: PNG bytes, shown at `width_cm`, with a caption below."""

    kind: Literal["image"] = "image"
    png: bytes
    width_cm: float = 15.0
    caption: str | None = None


class PageBreak(_M):
    kind: Literal["page_break"] = "page_break"


Block = Heading | Paragraph | Table | Image | PageBreak


class OfficialDocument(_M):
    """One document: a 专报, a bulletin, a problem list, an assessment."""

    title: str
    """标题 (2号小标宋, centred), e.g. 「关于2026年第一季度基层党建专项督查情况的专报」."""
    blocks: list[Block] = Field(default_factory=list)
    issuer_mark: str | None = None
    """发文机关标志 in red above the red line, e.g. 「中共宁波市委组织部」; None: no 版头."""
    doc_number: str | None = None
    """发文字号, e.g. 「甬组督〔2026〕3号」; None for a draft (the renderers print 「（草稿）」 in its place
    when `draft` is true)."""
    draft: bool = False
    """Marks every page 「草稿」 (a draft or a report under review)."""
    addressee: str | None = None
    """主送机关, e.g. 「市委、市政府领导：」."""
    signature: str | None = None
    """发文机关署名, e.g. 「中共宁波市委组织部」."""
    dated: date | None = None
    """成文日期, printed in Arabic numerals (2026年4月3日)."""
    note: str | None = None
    """附注, printed in parentheses below the date."""
    cc: str | None = None
    """抄送 line in the 版记."""
    printed_by: str | None = None
    """印发机关 in the 版记 (its date is `dated`)."""
    landscape: bool = False
    """Wide tables (the bulletin's rankings, the assessment) may ask for A4 landscape."""


class Sheet(_M):
    """One worksheet: a title row, a header row, data rows; numbers stay numbers."""

    name: str
    """Tab name (≤ 31 characters, no []:*?/\\)."""
    title: str | None = None
    columns: list[str]
    rows: list[list[str | int | float | None]]
    widths: list[float] | None = None
    """Column widths in characters; computed from the content when None."""
    number_formats: dict[int, str] = Field(default_factory=dict)
    """Column index → Excel number format, e.g. {3: '0.00', 4: '0.0"%"'}."""


class Workbook(_M):
    sheets: list[Sheet]
    properties_title: str | None = None


class Series(_M):
    name: str
    values: list[float]
    color: str | None = None


class Chart(_M):
    """A chart, in Chinese: bars (vertical or horizontal, stacked or grouped), or a donut."""

    kind: Literal["bar", "barh", "stacked_bar", "stacked_barh", "donut"]
    title: str
    categories: list[str]
    series: list[Series]
    unit: str | None = None
    """Axis unit label (个, 分, %)."""
    value_labels: bool = True
    """Print each value at its bar or slice."""
