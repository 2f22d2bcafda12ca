"""The fonts and tools are installed by the project's own files, all from one list."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "deploy" / "system-deps.sh"


def script_packages() -> set[str]:
    text = SCRIPT.read_text()
    base = re.search(r"^packages=\(([^)]*)\)", text, re.M)
    extra = re.search(r"packages\+=\(([^)]*)\)", text)
    assert base and extra
    return set(base.group(1).split()) | set(extra.group(1).split())


def test_the_script_is_valid_and_finds_everything_installed_here() -> None:
    assert SCRIPT.stat().st_mode & 0o111, "deploy/system-deps.sh must be executable"
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    check = subprocess.run([str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_the_script_lists_fonts_pango_harfbuzz_and_poppler() -> None:
    assert {"fonts-noto-cjk", "poppler-utils", "libharfbuzz-subset0", "libpango-1.0-0"} <= script_packages()


def test_the_image_installs_the_runtime_packages() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    line = re.search(r"apt-get install -y --no-install-recommends ([^&]*)&&", dockerfile.replace("\\\n", " "))
    assert line, "deploy/Dockerfile has no apt-get install line"
    assert set(line.group(1).split()) == script_packages() - {"poppler-utils"}


def test_ci_and_bootstrap_call_it() -> None:
    assert "deploy/system-deps.sh" in (REPO / ".ci" / "run").read_text()
    makefile = (REPO / "Makefile").read_text()
    bootstrap = makefile.split("\nbootstrap:", 1)[1].split("\n\n", 1)[0]
    assert "deploy/system-deps.sh" in bootstrap
    assert "deploy/system-deps.sh" in (REPO / "README.md").read_text()
