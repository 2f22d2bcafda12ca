"""The PDF read back with poppler: the Chinese text (pdftotext), embedded subset CJK fonts (pdffonts),
and page 1 rendered (pdftoppm -r 50) and checked with Pillow: the title centred, its glyphs real."""

from __future__ import annotations

import io
import re
import statistics
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from services.reporting.render import fonts, layout, pdf
from services.reporting.render.model import OfficialDocument
from tests.reporting.render.support import long_report, pdf_text, poppler, special_report, squeeze

DPI = 50
PX_PER_MM = DPI / 25.4
# One line, no digits or Latin (each character one 二号 em wide): the title's cells can be measured.
TITLE = "关于基层党建专项督查情况的专报"


@pytest.fixture(scope="module")
def report_pdf() -> bytes:
    return pdf.render(special_report())


def page_image(document: bytes, tmp_path: Path, page: int = 1) -> PILImage.Image:
    path = tmp_path / "page.pdf"
    path.write_bytes(document)
    out = poppler("pdftoppm", "-r", str(DPI), "-png", "-f", str(page), "-l", str(page), str(path)).stdout
    if not out:  # older poppler writes files only
        poppler(
            "pdftoppm",
            "-r",
            str(DPI),
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            str(tmp_path / "p"),
        )
        out = next(tmp_path.glob("p*.png")).read_bytes()
    return PILImage.open(io.BytesIO(out)).convert("L")


def ink_rows(img: PILImage.Image, threshold: int = 160) -> list[int]:
    w, h = img.size
    px = img.load()
    return [y for y in range(h) if any(px[x, y] < threshold for x in range(w))]


