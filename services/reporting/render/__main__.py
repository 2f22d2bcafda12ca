"""Sample documents and the renderers' timings: `python -m services.reporting.render [OUT_DIR]`.

Writes a 10-page 专报 as DOCX and PDF, a workbook and the four dashboard charts (SVG and PNG) to
OUT_DIR (default var/render-samples) and prints how long each took (figures for docs/documents.md).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from services.reporting.render import charts, docx, pdf, xlsx
from services.reporting.render.model import (
    Chart,
    Heading,
    Image,
    OfficialDocument,
    Paragraph,
    Series,
    Sheet,
    Table,
    Workbook,
)

DISTRICTS = [
    "海曙区",
    "江北区",
    "镇海区",
    "北仑区",
    "鄞州区",
    "奉化区",
    "余姚市",
    "慈溪市",
    "宁海县",
    "象山县",
]
NUMERALS = "一二三四五六七八九十"


def sample_charts() -> dict[str, Chart]:
    return {
        "coverage": Chart(
            kind="bar",
            title="各区（县、市）督查覆盖率",
            categories=DISTRICTS,
            series=[Series(name="覆盖率", values=[95, 88, 100, 76.5, 90, 85, 92, 99, 80, 91])],
            unit="%",
        ),
        "grades": Chart(
            kind="donut",
            title="评分表等次分布",
            categories=["好", "较好", "一般", "差"],
            series=[Series(name="评分表", values=[40, 60, 25, 5])],
            unit="份",
        ),
        "ranking": Chart(
            kind="barh",
            title="各区（县、市）综合得分排名",
            categories=DISTRICTS,
            series=[
                Series(name="综合得分", values=[95.2, 94.1, 93.0, 92.4, 91.8, 90.5, 89.9, 88.2, 87.0, 85.3])
            ],
            unit="分",
        ),
        "rectification": Chart(
            kind="stacked_barh",
            title="问题整改进度",
            categories=DISTRICTS[:6],
            series=[
                Series(name="已整改", values=[30, 20, 10, 25, 18, 12]),
                Series(name="整改中", values=[5, 8, 2, 4, 6, 3]),
                Series(name="已逾期", values=[1, 0, 3, 2, 0, 1]),
            ],
            unit="个",
        ),
    }


def sample_report(pages: int = 10, chart_png: bytes | None = None) -> OfficialDocument:
    blocks: list[Heading | Paragraph | Table | Image] = []
    for i in range(pages):
        blocks += [
            Heading(level=1, text=f"{NUMERALS[i % 10]}、督查发现的问题"),
            Heading(level=2, text="（一）整改推进情况"),
            Paragraph(
                text="各地坚持问题导向，压实整改责任，推动问题清单销号管理。本季度共抽取基层党组织300个，"
                "实地督查覆盖全市10个区（县、市）和6个功能区，发现问题1234个，已完成整改987个，"
                "整改率80.0%，按期整改率75.5%。" * 2
            ),
            Heading(level=3, text="1.典型做法"),
            Paragraph(text="鄞州区推行“一图一表一清单”，把整改任务落实到人、落实到天。"),
            Table(
                caption=f"表{i + 1} 各区（县、市）督查得分",
                columns=["排名", "地区", "综合得分", "等次"],
                rows=[
                    [str(r + 1), d, f"{95 - r * 1.1:.2f}", "好" if r < 4 else "较好"]
                    for r, d in enumerate(DISTRICTS[:6])
                ],
                widths=[1, 3, 2, 1],
            ),
        ]
        if chart_png and i == 0:
            blocks.append(Image(png=chart_png, width_cm=15, caption="图1 评分表等次分布"))
    return OfficialDocument(
        title="关于2026年第一季度基层党建专项督查情况的专报",
        issuer_mark="中共宁波市委组织部",
        doc_number="甬组督〔2026〕3号",
        addressee="市委、市政府领导：",
        blocks=blocks,
        signature="中共宁波市委组织部",
        dated=date(2026, 4, 3),
        cc="各区（县、市）委组织部",
        printed_by="中共宁波市委组织部办公室",
    )


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)

    def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = fn(*args)
        print(f"{label:<40} {time.perf_counter() - start:6.3f} s")
        return result

    png = timed("chart png (first: font cache)", charts.render, sample_charts()["grades"], "png")
    for name, chart in sample_charts().items():
        (out_dir / f"{name}.svg").write_bytes(timed(f"chart {name}.svg", charts.render, chart, "svg"))
        (out_dir / f"{name}.png").write_bytes(timed(f"chart {name}.png", charts.render, chart, "png"))
    report = sample_report(10, png)
    timed("pdf (first: fonts, Pango)", pdf.render, sample_report(1))
    (out_dir / "special-report.pdf").write_bytes(timed("pdf 10-page 专报", pdf.render, report))
    (out_dir / "special-report.docx").write_bytes(timed("docx 10-page 专报", docx.render, report))
    book = Workbook(
        sheets=[
            Sheet(
                name="区县排名",
                title="2026年第一季度各区（县、市）督查排名",
                columns=["排名", "地区", "综合得分", "整改率"],
                rows=[[r + 1, d, 95 - r * 1.1, 0.8] for r, d in enumerate(DISTRICTS)],
                number_formats={2: "0.00", 3: "0.0%"},
            )
        ]
    )
    (out_dir / "bulletin.xlsx").write_bytes(timed("xlsx", xlsx.render, book))
    print(f"written to {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/render-samples"))
