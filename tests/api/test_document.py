"""docs/openapi.json is the code's document: every API change shows up as a diff of that file."""

from __future__ import annotations

import difflib

from services.apidoc import DOCUMENT, merged_document, render


def test_docs_openapi_json_is_the_code_document() -> None:
    expected = render(merged_document())
    current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    if current != expected:
        diff = difflib.unified_diff(
            current.splitlines(),
            expected.splitlines(),
            "docs/openapi.json",
            "the code's document",
            lineterm="",
        )
        shown = "\n".join(list(diff)[:80])
        raise AssertionError(
            "docs/openapi.json is out of date: run `make openapi` (python -m services.apidoc) "
            f"and review the diff\n{shown}"
        )


def test_the_document_is_built_the_same_way_twice() -> None:
    """A snapshot is only useful if building it is deterministic (no ports, times or set order in it)."""
    assert render(merged_document()) == render(merged_document())