def bands(rows: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive inked rows: the lines of text (top, bottom inclusive)."""
    out: list[tuple[int, int]] = []
    for y in rows:
        if out and y <= out[-1][1] + 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out


def ink_columns(img: PILImage.Image, top: int, bottom: int, threshold: int = 160) -> list[int]:
    px = img.load()
    return [x for x in range(img.size[0]) if any(px[x, y] < threshold for y in range(top, bottom + 1))]


def test_the_chinese_text_comes_back(report_pdf: bytes, tmp_path: Path) -> None:
    text = squeeze(pdf_text(report_pdf, tmp_path))
    for expected in (
        "中共宁波市委组织部",
        "甬组督〔2026〕3号",
        "关于2026年第一季度基层党建专项督查情况的专报",
        "市委、市政府领导：",
        "一、基本情况",
        "（一）督查覆盖面",
        "1.主要做法",
        "表1各区（县、市）督查得分",
        "慈溪市",
        "90.10",
        "图1等次分布",
        "二、下一步工作",
        "持续压实整改责任，推动问题清单销号管理。",
        "2026年4月3日",
        "（此件发至县级）",
        "抄送：各区（县、市）委组织部。",
        "2026年4月3日印发",
    ):
        assert expected in text, expected


def test_page_numbers_are_dashed_odd_right_even_left(report_pdf: bytes, tmp_path: Path) -> None:
    # The PageBreak makes two pages; the 版记 keeps to the foot of the last.
    first = pdf_text(report_pdf, tmp_path, 1)
    second = pdf_text(report_pdf, tmp_path, 2)
    assert "—1—" in squeeze(first) and "—2—" in squeeze(second)
    img1, img2 = page_image(report_pdf, tmp_path, 1), page_image(report_pdf, tmp_path, 2)
    w, h = img1.size
    for img, odd in ((img1, True), (img2, False)):
        top, bottom = bands(ink_rows(img))[-1]
        # under the 版心 (its foot is 35 mm above the page's), within the 地脚
        assert top > h - layout.BOTTOM_MM * PX_PER_MM
        cols = ink_columns(img, top, bottom)
        middle = (cols[0] + cols[-1]) / 2
        assert (middle > w / 2) is odd


def test_cjk_fonts_are_embedded_as_subsets(report_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(report_pdf)
    listing = poppler("pdffonts", str(path)).stdout.decode()
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows, listing
    expected = {fonts.cjk_fonts().serif.replace(" ", "-"), fonts.cjk_fonts().sans.replace(" ", "-")}
    names = {re.sub(r"^[A-Z]{6}\+", "", r[0]) for r in rows}
    assert expected <= {re.sub(r"-Bold$", "", n) for n in names}, listing
    for row in rows:
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), listing


def test_a_draft_says_so(tmp_path: Path) -> None:
    text = squeeze(pdf_text(pdf.render(special_report(draft=True, doc_number=None)), tmp_path))
    assert "（草稿）" in text and "草稿" in text.replace("（草稿）", "")
    assert "甬组督" not in text


def test_the_title_is_centred_in_the_type_area(tmp_path: Path) -> None:
    doc = OfficialDocument(title=TITLE, blocks=[])
    img = page_image(pdf.render(doc), tmp_path)
    top, bottom = bands(ink_rows(img))[0]
    # the first line of ink is the title, at the top of the 版心
    assert abs(top - layout.TOP_MM * PX_PER_MM) < 12
    cols = ink_columns(img, top, bottom)
    left = cols[0] / PX_PER_MM - layout.LEFT_MM
    right = (img.size[0] - 1 - cols[-1]) / PX_PER_MM - layout.RIGHT_MM
    # centred in the 156 mm 版心: equal white either side (within 2 mm at 50 dpi)
    assert abs(left - right) < 2.0, (left, right)
    assert left > 20  # 15 characters of 22 pt leave about 40 mm on each side


def _cell_ink(img: PILImage.Image, x0: float, top: int, bottom: int, cell: float, n: int) -> list[float]:
    px = img.load()
    sums = []
    for i in range(n):
        a, b = round(x0 + i * cell), round(x0 + (i + 1) * cell)
        sums.append(sum(255 - px[x, y] for x in range(a, b) for y in range(top, bottom + 1)))
    return sums


def _correlation(a: list[float], b: list[float]) -> float:
    return statistics.correlation(a, b)


def test_the_title_glyphs_are_chinese_not_boxes(tmp_path: Path) -> None:
    """Ink per character cell of the rendered title against the same text drawn by FreeType (Pillow)
    in the CJK font: real glyphs follow the strokes (关 light, 督 heavy); boxes are all alike."""
    img = page_image(pdf.render(OfficialDocument(title=TITLE)), tmp_path)
    top, bottom = bands(ink_rows(img, threshold=230))[0]
    cols = ink_columns(img, top, bottom, threshold=230)
    cell = layout.SIZE_TITLE / 72 * DPI
    centre = (cols[0] + cols[-1]) / 2
    x0 = centre - cell * len(TITLE) / 2
    rendered = _cell_ink(img, x0, top, bottom, cell, len(TITLE))

    found = fonts.cjk_fonts()
    face = None
    for index in range(8):
        try:
            candidate = ImageFont.truetype(found.serif_file, 100, index=index)
        except OSError:
            break
        if candidate.getname()[0] == found.serif:
            face = candidate
            break
    assert face is not None
    reference = PILImage.new("L", (100 * len(TITLE), 140), 255)
    draw = ImageDraw.Draw(reference)
    for i, ch in enumerate(TITLE):
        draw.text((i * 100, 10), ch, font=face, fill=0)
    expected = _cell_ink(reference, 0, 0, 139, 100, len(TITLE))
    assert _correlation(rendered, expected) > 0.8
    # and the measure tells text apart: the title against itself reversed does not match
    assert _correlation(rendered, expected[::-1]) < 0.6
    # boxes would make every cell's ink alike; real glyphs vary
    assert statistics.pstdev(rendered) / statistics.mean(rendered) > 0.1


def test_a_ten_page_document_is_rendered_with_its_pages(tmp_path: Path) -> None:
    document = pdf.render(long_report(10))
    path = tmp_path / "long.pdf"
    path.write_bytes(document)
    info = poppler("pdfinfo", str(path)).stdout.decode()
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert 8 <= pages <= 14
    assert "—1—" in squeeze(pdf_text(document, tmp_path, 1))


def test_documents_rendered_from_several_threads_are_each_whole(tmp_path: Path) -> None:
    """The service renders in worker threads: concurrent calls wait for each other, none is mixed up."""
    from concurrent.futures import ThreadPoolExecutor

    titles = ["关于海曙区督查情况的通报", "关于江北区督查情况的通报", "关于镇海区督查情况的通报"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        documents = list(pool.map(lambda t: pdf.render(OfficialDocument(title=t)), titles))
    for title, document in zip(titles, documents, strict=True):
        assert squeeze(pdf_text(document, tmp_path)) == title + "—1—"


def test_characters_xml_cannot_hold_do_not_fail_the_pdf(tmp_path: Path) -> None:
    from services.reporting.render.model import Paragraph

    document = pdf.render(OfficialDocument(title="问题\x0b清单", blocks=[Paragraph(text="台账\x01不全")]))
    text = squeeze(pdf_text(document, tmp_path))
    assert "清单" in text and "台账" in text and "不全" in text
