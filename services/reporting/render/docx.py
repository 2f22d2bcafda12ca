"""An official document to DOCX (python-docx), laid out per GB/T 9704-2012 (figures in layout.py).

A4, 天头 37 mm, 地脚 35 mm, 订口 28 mm (inner: mirrored margins), right 26 mm; a document grid of 22
lines x 28 characters of 三号 text; title 二号 方正小标宋简体; body 三号 仿宋_GB2312 indented two
characters; headings 黑体 / 楷体_GB2312 / 仿宋 bold; the red 版头; 「— 1 —」 page numbers in 四号 宋体
(odd pages right, even left); the 版记 between its rules. Word substitutes its own CJK faces where
the official ones are missing; the file names them all the same (w:rFonts w:eastAsia).
"""

from __future__ import annotations

import io
from datetime import datetime, time

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.settings import CT_Settings
from docx.oxml.text.parfmt import CT_PPr
from docx.section import Section
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from services.reporting.render import layout
from services.reporting.render.model import (
    Heading,
    Image,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)

XIAOBIAOSONG = "方正小标宋简体"
FANGSONG = "仿宋_GB2312"
KAITI = "楷体_GB2312"
HEITI = "黑体"
SONGTI = "宋体"
LATIN = "Times New Roman"
HEADING_FONTS = {1: HEITI, 2: KAITI, 3: FANGSONG}

# The elements that must follow them (WordprocessingML fixes the order of children).
_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_AFTER_RPR_SPACING = (
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)
_AFTER_OUTLINE = ("w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_MIRROR_MARGINS = (
    "w:alignBordersAndEdges",
    "w:bordersDoNotSurroundHeader",
    "w:bordersDoNotSurroundFooter",
    "w:gutterAtTop",
    "w:hideSpellingErrors",
    "w:hideGrammaticalErrors",
    "w:activeWritingStyle",
    "w:proofState",
    "w:formsDesign",
    "w:attachedTemplate",
    "w:linkStyles",
    "w:stylePaneFormatFilter",
    "w:stylePaneSortMethod",
    "w:documentType",
    "w:mailMerge",
    "w:revisionView",
    "w:trackRevisions",
    "w:doNotTrackMoves",
    "w:doNotTrackFormatting",
    "w:documentProtection",
    "w:autoFormatOverride",
    "w:styleLockTheme",
    "w:styleLockQFSet",
    "w:defaultTabStop",
    "w:autoHyphenation",
    "w:consecutiveHyphenLimit",
    "w:hyphenationZone",
    "w:doNotHyphenateCaps",
    "w:showEnvelope",
    "w:summaryLength",
    "w:clickAndTypeStyle",
    "w:defaultTableStyle",
    "w:evenAndOddHeaders",
    "w:bookFoldRevPrinting",
    "w:bookFoldPrinting",
    "w:bookFoldPrintingSheets",
    "w:drawingGridHorizontalSpacing",
    "w:drawingGridVerticalSpacing",
    "w:displayHorizontalDrawingGridEvery",
    "w:displayVerticalDrawingGridEvery",
    "w:doNotUseMarginsForDrawingGridOrigin",
    "w:drawingGridHorizontalOrigin",
    "w:drawingGridVerticalOrigin",
    "w:doNotShadeFormData",
    "w:noPunctuationKerning",
    "w:characterSpacingControl",
    "w:printTwoOnOne",
    "w:strictFirstAndLastChars",
    "w:noLineBreaksAfter",
    "w:noLineBreaksBefore",
    "w:savePreviewPicture",
    "w:doNotValidateAgainstSchema",
    "w:saveInvalidXml",
    "w:ignoreMixedContent",
    "w:alwaysShowPlaceholderText",
    "w:doNotDemarcateInvalidXml",
    "w:saveXmlDataOnly",
    "w:useXSLTWhenSaving",
    "w:saveThroughXslt",
    "w:showXMLTags",
    "w:alwaysMergeEmptyNamespace",
    "w:updateFields",
    "w:hdrShapeDefaults",
    "w:footnotePr",
    "w:endnotePr",
    "w:compat",
    "w:docVars",
    "w:rsids",
    "w:attachedSchema",
    "w:themeFontLang",
    "w:clrSchemeMapping",
    "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures",
    "w:forceUpgrade",
    "w:captions",
    "w:readModeInkLockDown",
    "w:smartTagType",
    "w:shapeDefaults",
    "w:doNotEmbedSmartTags",
    "w:decimalSymbol",
    "w:listSeparator",
)

_LINE = Pt(layout.LINE_PITCH_PT)
_CHAR = layout.CHAR_PITCH_PT


