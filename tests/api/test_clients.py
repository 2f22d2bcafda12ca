"""The TypeScript client builds: `openapi-typescript` types from the merged document, `tsc --strict`.

clients/typescript pins both tools (package-lock.json); `npm ci` installs them once into its
node_modules (git-ignored). The types are generated from the code's document into a temporary
directory beside a copy of clients/typescript/check.ts, which uses them as a front end would: an
exhaustive `switch` over a problem's status, a Page envelope, a declared 404 problem, a required
If-Match. Without node and npm the tests skip, unless REQUIRE_NODE=1 (as in CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from services.apidoc import merged_document

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"
CLOSED_CASE = '    case "closed":\n      return "已销号";\n'


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def tools() -> Path:
    """The pinned openapi-typescript and tsc, installed with `npm ci` if they are not yet."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("REQUIRE_NODE") == "1":
            pytest.fail("REQUIRE_NODE=1 but node or npm is not installed")
        pytest.skip("node and npm are not installed (REQUIRE_NODE=1 makes this a failure)")
    if pinned() != installed():
        done = run("npm", "ci", "--no-audit", "--no-fund", cwd=CLIENT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert pinned() == installed()
    return BIN


def pinned() -> dict[str, str]:
    return dict(json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))["devDependencies"])


def installed() -> dict[str, str | None]:
    """The versions in node_modules (None for a tool not installed): stale ones are reinstalled."""
    versions: dict[str, str | None] = {}
    for name in pinned():
        manifest = CLIENT / "node_modules" / name / "package.json"
        versions[name] = (
            json.loads(manifest.read_text(encoding="utf-8"))["version"] if manifest.exists() else None
        )
    return versions


@pytest.fixture(scope="module")
def project(tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with schema.d.ts generated from the code's document, check.ts and tsconfig.json."""
    where = tmp_path_factory.mktemp("typescript")
    (where / "openapi.json").write_text(json.dumps(merged_document(), ensure_ascii=False), encoding="utf-8")
    generated = run(tools / "openapi-typescript", "openapi.json", "--output", "schema.d.ts", cwd=where)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    for name in ("check.ts", "tsconfig.json"):
        shutil.copy(CLIENT / name, where / name)
    return where


def tsc(tools: Path, project: Path) -> subprocess.CompletedProcess[str]:
    return run(tools / "tsc", "--project", project / "tsconfig.json", cwd=project)


class TestTypeScriptClient:
    def test_the_lock_file_pins_the_tools(self):
        lock = json.loads((CLIENT / "package-lock.json").read_text(encoding="utf-8"))
        wanted = pinned()
        assert set(wanted) == {"openapi-typescript", "typescript"}
        for name, version in wanted.items():
            assert version[0].isdigit(), f"{name} is pinned exactly, not {version!r}"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version

    def test_the_generated_types_compile_with_strict_tsc(self, tools: Path, project: Path):
        built = tsc(tools, project)
        assert built.returncode == 0, built.stdout + built.stderr

    def test_a_status_left_unhandled_breaks_the_build(self, tools: Path, project: Path, tmp_path: Path):
        """The switch is exhaustive only if the status is an enum: drop a case and tsc must refuse it."""
        for name in ("schema.d.ts", "tsconfig.json"):
            shutil.copy(project / name, tmp_path / name)
        check = (CLIENT / "check.ts").read_text(encoding="utf-8")
        assert CLOSED_CASE in check
        (tmp_path / "check.ts").write_text(check.replace(CLOSED_CASE, ""), encoding="utf-8")
        built = tsc(tools, tmp_path)
        assert built.returncode != 0
        assert "Type '\"closed\"' is not assignable to type 'never'" in built.stdout, built.stdout
