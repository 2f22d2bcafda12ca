"""Documents for the renderers' tests, and the real readers (poppler) they are read back with."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from services.reporting.render.model import (
    Heading,
    Image,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)

POPPLER = ("pdftotext", "pdffonts", "pdftoppm")


def poppler(tool: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run a poppler tool; fails (never skips) when it is not installed: deploy/system-deps.sh installs it."""
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(f"{tool} is not installed (poppler-utils): run deploy/system-deps.sh")
    return subprocess.run([exe, *args], capture_output=True, check=True, timeout=120)


def pdf_text(pdf: bytes, tmp_path: Path, *pages: int) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    span = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return poppler("pdftotext", "-enc", "UTF-8", *span, str(path), "-").stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Text without the spaces and line breaks a PDF's text extraction puts between words and lines."""
    return "".join(text.split())


def tiny_png(width: int = 40, height: int = 20) -> bytes:
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def special_report(**overrides: object) -> OfficialDocument:
    """A 专报 with every kind of block, the 版头 and the 版记."""
    fields: dict[str, object] = {
        "title": "关于2026年第一季度基层党建专项督查情况的专报",
        "issuer_mark": "中共宁波市委组织部",
        "doc_number": "甬组督〔2026〕3号",
        "addressee": "市委、市政府领导：",
        "blocks": [
            Heading(level=1, text="一、基本情况"),
            Paragraph(text="本季度共抽取基层党组织300个，实地督查覆盖全市10个区（县、市）和6个功能区。"),
            Heading(level=2, text="（一）督查覆盖面"),
            Paragraph(text="督查组按照测评体系逐项打分，发现问题1234个，整改率80.0%。"),
            Heading(level=3, text="1.主要做法"),
            Table(
                caption="表1 各区（县、市）督查得分",
                columns=["排名", "地区", "综合得分", "等次"],
                rows=[["1", "慈溪市", "92.50", "好"], ["2", "鄞州区", "90.10", "较好"]],
                widths=[1, 3, 2, 1],
            ),
            Image(png=tiny_png(), width_cm=12, caption="图1 等次分布"),
            PageBreak(),
            Heading(level=1, text="二、下一步工作"),
            Paragraph(text="持续压实整改责任，推动问题清单销号管理。"),
        ],
        "signature": "中共宁波市委组织部",
        "dated": date(2026, 4, 3),
        "note": "此件发至县级",
        "cc": "各区（县、市）委组织部",
        "printed_by": "中共宁波市委组织部办公室",
    }
    fields.update(overrides)
    return OfficialDocument.model_validate(fields)


def long_report(pages: int = 10) -> OfficialDocument:
    """About `pages` pages of body: headings, paragraphs and a table per page."""
    blocks: list[object] = []
    numerals = "一二三四五六七八九十"
    for i in range(pages):
        blocks += [
            Heading(level=1, text=f"{numerals[i % 10]}、督查发现的问题"),
            Paragraph(
                text="各地坚持问题导向，压实整改责任，推动问题清单销号管理，督查组逐项核对整改材料。" * 4
            ),
            Table(
                caption=f"表{i + 1} 各区（县、市）督查得分",
                columns=["排名", "地区", "综合得分", "等次"],
                rows=[[str(r), "慈溪市", "92.50", "好"] for r in range(1, 8)],
            ),
        ]
    return special_report(blocks=blocks)