def _font(run: Run, east_asia: str, size: float, *, bold: bool = False, color: str | None = None) -> Run:
    """Set a run's faces: Latin through python-docx, the CJK face through w:rFonts w:eastAsia."""
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold or None
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    rfonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)
    return run


def _para(
    doc: Document,
    text: str,
    east_asia: str = FANGSONG,
    size: float = layout.SIZE_BODY,
    *,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent_chars: float = 0.0,
    bold: bool = False,
    color: str | None = None,
    before_lines: float = 0.0,
    after_lines: float = 0.0,
    line_pt: float | None = None,
) -> DocxParagraph:
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(indent_chars * _CHAR)
    if before_lines:
        fmt.space_before = Pt(before_lines * layout.LINE_PITCH_PT)
    if after_lines:
        fmt.space_after = Pt(after_lines * layout.LINE_PITCH_PT)
    if line_pt is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line_pt)
    if text:
        _font(p.add_run(layout.xml_safe(text)), east_asia, size, bold=bold, color=color)
    return p


def _border(p: DocxParagraph, side: str, *, size_eighths: int, color: str = "000000", space: int = 1) -> None:
    """A rule along one side of a paragraph (w:pBdr), as wide as the 版心."""
    ppr: CT_PPr = p._p.get_or_add_pPr()
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(pbdr, *_AFTER_PBDR)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), str(space))
    edge.set(qn("w:color"), color)
    pbdr.append(edge)


def _outline(p: DocxParagraph, level: int) -> None:
    """Mark a heading for Word's navigation pane without its (Latin, blue) built-in styles."""
    ppr: CT_PPr = p._p.get_or_add_pPr()
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), str(level - 1))
    ppr.insert_element_before(lvl, *_AFTER_OUTLINE)


def _page_field(p: DocxParagraph, size: float) -> None:
    """「— PAGE —」: a complex PAGE field between em dashes."""
    _font(p.add_run("— "), SONGTI, size)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = _font(p.add_run(), SONGTI, size)
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text or ""
    _font(p.add_run(" —"), SONGTI, size)


