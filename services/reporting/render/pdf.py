"""An official document to PDF: HTML + CSS (templates/document.html.j2) laid out by WeasyPrint.

WeasyPrint shapes text with Pango (fontconfig finds the fonts) and embeds each font as a subset, CFF
outlines included, so Noto CJK works where ReportLab cannot. The layout is the DOCX's (layout.py):
A4, the GB/T 9704-2012 margins, 22 lines of 28 characters, 「— 1 —」 page numbers (odd pages on the
right, even on the left), the 版记 at the foot of the last page.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import threading
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from services.reporting.render import layout
from services.reporting.render.fonts import cjk_fonts
from services.reporting.render.model import Image, OfficialDocument, Table

# WeasyPrint logs every CSS property it ignores at WARNING; keep errors only.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)

_TEMPLATES = Path(__file__).with_name("templates")
RENDER_LOCK = threading.Lock()


def _finalize(value: object) -> object:
    """Every printed value: text loses what XML cannot hold; our own markup (font stacks) is kept."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return layout.xml_safe(value)
    return value


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
    )
    return env.get_template("document.html.j2")


def _stack(*families: str) -> Markup:
    """A CSS font-family list; names come from fontconfig, stripped of what could leave the string."""
    return Markup(", ".join('"' + re.sub(r'["\\<>{};]', "", f) + '"' for f in families))


def font_stacks() -> dict[str, Markup]:
    """CSS font-family per official face: the real face when installed, then the CJK stand-in."""
    fonts = cjk_fonts()
    return {
        "xiaobiaosong": _stack(*fonts.official("xiaobiaosong", fonts.serif)),
        "fangsong": _stack(*fonts.official("fangsong", fonts.serif)),
        "kaiti": _stack(*fonts.official("kaiti", fonts.serif)),
        "heiti": _stack(*fonts.official("heiti", fonts.sans)),
        "songti": _stack(*fonts.official("songti", fonts.serif)),
    }


def _widths(table: Table) -> list[float]:
    n = len(table.columns)
    raw = table.widths if table.widths and len(table.widths) == n else [1.0] * n
    total = sum(w for w in raw if w > 0) or 1.0
    return [100.0 * max(w, 0.0) / total for w in raw]


def _png_uri(image: Image) -> str:
    return "data:image/png;base64," + base64.b64encode(image.png).decode("ascii")


def _core_width_cm(landscape: bool) -> float:
    width = layout.PAGE_H_MM if landscape else layout.PAGE_W_MM
    return (width - layout.LEFT_MM - layout.RIGHT_MM) / 10


def html(doc: OfficialDocument) -> str:
    """The HTML WeasyPrint lays out (exposed for tests and debugging)."""
    dated = layout.chinese_date(doc.dated) if doc.dated else None
    number = doc.doc_number or ("（草稿）" if doc.draft else None)
    context: dict[str, Any] = {
        "doc": doc,
        "L": layout,
        "f": font_stacks(),
        "number": number,
        "title_lines": layout.title_lines(
            doc.title,
            layout.TITLE_CHARS_PER_LINE_LANDSCAPE if doc.landscape else layout.TITLE_CHARS_PER_LINE,
        ),
        "dated": dated,
        "date_indent": layout.date_right_indent_chars(doc.signature, dated or ""),
        "widths": _widths,
        "png_uri": _png_uri,
        "image_width_cm": lambda b: min(b.width_cm, _core_width_cm(doc.landscape)),
    }
    return _template().render(**context)


def render(doc: OfficialDocument) -> bytes:
    """The document as PDF bytes, CJK fonts embedded (subset); raises FontUnavailable without them."""
    import weasyprint  # imported here: it loads Pango, HarfBuzz and fontconfig on first use

    source = html(doc)
    # One document at a time per process: Pango and fontconfig are shared C state, and a document
    # takes well under a second (docs/documents.md), so a worker thread waits rather than races.
    with RENDER_LOCK:
        result = weasyprint.HTML(string=source, base_url=str(_TEMPLATES)).write_pdf()
    assert result is not None
    return bytes(result)
