"""The merged OpenAPI document, built offline: ``python -m services.apidoc [--check] [PATH]``.

The gateway merges the services' documents at run time (``GET /openapi.json``). This builds the same
document without starting anything, from each service's app and the gateway's own routes, so it can
be kept in ``docs/openapi.json`` and every API change is reviewed as a diff of that file
(``make openapi`` writes it; the suite fails when the code's document differs from it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from fastapi.openapi.utils import get_openapi

from gateway import __version__ as gateway_version
from gateway.main import DESCRIPTION, TITLE
from gateway.main import build_app as build_gateway
from gateway.routes import merge_openapi
from services.kit.openapi import PROBLEM_SCHEMA
from services.registry import SERVICES

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def service_documents() -> dict[str, dict[str, Any]]:
    """Each service's own document, keyed by its area (``sampling``, …)."""
    docs: dict[str, dict[str, Any]] = {}
    for info in SERVICES:
        settings = info.settings(
            database_url="sqlite+aiosqlite:///:memory:", outbox_enabled=False, clock_control=False
        )
        app = info.main().build_app(settings)
        docs[info.name] = app.openapi()
    return docs


def merged_document() -> dict[str, Any]:
    """The document the gateway serves at /openapi.json when every service is up."""
    gateway = build_gateway()
    own = get_openapi(title=TITLE, version=gateway_version, routes=gateway.routes)
    merged = merge_openapi(
        own, service_documents(), title=TITLE, version=gateway_version, description=DESCRIPTION
    )
    merged["components"]["schemas"]["Problem"] = PROBLEM_SCHEMA
    return merged


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if PATH differs from the code's document")
    parser.add_argument("path", nargs="?", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    # The document names the city in its org-unit examples; the demo city unless the env says otherwise.
    os.environ.setdefault("CITY_ROOT", "ningbo")
    text = render(merged_document())
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is out of date: run `make openapi` and review the diff", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
