"""The dashboard's charts, drawn by services.reporting.render.charts (the "render" change): SVG with
Chinese labels, PNG that decodes. These fail until the renderers are merged; they are not skipped."""

from __future__ import annotations

import html
import struct
import zlib

import pytest

from services.reporting.rounds.service import CHARTS
from tests.reporting.conftest import ADMIN, INSPECTOR, YINZHOU_ADMIN, Harness
from tests.reporting.test_dashboard import seed

LABELS = {
    "coverage": ["走访覆盖情况", "鄞州区", "已走访"],
    "grades": ["等次分布", "好"],
    "ranking": ["综合得分排名", "鄞州区"],
    "rectification": ["问题整改进度", "海曙区", "已销号"],
}


def decode_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG whose chunks and CRCs check out and whose image data inflates."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    width, height = size
    raw = zlib.decompress(idat)
    assert width > 100 and height > 100 and len(raw) > height
    return width, height


@pytest.mark.parametrize("name", CHARTS)
async def test_each_chart_as_svg_with_chinese_labels(reporting: Harness, name: str) -> None:
    await seed(reporting)
    r = await reporting.client.get(f"/rounds/2026Q1/dashboard/charts/{name}.svg", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    svg = html.unescape(r.text)
    assert "<svg" in svg
    # Text kept as text, or glyphs drawn as paths with the text in comments/ids: either way the
    # labels are in the file (matplotlib writes the text beside the glyph paths).
    for label in LABELS[name]:
        assert label in svg, (name, label)


@pytest.mark.parametrize("name", CHARTS)
async def test_each_chart_as_png(reporting: Harness, name: str) -> None:
    await seed(reporting)
    r = await reporting.client.get(f"/rounds/2026Q1/dashboard/charts/{name}.png", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    decode_png(r.content)


async def test_a_district_admin_charts_their_district(reporting: Harness) -> None:
    await seed(reporting)
    r = await reporting.client.get("/rounds/2026Q1/dashboard/charts/coverage.svg", headers=YINZHOU_ADMIN)
    assert r.status_code == 200, r.text
    assert "海曙区" not in html.unescape(r.text)


async def test_unknown_chart_round_or_reader(reporting: Harness) -> None:
    await seed(reporting)
    r = await reporting.client.get("/rounds/2026Q1/dashboard/charts/pie.svg", headers=ADMIN)
    assert r.status_code == 404 and r.json()["type"].endswith("/chart-not-found")
    r = await reporting.client.get("/rounds/2030Q1/dashboard/charts/coverage.png", headers=ADMIN)
    assert r.status_code == 404 and r.json()["type"].endswith("/round-not-found")
    r = await reporting.client.get("/rounds/2026Q1/dashboard/charts/coverage.svg", headers=INSPECTOR)
    assert r.status_code == 403
