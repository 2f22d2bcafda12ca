"""Render deploy/k8s as `kubectl apply -k` would.

With `kubectl` on the machine (every machine of this project's kind has it) the real kustomize
embedded in it renders (`kubectl kustomize`, kustomize v5). Without it, :func:`render_minimal` does:
a faithful implementation of only the kustomize features deploy/k8s uses — `resources` (files and
directories holding a kustomization), `patches` given inline as JSON 6902 operations with a
`{kind, name}` target, and `images` (`newName`/`newTag`). Anything else in a kustomization is
refused, so a new feature cannot be silently ignored; when kubectl is there, a test checks that
both renderings agree.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION = "kustomization.yaml"
SUPPORTED = {"apiVersion", "kind", "resources", "patches", "images"}

Document = dict[str, Any]


def kubectl() -> str | None:
    return shutil.which("kubectl")


def render_kubectl(root: Path) -> list[Document]:
    exe = kubectl()
    assert exe is not None, "kubectl is not installed"
    out = subprocess.run(
        [exe, "kustomize", str(root)], capture_output=True, text=True, timeout=120, check=True
    )
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def render(root: Path) -> list[Document]:
    """The documents `kubectl apply -k root` would apply."""
    return render_kubectl(root) if kubectl() else render_minimal(root)


def kustomization(directory: Path) -> dict[str, Any]:
    data = yaml.safe_load((directory / KUSTOMIZATION).read_text())
    assert isinstance(data, dict), directory
    unknown = set(data) - SUPPORTED
    assert not unknown, f"{directory}: {sorted(unknown)} is not supported by the minimal renderer"
    return data


def files_of(directory: Path) -> set[Path]:
    """Every file a kustomization (and those below it) reads."""
    data = kustomization(directory)
    files = {directory / KUSTOMIZATION}
    for entry in data.get("resources", []):
        path = (directory / entry).resolve()
        files |= files_of(path) if path.is_dir() else {path}
    return files


def render_minimal(directory: Path) -> list[Document]:
    data = kustomization(directory)
    docs: list[Document] = []
    for entry in data.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            docs += render_minimal(path)
        else:
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch in data.get("patches", []):
        assert set(patch) == {"target", "patch"}, f"{directory}: only inline JSON 6902 patches"
        target = patch["target"]
        assert set(target) <= {"kind", "name"}, f"{directory}: a target selects by kind and name only"
        matched = [d for d in docs if all(_field(d, key) == value for key, value in target.items())]
        assert matched, f"{directory}: patch target {target} matches nothing"
        operations = yaml.safe_load(patch["patch"])
        for doc in matched:
            for operation in operations:
                _apply(doc, operation)
    ids = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(ids) == len(set(ids)), f"{directory}: a resource id is defined twice"
    for image in data.get("images", []):
        for doc in docs:
            for container in _containers(doc):
                name = container["image"].split(":", 1)[0].split("@", 1)[0]
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    return docs


def _field(doc: Document, key: str) -> Any:
    return doc["metadata"]["name"] if key == "name" else doc[key]


def _containers(doc: Document) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("containers", []), *spec.get("initContainers", [])]


def _apply(doc: Document, operation: dict[str, Any]) -> None:
    op, path = operation["op"], operation["path"]
    assert op in {"replace", "add", "remove"}, f"JSON patch op {op!r} is not supported"
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) and last != "-" else last
    if op == "remove":
        del node[key]
    elif op == "replace":
        if isinstance(node, list):
            assert 0 <= key < len(node), f"replace {path}: no such item"
        else:
            assert key in node, f"replace {path}: no such field"
        node[key] = copy.deepcopy(operation["value"])
    elif isinstance(node, list):
        node.insert(len(node) if key == "-" else key, copy.deepcopy(operation["value"]))
    else:
        node[key] = copy.deepcopy(operation["value"])
