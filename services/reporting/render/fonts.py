"""Where the CJK fonts are: looked up once per process through fontconfig, then known paths.

The PDF (Pango through WeasyPrint) and the charts (matplotlib) draw Chinese with the fonts found here.
The official-document faces (方正小标宋简体, 仿宋_GB2312, 楷体_GB2312, 黑体) are proprietary and rarely
installed on a server; where they are, the PDF uses them first. Otherwise the stand-ins are Noto Serif
CJK SC (仿宋, 小标宋, 楷体) and Noto Sans CJK SC (黑体) from Debian's `fonts-noto-cjk`, then the
other families of `SERIF_FAMILIES` and `SANS_FAMILIES` (docs/documents.md lists them).

With no CJK font at all, rendering raises :class:`FontUnavailable` (a 503 problem+json naming the
missing font and the package to install) instead of a PDF full of empty boxes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.kit.errors import ServiceUnavailable

SERIF_FAMILIES = (
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "Source Han Serif CN",
    "Noto Serif SC",
    "AR PL UMing CN",
)
SANS_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
# Where Debian's fonts-noto-cjk puts them, for a process that cannot run fc-list.
KNOWN_PATHS = {
    "Noto Serif CJK SC": (
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    ),
    "Noto Sans CJK SC": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    ),
}
# The official faces, tried first by the PDF when present (not needed: the stand-ins above do).
OFFICIAL_FACES = {
    "xiaobiaosong": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "方正小标宋_GBK"),
    "fangsong": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong"),
    "kaiti": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi"),
    "heiti": ("黑体", "SimHei"),
    "songti": ("宋体", "SimSun"),
}
INSTALL_HINT = "apt-get install fonts-noto-cjk (or run deploy/system-deps.sh)"


class FontUnavailable(ServiceUnavailable):
    """No CJK font on this machine: documents and charts cannot be drawn (503, names the font)."""

    title = "CJK font unavailable"


@dataclass(frozen=True)
class CJKFonts:
    """The families found (and a file for each, for matplotlib): serif for 仿宋/小标宋, sans for 黑体."""

    serif: str
    serif_file: str | None
    sans: str
    sans_file: str | None
    installed: frozenset[str] = frozenset()
    """Every CJK family fontconfig knows (the official faces are used only when listed here)."""

    def official(self, face: str, fallback: str) -> list[str]:
        """The installed names of an official face (see OFFICIAL_FACES), then the stand-in.

        A family fontconfig does not have must not be named: it would substitute a Latin default
        (DejaVu) ahead of the CJK stand-in.
        """
        return [name for name in OFFICIAL_FACES[face] if name in self.installed] + [fallback]


def _fc_list() -> dict[str, str]:
    """Family name → a regular face's file, for every font fontconfig knows that covers Chinese."""
    if shutil.which("fc-list") is None:
        return {}
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "family", "style", "file"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines():
        path, _, rest = line.partition(": ")
        families, _, style = rest.partition(":style=")
        regular = not style or "Regular" in style.split(",")
        for family in families.split(","):
            name = family.strip()
            if name and (name not in found or regular):
                found[name] = path.strip()
    return found


def _known_paths() -> dict[str, str]:
    return {family: path for family, paths in KNOWN_PATHS.items() for path in paths if Path(path).is_file()}


def _pick(found: dict[str, str], families: tuple[str, ...]) -> tuple[str, str] | None:
    for family in families:
        if family in found:
            return family, found[family]
    return None


def lookup(found: dict[str, str]) -> CJKFonts:
    """Choose the families from what is installed (`found`: family → file); raise when none is."""
    serif = _pick(found, SERIF_FAMILIES)
    sans = _pick(found, SANS_FAMILIES)
    if serif is None and sans is None:
        raise FontUnavailable(
            "No CJK font is installed: documents need Noto Serif CJK SC and Noto Sans CJK SC "
            f"({INSTALL_HINT})",
            zh=f"未安装中文字体：生成文件需要 Noto Serif CJK SC 和 Noto Sans CJK SC（{INSTALL_HINT}）",
            font="Noto Serif CJK SC",
            install=INSTALL_HINT,
        )
    serif = serif or sans
    sans = sans or serif
    assert serif is not None and sans is not None
    return CJKFonts(
        serif=serif[0],
        serif_file=serif[1],
        sans=sans[0],
        sans_file=sans[1],
        installed=frozenset(found),
    )


@functools.lru_cache(maxsize=1)
def _cached() -> CJKFonts:
    found = _known_paths()
    found.update(_fc_list())
    return lookup(found)


def cjk_fonts() -> CJKFonts:
    """The CJK fonts of this machine, looked up once per process (a miss is not cached)."""
    return _cached()
