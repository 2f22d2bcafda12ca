"""The CJK font lookup: what it prefers, and a clear 503 (never a PDF of boxes) when there is none."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from services.kit.errors import install_error_handlers
from services.reporting.render import charts, fonts, pdf
from services.reporting.render.model import Chart, OfficialDocument, Series


def test_this_machine_has_the_project_fonts() -> None:
    found = fonts.cjk_fonts()
    assert found.serif == "Noto Serif CJK SC", "deploy/system-deps.sh installs fonts-noto-cjk"
    assert found.sans == "Noto Sans CJK SC"
    assert found.serif_file and found.sans_file


def test_simplified_chinese_faces_come_first() -> None:
    found = fonts.lookup(
        {
            "WenQuanYi Zen Hei": "/f/wqy.ttc",
            "Noto Sans CJK SC": "/f/sans.ttc",
            "Noto Sans CJK JP": "/f/sans.ttc",
            "AR PL UMing CN": "/f/uming.ttc",
        }
    )
    assert (found.serif, found.sans) == ("AR PL UMing CN", "Noto Sans CJK SC")


def test_one_face_stands_in_for_the_other() -> None:
    found = fonts.lookup({"WenQuanYi Zen Hei": "/f/wqy.ttc"})
    assert found.serif == found.sans == "WenQuanYi Zen Hei"


def test_official_faces_are_named_only_when_installed() -> None:
    found = fonts.lookup({"Noto Serif CJK SC": "/a", "仿宋_GB2312": "/b"})
    assert found.official("fangsong", found.serif) == ["仿宋_GB2312", "Noto Serif CJK SC"]
    # 黑体 is not installed: naming it would let fontconfig put a Latin default ahead of the stand-in
    assert found.official("heiti", found.sans) == ["Noto Serif CJK SC"]


def test_no_cjk_font_is_a_typed_503_naming_the_font() -> None:
    with pytest.raises(fonts.FontUnavailable) as caught:
        fonts.lookup({})
    err = caught.value
    assert err.status == 503
    assert "Noto Serif CJK SC" in err.detail and "fonts-noto-cjk" in err.detail
    assert err.extensions["font"] == "Noto Serif CJK SC"


@pytest.fixture
def no_fonts(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fonts, "_fc_list", dict)
    monkeypatch.setattr(fonts, "_known_paths", dict)
    fonts._cached.cache_clear()
    charts._register_family.cache_clear()
    yield
    fonts._cached.cache_clear()
    charts._register_family.cache_clear()


@pytest.mark.usefixtures("no_fonts")
def test_rendering_without_fonts_refuses() -> None:
    with pytest.raises(fonts.FontUnavailable):
        pdf.render(OfficialDocument(title="专报"))
    with pytest.raises(fonts.FontUnavailable):
        charts.render(
            Chart(kind="bar", title="覆盖率", categories=["海曙区"], series=[Series(name="a", values=[1])]),
            "svg",
        )


@pytest.mark.usefixtures("no_fonts")
async def test_the_service_answers_503_problem_json() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/document.pdf")
    async def document() -> bytes:
        return pdf.render(OfficialDocument(title="专报"))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/document.pdf")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503 and body["title"] == "CJK font unavailable"
    assert "Noto Serif CJK SC" in body["detail"]
    assert body["font"] == "Noto Serif CJK SC"


def test_warm_up_renders_once_of_each() -> None:
    from services.reporting.render.warmup import warm_up

    assert set(warm_up()) == {"pdf", "chart"}


@pytest.mark.usefixtures("no_fonts")
def test_warm_up_without_fonts_says_which() -> None:
    from services.reporting.render.warmup import warm_up

    with pytest.raises(fonts.FontUnavailable, match="Noto Serif CJK SC"):
        warm_up()
