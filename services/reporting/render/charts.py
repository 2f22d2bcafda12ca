"""A chart to SVG or PNG with matplotlib's object API (no pyplot: no global figure state, no display).

Chinese labels are drawn in Noto Sans CJK SC (fonts.py finds it, once per process); the SVG carries
its text as paths, so it shows the same on a machine without the font; the PNG is 144 dpi.
Kinds: bar, barh, stacked_bar, stacked_barh, donut; values printed at their bars or slices.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
import threading
from typing import Any, Literal

from services.reporting.render.fonts import FontUnavailable, cjk_fonts
from services.reporting.render.model import Chart

# matplotlib's object API keeps no global figure, but its font cache and FreeType faces are shared:
# one chart at a time per process (a chart takes a fraction of a second).
_LOCK = threading.Lock()
PNG_DPI = 144
SIZE_IN = (8.0, 4.8)
PALETTE = ("#C00000", "#2F5597", "#548235", "#BF9000", "#7030A0", "#1F7A8C", "#A5A5A5", "#ED7D31")


_FAMILY_LOCK = threading.Lock()


def _family() -> str:
    with _FAMILY_LOCK:
        return _register_family()


@functools.lru_cache(maxsize=1)
def _register_family() -> str:
    """Register the CJK sans font with matplotlib once per process; its family name for labels."""
    # matplotlib wants a writable cache directory; a read-only container has none under $HOME.
    if not os.environ.get("MPLCONFIGDIR") and not os.access(os.path.expanduser("~"), os.W_OK):
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="matplotlib-")
    from matplotlib import font_manager

    fonts = cjk_fonts()
    path = fonts.sans_file if fonts.sans_file else fonts.serif_file
    family = fonts.sans if fonts.sans_file else fonts.serif
    if not path or not os.path.isfile(path):
        raise FontUnavailable(
            f"No file for the CJK font {family!r}: charts cannot be drawn",
            zh=f"找不到中文字体 {family!r} 的文件，无法绘制图表（请安装 fonts-noto-cjk）",
            font=family,
            install="fonts-noto-cjk",
        )
    font_manager.fontManager.addfont(path)
    # Set once per process, the same for every chart (so no render changes global state under another).
    import matplotlib

    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["svg.fonttype"] = "path"
    return family


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _color(i: int, given: str | None) -> str:
    return given or PALETTE[i % len(PALETTE)]


def _bars(ax: Any, chart: Chart) -> None:
    horizontal = chart.kind in ("barh", "stacked_barh")
    stacked = chart.kind.startswith("stacked")
    n = len(chart.categories)
    positions = list(range(n))
    k = max(1, len(chart.series))
    width = 0.7 if stacked else 0.8 / k
    bottoms = [0.0] * n
    for i, series in enumerate(chart.series):
        values = [series.values[j] if j < len(series.values) else 0.0 for j in range(n)]
        where = positions if stacked else [p - 0.4 + width * (i + 0.5) for p in positions]
        if horizontal:
            bars = ax.barh(
                where,
                values,
                height=width,
                left=bottoms if stacked else None,
                label=series.name,
                color=_color(i, series.color),
            )
        else:
            bars = ax.bar(
                where,
                values,
                width=width,
                bottom=bottoms if stacked else None,
                label=series.name,
                color=_color(i, series.color),
            )
        if chart.value_labels:
            labels = [_fmt(v) if v else "" for v in values]
            ax.bar_label(
                bars, labels=labels, label_type="center" if stacked else "edge", fontsize=8, padding=2
            )
        if stacked:
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axis_cat, axis_val = (ax.yaxis, ax.xaxis) if horizontal else (ax.xaxis, ax.yaxis)
    if horizontal:
        ax.set_yticks(positions, chart.categories)
        ax.invert_yaxis()  # the first category on top, as a ranking reads
    else:
        ax.set_xticks(
            positions, chart.categories, rotation=30 if n > 6 else 0, ha="right" if n > 6 else "center"
        )
    axis_cat.set_tick_params(length=0)
    if chart.unit:
        axis_val.set_label_text(chart.unit)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    ax.set_axisbelow(True)
    if len(chart.series) > 1:
        # Above the plot, in one row: inside it, the legend covered the first bars.
        ax.legend(
            frameon=False,
            fontsize=9,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=len(chart.series),
        )
    if horizontal:
        ax.margins(x=0.08)
    else:
        ax.margins(y=0.1)


def _donut(ax: Any, chart: Chart) -> None:
    values = chart.series[0].values if chart.series else []
    total = sum(values)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(values))]
    if total <= 0:
        ax.text(0, 0, "暂无数据", ha="center", va="center", fontsize=14)
        ax.set_axis_off()
        return
    wedges, _ = ax.pie(values, colors=colors, startangle=90, counterclock=False, wedgeprops={"width": 0.38})
    if chart.value_labels:
        import math

        for wedge, value in zip(wedges, values, strict=False):
            if not value:
                continue
            angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
            ax.text(
                0.81 * math.cos(angle),
                0.81 * math.sin(angle),
                _fmt(value),
                ha="center",
                va="center",
                fontsize=9,
                color="white",
            )
    ax.text(0, 0, f"{_fmt(total)}{chart.unit or ''}\n合计", ha="center", va="center", fontsize=12)
    ax.legend(
        wedges, chart.categories[: len(values)], loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False
    )
    ax.set_aspect("equal")


def render(chart: Chart, fmt: Literal["svg", "png"]) -> bytes:
    """The chart as SVG (text as paths) or PNG (144 dpi, 8 x 4.8 in); raises FontUnavailable without a CJK font."""
    _family()
    with _LOCK:
        return _draw(chart, fmt)


def _draw(chart: Chart, fmt: Literal["svg", "png"]) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_IN, dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if chart.kind == "donut":
        _donut(ax, chart)
    else:
        _bars(ax, chart)
    # A bar chart of several series has its legend just above the plot: the title goes above it.
    legend_above = chart.kind != "donut" and len(chart.series) > 1
    ax.set_title(chart.title, fontsize=14, pad=30 if legend_above else 10)
    out = io.BytesIO()
    if fmt == "svg":
        fig.savefig(out, format="svg", metadata={"Date": None})
    else:
        fig.savefig(out, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return out.getvalue()
