"""Charts: SVG that parses and carries its text as outlines, PNG at 144 dpi, Chinese in a CJK font."""

from __future__ import annotations

import io
import warnings
import xml.etree.ElementTree as ET

import pytest
from PIL import Image as PILImage

from services.reporting.render import charts
from services.reporting.render.model import Chart, Series

SVG = "{http://www.w3.org/2000/svg}"
DISTRICTS = ["海曙区", "江北区", "镇海区", "北仑区", "鄞州区", "奉化区", "余姚市", "慈溪市"]

CHARTS = {
    "bar": Chart(
        kind="bar",
        title="各区（县、市）督查覆盖率",
        categories=DISTRICTS,
        series=[Series(name="覆盖率", values=[95, 88, 100, 76.5, 90, 85, 92, 99])],
        unit="%",
    ),
    "barh": Chart(
        kind="barh",
        title="区县排名",
        categories=DISTRICTS[:3],
        series=[Series(name="得分", values=[92.5, 90, -3])],
    ),
    "stacked_bar": Chart(
        kind="stacked_bar",
        title="评分表状态",
        categories=DISTRICTS[:4],
        series=[
            Series(name="已锁定", values=[10, 8, 6, 4]),
            Series(name="待审核", values=[2, 0, 1, 3], color="#888888"),
        ],
        unit="份",
    ),
    "stacked_barh": Chart(
        kind="stacked_barh",
        title="整改进度",
        categories=DISTRICTS[:3],
        series=[Series(name="已整改", values=[30, 20, 10]), Series(name="已逾期", values=[1, 0, 3])],
        unit="个",
    ),
    "donut": Chart(
        kind="donut",
        title="等次分布",
        categories=["好", "较好", "一般", "差"],
        series=[Series(name="评分表", values=[40, 60, 25, 5])],
        unit="份",
    ),
}


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_svg_parses_and_has_no_font_dependent_text(kind: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = charts.render(CHARTS[kind], "svg")
    # a glyph matplotlib could not find in the CJK font would warn 「Glyph … missing from font(s)」
    assert not [w for w in caught if "missing from font" in str(w.message)]
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}text")), "text must be drawn as paths"
    # matplotlib names each glyph outline after its font: the Chinese comes from the CJK one
    ids = {p.get("id") or "" for p in root.iter(f"{SVG}path")}
    cjk = {i for i in ids if "CJK" in i}
    assert len(cjk) >= len(set(CHARTS[kind].title) - set("（）")), sorted(ids)


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_png_decodes_at_144_dpi(kind: str) -> None:
    data = charts.render(CHARTS[kind], "png")
    img = PILImage.open(io.BytesIO(data))
    img.load()
    assert img.format == "PNG"
    assert img.size == (round(charts.SIZE_IN[0] * 144), round(charts.SIZE_IN[1] * 144))
    dpi = img.info.get("dpi")
    assert dpi is not None and round(dpi[0]) == 144
    # something is drawn: not one flat colour
    extrema = img.convert("L").getextrema()
    assert extrema[0] < 100 and extrema[1] > 200


def test_an_empty_donut_says_so() -> None:
    chart = Chart(
        kind="donut", title="等次分布", categories=["好"], series=[Series(name="评分表", values=[0])]
    )
    ET.fromstring(charts.render(chart, "svg"))
