"""A Python client generated from the document the gateway serves installs and calls the running system.

`openapi-python-client` builds a full project (pyproject metadata included) from /openapi.json; pip
installs it into a directory of its own; a separate interpreter imports it by its package name and
calls the gateway. The TypeScript client is built in tests/api/test_clients.py (no running system needed).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from openapi_python_client import strings

from services.apidoc import merged_document
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

# What the generator prints for a document it cannot fully read (a text/csv upload it cannot express
# is reported too, and is fine).
BROKEN = ("Unable to parse schema", "Could not find reference", "duplicate models")

SCRIPT = """
import importlib, importlib.metadata, json, pkgutil, sys

project, package, base_url, token = sys.argv[1:5]
client_module = importlib.import_module(package)
api = importlib.import_module(package + ".api")
# Operations are grouped by tag; find each by its operationId wherever its tag put it.
modules = {m.name.rsplit(".", 1)[1]: m.name for m in pkgutil.walk_packages(api.__path__, package + ".api.")}
whoami = importlib.import_module(modules["sampling_whoami"])
list_sites = importlib.import_module(modules["sampling_list_sites"])

client = client_module.AuthenticatedClient(base_url=base_url, token=token)
me = whoami.sync(client=client)
page = list_sites.sync(client=client, limit=7)
print(json.dumps({
    "installed_as": importlib.metadata.distribution(project).metadata["Name"],
    "version": importlib.metadata.version(project),
    "from": client_module.__file__,
    "service": me.service,
    "sub": me.sub,
    "page": type(page).__name__,
    "limit": page.limit,
    "offset": page.offset,
    "total": page.total,
    "items": len(page.items),
}))
"""


async def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *(str(a) for a in args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def install_args() -> list[str]:
    """pip's arguments to install the project without its dependencies (httpx and attrs are here).

    The project builds with poetry-core: when it is installed here, build with it and touch no index;
    otherwise pip fetches it from the configured index, as it would for any integrator.
    """
    try:
        backend = importlib.util.find_spec("poetry.core.masonry.api")
    except ModuleNotFoundError:
        backend = None
    return ["--no-build-isolation", "--no-index"] if backend is not None else []


class TestGeneratedPythonClient:
    async def test_the_served_document_is_the_one_built_offline(self, system: System):
        async with system.client() as c:
            served = (await c.get("/openapi.json")).json()
        assert served == json.loads(json.dumps(merged_document()))

    async def test_a_generated_client_installs_and_calls_the_gateway(self, system: System, tmp_path: Path):
        async with system.client() as c:
            doc = (await c.get("/openapi.json")).json()
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        project = f"{strings.kebab_case(doc['info']['title']).lower()}-client"
        package = project.replace("-", "_")
        assert project.isascii() and package.isidentifier(), f"{project!r} cannot be installed"

        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        code, out = await run(
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            spec,
            "--output-path",
            tmp_path / "project",
            "--meta",
            "poetry",
            cwd=tmp_path,
            env=env,
        )
        assert code == 0, out
        for broken in BROKEN:
            assert broken not in out, out
        assert (tmp_path / "project" / "pyproject.toml").exists()
        assert (tmp_path / "project" / package / "__init__.py").exists(), sorted(
            p.name for p in (tmp_path / "project").iterdir()
        )

        site = tmp_path / "site"
        code, out = await run(
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            *install_args(),
            "--target",
            site,
            tmp_path / "project",
            cwd=tmp_path,
            env=env,
        )
        assert code == 0, out

        token = system.token(roles=["city_admin"], sub="u-gen")
        code, out = await run(
            sys.executable,
            "-c",
            SCRIPT,
            project,
            package,
            system.gateway_url,
            token,
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(site)},
        )
        assert code == 0, out
        result = json.loads(out.strip().splitlines()[-1])
        assert result["installed_as"] == project
        assert result["version"] == doc["info"]["version"]
        assert Path(result["from"]).is_relative_to(site)
        assert (result["service"], result["sub"]) == ("sampling", "u-gen")
        assert result["page"].startswith("Page")
        assert (result["limit"], result["offset"]) == (7, 0)
        assert result["total"] >= result["items"] >= 0
