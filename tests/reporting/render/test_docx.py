"""The DOCX read back with python-docx: text, page, margins, faces, 版头, footers, 版记, properties."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm

from services.reporting.render import docx as render_docx
from services.reporting.render import layout
from tests.reporting.render.support import special_report

W = qn("w:eastAsia")


def read(doc_bytes: bytes):  # type: ignore[no-untyped-def]
    assert doc_bytes[:2] == b"PK"
    return Document(io.BytesIO(doc_bytes))


def paragraph(document, text: str):  # type: ignore[no-untyped-def]
    for p in document.paragraphs:
        if p.text.replace("\n", "") == text:
            return p
    raise AssertionError(f"no paragraph {text!r} in {[p.text for p in document.paragraphs]}")


def east_asia(p) -> set[str]:  # type: ignore[no-untyped-def]
    faces = set()
    for run in p.runs:
        rfonts = run._r.rPr.rFonts
        faces.add(rfonts.get(W))
    return faces


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return read(render_docx.render(special_report()))


def texts_of(document) -> list[str]:  # type: ignore[no-untyped-def]
    """Every paragraph's text, a title's line breaks left out."""
    return [p.text.replace("\n", "") for p in document.paragraphs]


def test_every_text_of_the_document_comes_back(document) -> None:  # type: ignore[no-untyped-def]
    texts = texts_of(document)
    for expected in (
        "中共宁波市委组织部",
        "甬组督〔2026〕3号",
        "关于2026年第一季度基层党建专项督查情况的专报",
        "市委、市政府领导：",
        "一、基本情况",
        "（一）督查覆盖面",
        "1.主要做法",
        "持续压实整改责任，推动问题清单销号管理。",
        "表1 各区（县、市）督查得分",
        "图1 等次分布",
        "2026年4月3日",
        "（此件发至县级）",
    ):
        assert expected in texts
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["排名", "地区", "综合得分", "等次"]
    assert [c.text for c in table.rows[2].cells] == ["2", "鄞州区", "90.10", "较好"]


def test_a4_with_the_gbt_9704_margins(document) -> None:  # type: ignore[no-untyped-def]
    s = document.sections[0]
    tolerance = Mm(0.1)
    for actual, mm in (
        (s.page_width, 210),
        (s.page_height, 297),
        (s.top_margin, 37),
        (s.bottom_margin, 35),
        (s.left_margin, 28),
        (s.right_margin, 26),
    ):
        assert abs(actual - Mm(mm)) <= tolerance, (actual, mm)
    # 版心 156 x 225 mm
    assert abs(s.page_width - s.left_margin - s.right_margin - Mm(156)) <= tolerance
    assert abs(s.page_height - s.top_margin - s.bottom_margin - Mm(225)) <= tolerance
    # 22 lines: the grid's pitch and the body's exact line spacing are 28.95 pt (1/20 pt units).
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "580"
    assert abs(document.styles["Normal"].paragraph_format.line_spacing.pt - 225 * 72 / 25.4 / 22) < 0.05
    # mirrored margins: 28 mm is the inner (binding) side of every page
    assert document.settings.element.find(qn("w:mirrorMargins")) is not None


def test_title_body_and_headings_name_their_official_faces(document) -> None:  # type: ignore[no-untyped-def]
    title = paragraph(document, "关于2026年第一季度基层党建专项督查情况的专报")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    # too long for one line of 二号: two balanced lines, broken after 「季度」 (梯形)
    assert title.text == "关于2026年第一季度\n基层党建专项督查情况的专报"
    assert east_asia(title) == {"方正小标宋简体"}
    assert title.runs[0].font.size.pt == 22
    body = paragraph(document, "持续压实整改责任，推动问题清单销号管理。")
    assert east_asia(body) == {"仿宋_GB2312"}
    assert body.runs[0].font.size.pt == 16
    assert abs(body.paragraph_format.first_line_indent.pt - 2 * layout.CHAR_PITCH_PT) < 0.1
    assert east_asia(paragraph(document, "一、基本情况")) == {"黑体"}
    assert east_asia(paragraph(document, "（一）督查覆盖面")) == {"楷体_GB2312"}
    level3 = paragraph(document, "1.主要做法")
    assert east_asia(level3) == {"仿宋_GB2312"} and level3.runs[0].font.bold
    # The document default is 三号 仿宋 too (what Word measures its grid against).
    normal_fonts = document.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(W) == "仿宋_GB2312"


def test_the_red_head_then_the_number_over_the_red_rule(document) -> None:  # type: ignore[no-untyped-def]
    mark = paragraph(document, "中共宁波市委组织部")
    assert mark.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert str(mark.runs[0].font.color.rgb) == "FF0000"
    number = paragraph(document, "甬组督〔2026〕3号")
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"
    order = texts_of(document)
    assert (
        order.index("中共宁波市委组织部")
        < order.index("甬组督〔2026〕3号")
        < order.index("关于2026年第一季度基层党建专项督查情况的专报")
    )


def test_signature_and_date_on_the_right(document) -> None:  # type: ignore[no-untyped-def]
    texts = [p.text for p in document.paragraphs]
    signature = document.paragraphs[len(texts) - 1 - texts[::-1].index("中共宁波市委组织部")]
    assert signature.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert abs(signature.paragraph_format.right_indent.pt - 2 * layout.CHAR_PITCH_PT) < 0.1
    dated = paragraph(document, "2026年4月3日")
    assert dated.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    # 首字比署名首字右移二字: 9 characters of signature, 6 of date (digits are half wide)
    assert abs(dated.paragraph_format.right_indent.pt - 3 * layout.CHAR_PITCH_PT) < 0.1


def test_page_numbers_are_page_fields_odd_right_even_left(document) -> None:  # type: ignore[no-untyped-def]
    assert document.settings.odd_and_even_pages_header_footer
    s = document.sections[0]
    for footer, align in (
        (s.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        assert p.alignment == align
        instr = "".join(t.text for t in p._p.iter(qn("w:instrText")))
        assert instr.strip() == "PAGE"
        assert p.text.startswith("— ") and p.text.endswith(" —")
        assert {r._r.rPr.rFonts.get(W) for r in p.runs} == {"宋体"}
        assert {r.font.size.pt for r in p.runs} == {14}


def test_the_record_floats_to_the_foot_between_its_rules(document) -> None:  # type: ignore[no-untyped-def]
    record = document.tables[-1]
    assert [row.cells[0].text for row in record.rows] == [
        "抄送：各区（县、市）委组织部。",
        "中共宁波市委组织部办公室\t2026年4月3日印发",
    ]
    tbl_pr = record._tbl.tblPr
    floating = tbl_pr.find(qn("w:tblpPr"))
    assert floating.get(qn("w:vertAnchor")) == "page"
    # its foot on the 版心's: 35 mm above the page's foot, give or take a point
    top_pt = int(floating.get(qn("w:tblpY"))) / 20
    bottom_pt = top_pt + len(record.rows) * layout.SIZE_RECORD * 1.6
    assert abs(bottom_pt - (297 - 35) * 72 / 25.4) < 3
    borders = tbl_pr.find(qn("w:tblBorders"))
    assert borders.find(qn("w:top")).get(qn("w:sz")) == "8"  # thick 0.35 mm
    assert borders.find(qn("w:insideH")).get(qn("w:sz")) == "6"  # thin 0.25 mm
    assert borders.find(qn("w:bottom")).get(qn("w:sz")) == "8"
    # the body still ends in a paragraph
    assert document.element.body[-2].tag == qn("w:p")


def test_tables_have_borders_and_images_are_inline(document) -> None:  # type: ignore[no-untyped-def]
    table = document.tables[0]
    assert table.style.name == "Table Grid"
    assert len(document.inline_shapes) == 1
    assert abs(document.inline_shapes[0].width - Mm(120)) <= Mm(0.1)


def test_core_properties_carry_the_title(document) -> None:  # type: ignore[no-untyped-def]
    assert document.core_properties.title == "关于2026年第一季度基层党建专项督查情况的专报"
    assert document.core_properties.author == "中共宁波市委组织部"


def test_a_draft_is_marked_on_every_page_and_has_no_number() -> None:
    document = read(render_docx.render(special_report(draft=True, doc_number=None)))
    texts = [p.text for p in document.paragraphs]
    assert "（草稿）" in texts and "甬组督〔2026〕3号" not in texts
    s = document.sections[0]
    assert s.header.paragraphs[0].text == "草稿"
    assert s.even_page_header.paragraphs[0].text == "草稿"


def test_without_a_head_there_is_no_red_rule_and_landscape_turns_the_page() -> None:
    document = read(render_docx.render(special_report(issuer_mark=None, landscape=True)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "甬组督〔2026〕3号"
    number = document.paragraphs[0]
    assert number._p.pPr is None or number._p.pPr.find(qn("w:pBdr")) is None
    s = document.sections[0]
    assert s.page_width > s.page_height
    assert abs(s.page_width - Mm(297)) <= Mm(0.1)
    # a wider 版心: the title keeps to one line
    assert "\n" not in paragraph(document, "关于2026年第一季度基层党建专项督查情况的专报").text


def test_a_bare_document_is_only_its_title() -> None:
    from services.reporting.render.model import OfficialDocument

    document = read(render_docx.render(OfficialDocument(title="问题清单")))
    assert [p.text for p in document.paragraphs] == ["问题清单"]


def test_characters_xml_cannot_hold_do_not_fail_the_document() -> None:
    from services.reporting.render.model import OfficialDocument, Paragraph

    text = "台账\x01不全\ufffe"
    document = read(render_docx.render(OfficialDocument(title="问题\x0b清单", blocks=[Paragraph(text=text)])))
    assert texts_of(document) == ["问题\ufffd清单", "台账\ufffd不全\ufffd"]