def _doc_defaults(doc: Document) -> None:
    """三号 仿宋 as the document default: the grid's character pitch is measured against its size."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr is not None:
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is not None:
            rfonts.attrib.clear()
            for attr, face in (("ascii", LATIN), ("hAnsi", LATIN), ("eastAsia", FANGSONG), ("cs", LATIN)):
                rfonts.set(qn(f"w:{attr}"), face)
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is not None:
                el.set(qn("w:val"), str(round(layout.SIZE_BODY * 2)))
        lang = rpr.find(qn("w:lang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    if spacing is not None:
        spacing.set(qn("w:after"), "0")


def _setup(doc: Document, src: OfficialDocument) -> Section:
    _doc_defaults(doc)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(layout.SIZE_BODY)
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
    if rpr.find(qn("w:spacing")) is None:
        # 28 characters a line: every character 0.25 pt tighter (layout.LETTER_SPACING_PT).
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(round(layout.LETTER_SPACING_PT * 20)))
        rpr.insert_element_before(spacing, *_AFTER_RPR_SPACING)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = _LINE
    pf.widow_control = False

    section = doc.sections[0]
    if src.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(layout.PAGE_H_MM), Mm(layout.PAGE_W_MM)
    else:
        section.page_width, section.page_height = Mm(layout.PAGE_W_MM), Mm(layout.PAGE_H_MM)
    section.top_margin = Mm(layout.TOP_MM)
    section.bottom_margin = Mm(layout.BOTTOM_MM)
    section.left_margin = Mm(layout.LEFT_MM)
    section.right_margin = Mm(layout.RIGHT_MM)
    section.gutter = Mm(0)
    section.header_distance = Mm(15)
    # The page number's rule sits 7 mm under the 版心: its line's foot is about one 四号 line lower.
    section.footer_distance = Mm(layout.BOTTOM_MM - layout.PAGE_NO_GAP_MM) - Pt(layout.SIZE_PAGE_NO * 1.3)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(layout.LINE_PITCH_PT * 20)))
    grid.attrib.pop(qn("w:charSpace"), None)

    settings: CT_Settings = doc.settings.element
    doc.settings.odd_and_even_pages_header_footer = True
    if settings.find(qn("w:mirrorMargins")) is None:
        settings.insert_element_before(OxmlElement("w:mirrorMargins"), *_AFTER_MIRROR_MARGINS)

    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(layout.SIZE_PAGE_NO)
    _page_field(odd, layout.SIZE_PAGE_NO)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(layout.SIZE_PAGE_NO)
    _page_field(even, layout.SIZE_PAGE_NO)
    for footer_par in (odd, even):
        footer_par.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if src.draft:
        for header in (section.header, section.even_page_header):
            hp = header.paragraphs[0]
            hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            hp.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _font(hp.add_run("草稿"), HEITI, layout.SIZE_PAGE_NO, color="C00000")
    return section


def _core_width_mm(src: OfficialDocument) -> float:
    width = layout.PAGE_H_MM if src.landscape else layout.PAGE_W_MM
    return width - layout.LEFT_MM - layout.RIGHT_MM


def _table(doc: Document, src: OfficialDocument, block: Table) -> DocxTable:
    if block.caption:
        _para(doc, block.caption, HEITI, layout.SIZE_BODY - 2, align=WD_ALIGN_PARAGRAPH.CENTER)
    ncols = max(1, len(block.columns))
    table = doc.add_table(rows=1 + len(block.rows), cols=ncols)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    raw = block.widths if block.widths and len(block.widths) == ncols else [1.0] * ncols
    total = sum(max(w, 0.0) for w in raw) or 1.0
    widths = [Mm(_core_width_mm(src) * max(w, 0.0) / total) for w in raw]
    header_row = table.rows[0]
    tr_pr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    tr_pr.append(repeat)
    # One pass over the rows and one `cells` per row: indexing table.rows[r] and row.cells[c] walks
    # the XML from the start each time, quadratic in a 2,000-row problem list (17 s against 5 s).
    for r, (row, values) in enumerate(zip(table.rows, [block.columns, *block.rows], strict=True)):
        cells = row.cells
        for c in range(ncols):
            cell = cells[c]
            cell.width = widths[c]
            text = values[c] if c < len(values) else ""
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            p.paragraph_format.line_spacing = Pt(layout.SIZE_TABLE * 1.5)
            _font(p.add_run(layout.xml_safe(str(text))), HEITI if r == 0 else FANGSONG, layout.SIZE_TABLE)
    for c, col in enumerate(table.columns):
        col.width = widths[c]
    # A line under the table so the next paragraph does not stick to it.
    _para(doc, "", line_pt=layout.LINE_PITCH_PT / 2)
    return table


def _image(doc: Document, src: OfficialDocument, block: Image) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    width = min(block.width_cm * 10, _core_width_mm(src))
    p.add_run().add_picture(io.BytesIO(block.png), width=Mm(width))
    if block.caption:
        _para(doc, block.caption, FANGSONG, layout.SIZE_BODY - 2, align=WD_ALIGN_PARAGRAPH.CENTER)


def _record(doc: Document, src: OfficialDocument) -> DocxTable | None:
    """版记 at the foot of the last page: 抄送 and 印发 lines between a thick rule (0.35 mm), a thin one
    (0.25 mm) and a thick one. A one-column table floated to the bottom of the 版心 (w:tblpPr), so
    it stays there however much text comes before it."""
    size = layout.SIZE_RECORD
    rows: list[list[tuple[str, str]]] = []
    if src.cc:
        rows.append([(f"抄送：{src.cc}。", "")])
    if src.printed_by:
        dated = f"{layout.chinese_date(src.dated)}印发" if src.dated else "印发"
        rows.append([(src.printed_by, ""), ("\t" + dated, "")])
    if not rows:
        return None
    # A hair (0.2 mm) narrower than the 版心: LibreOffice keeps a table as wide as the text inline.
    width = Mm(_core_width_mm(src) - 0.2)
    table = doc.add_table(rows=len(rows), cols=1)
    tbl_pr = table._tbl.tblPr
    float_pr = OxmlElement("w:tblpPr")
    # Its top edge, from the top of the page, so its foot is the 版心's (an absolute position: Word and
    # LibreOffice both honour it, LibreOffice ignores tblpYSpec="bottom").
    page_h = layout.PAGE_W_MM if src.landscape else layout.PAGE_H_MM
    top_pt = (page_h - layout.BOTTOM_MM) * layout.PT_PER_MM - len(rows) * size * 1.6 - 2
    for attr, value in (
        ("w:leftFromText", "0"),
        ("w:rightFromText", "0"),
        ("w:topFromText", "0"),
        ("w:bottomFromText", "0"),
        ("w:vertAnchor", "page"),
        ("w:horzAnchor", "margin"),
        ("w:tblpXSpec", "center"),
        ("w:tblpY", str(round(top_pt * 20))),
    ):
        float_pr.set(qn(attr), value)
    tbl_pr.insert(1 if tbl_pr.find(qn("w:tblStyle")) is not None else 0, float_pr)
    borders = OxmlElement("w:tblBorders")
    for side, sz in (("top", 8), ("left", 0), ("bottom", 8), ("right", 0), ("insideH", 6), ("insideV", 0)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single" if sz else "nil")
        if sz:
            edge.set(qn("w:sz"), str(sz))
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        borders.append(edge)
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(borders)
    else:
        tbl_pr.append(borders)
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(round(width.pt * 20)))
    for row, runs in zip(table.rows, rows, strict=True):
        cell = row.cells[0]
        cell.width = width
        p = cell.paragraphs[0]
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(size * 1.6)
        fmt.left_indent = Pt(size)
        fmt.right_indent = Pt(size)
        fmt.tab_stops.add_tab_stop(width - Pt(2 * size) - Mm(0.4), WD_TAB_ALIGNMENT.RIGHT)
        for text, _ in runs:
            _font(p.add_run(layout.xml_safe(text)), FANGSONG, size)
    table.columns[0].width = width
    # The body must end in a paragraph (Word and LibreOffice drop a floating table left last);
    # one point high, so it never adds a page.
    _para(doc, "", line_pt=1.0)
    return table


def build(src: OfficialDocument) -> Document:
    """The python-docx document (exposed for tests); :func:`render` saves it."""
    doc = new_document()
    # The default template's one empty paragraph would push the 版头 down a line.
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    _setup(doc, src)
    center = WD_ALIGN_PARAGRAPH.CENTER
    number = src.doc_number or ("（草稿）" if src.draft else None)
    title_before = 0.0
    if src.issuer_mark:
        mark = _para(
            doc,
            src.issuer_mark,
            XIAOBIAOSONG,
            layout.SIZE_ISSUER,
            align=center,
            color=layout.RED,
            line_pt=layout.SIZE_ISSUER * 1.2,
        )
        mark.paragraph_format.space_before = Mm(layout.issuer_top_mm(src.landscape))
        title_before = 2.0
    if number:
        num = _para(doc, number, FANGSONG, align=center, before_lines=2.0 if src.issuer_mark else 0.0)
        title_before = 2.0 if src.issuer_mark else 1.0
        if src.issuer_mark:
            # The red rule 4 mm under the 发文字号, as wide as the 版心.
            _border(num, "bottom", size_eighths=8, color=layout.RED, space=11)
    title = _para(
        doc,
        "",
        XIAOBIAOSONG,
        layout.SIZE_TITLE,
        align=center,
        before_lines=title_before,
        after_lines=1.0,
        line_pt=layout.SIZE_TITLE * 1.5,
    )
    # A long title in balanced lines (梯形), each a line break inside the one paragraph.
    per_line = layout.TITLE_CHARS_PER_LINE_LANDSCAPE if src.landscape else layout.TITLE_CHARS_PER_LINE
    for i, line in enumerate(layout.title_lines(src.title, per_line)):
        if i:
            _font(title.add_run(), XIAOBIAOSONG, layout.SIZE_TITLE).add_break(WD_BREAK.LINE)
        _font(title.add_run(layout.xml_safe(line)), XIAOBIAOSONG, layout.SIZE_TITLE)
    if src.addressee:
        _para(doc, src.addressee)
    for block in src.blocks:
        if isinstance(block, Heading):
            p = _para(doc, block.text, HEADING_FONTS[block.level], indent_chars=2, bold=block.level == 3)
            _outline(p, block.level)
        elif isinstance(block, Paragraph):
            p = _para(doc, block.text, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        elif isinstance(block, Table):
            _table(doc, src, block)
        elif isinstance(block, Image):
            _image(doc, src, block)
        elif isinstance(block, PageBreak):
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    dated = layout.chinese_date(src.dated) if src.dated else None
    if src.signature:
        p = _para(doc, src.signature, align=WD_ALIGN_PARAGRAPH.RIGHT, before_lines=2.0)
        p.paragraph_format.right_indent = Pt(layout.SIGNATURE_RIGHT_INDENT_CHARS * _CHAR)
    if dated:
        p = _para(doc, dated, align=WD_ALIGN_PARAGRAPH.RIGHT, before_lines=0.0 if src.signature else 2.0)
        p.paragraph_format.right_indent = Pt(layout.date_right_indent_chars(src.signature, dated) * _CHAR)
    if src.note:
        _para(doc, f"（{src.note}）", indent_chars=2, before_lines=1.0)
    _record(doc, src)

    props = doc.core_properties
    props.title = layout.xml_safe(src.title)
    props.author = layout.xml_safe(src.signature or src.issuer_mark or "")
    props.last_modified_by = props.author
    props.comments = ""
    props.language = "zh-CN"
    props.revision = 1
    if src.dated:
        stamp = datetime.combine(src.dated, time(0, 0))
        props.created = stamp
        props.modified = stamp
    return doc


def render(doc: OfficialDocument) -> bytes:
    """The document as DOCX bytes."""
    out = io.BytesIO()
    build(doc).save(out)
    return out.getvalue()
