"""The services' OpenAPI documents: the roles each route admits, and one merged document."""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.kit.logs import get_logger

log = get_logger("gateway.routes")

_PARAM = re.compile(r"\{([^}:]+)(?::path)?\}")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class RouteRule:
    method: str
    pattern: re.Pattern[str]
    template: str
    roles: tuple[str, ...] | None
    public: bool


def _compile(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append("[^/]+")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def rules_from(doc: dict[str, Any]) -> list[RouteRule]:
    rules = []
    for template, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            roles = op.get("x-roles")
            rules.append(
                RouteRule(
                    method=method.upper(),
                    pattern=_compile(template),
                    template=template,
                    roles=tuple(roles) if roles else None,
                    public=bool(op.get("x-public")),
                )
            )
    # Literal segments before parameters: /rounds/current must win over /rounds/{id}.
    rules.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
    return rules


@dataclass
class ServiceCatalog:
    """What the gateway knows of each service's API, refreshed from their /openapi.json."""

    upstreams: dict[str, str]
    refresh_seconds: float = 30.0
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, list[RouteRule]] = field(default_factory=dict)
    fetched_at: dict[str, float] = field(default_factory=dict)
    _last_attempt: dict[str, float] = field(default_factory=dict)

    async def refresh(
        self, client: httpx.AsyncClient, *, areas: list[str] | None = None, force: bool = False
    ) -> None:
        now = time.monotonic()
        for area in areas or list(self.upstreams):
            if not force and now - self._last_attempt.get(area, -1e9) < 2.0:
                continue
            self._last_attempt[area] = now
            try:
                resp = await client.get(f"{self.upstreams[area]}/openapi.json", timeout=5.0)
                resp.raise_for_status()
                doc = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("openapi fetch failed", area=area, error=str(exc))
                continue
            self.docs[area] = doc
            self.rules[area] = rules_from(doc)
            self.fetched_at[area] = now

    def stale(self, area: str) -> bool:
        return area not in self.fetched_at or time.monotonic() - self.fetched_at[area] > self.refresh_seconds

    def match(self, area: str, method: str, path: str) -> RouteRule | None:
        for rule in self.rules.get(area, ()):
            if rule.method == method and rule.pattern.match(path):
                return rule
        return None


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                name = v.rsplit("/", 1)[1]
                out[k] = "#/components/schemas/" + renames.get(name, name)
            else:
                out[k] = _rewrite_refs(v, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge_openapi(
    gateway_doc: dict[str, Any],
    docs: dict[str, dict[str, Any]],
    *,
    title: str,
    version: str,
    description: str,
) -> dict[str, Any]:
    """One OpenAPI 3.1 document: the gateway's own paths plus every service's under /api/v1/<area>.

    Schema names are kept when they are unique or identical across services; a name two services
    define differently is prefixed with the service (``Scoring_SheetRead``) so both survive.
    """
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": copy.deepcopy(gateway_doc.get("paths", {})),
        "components": {
            "schemas": copy.deepcopy(gateway_doc.get("components", {}).get("schemas", {})),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
        "tags": list(gateway_doc.get("tags", [])),
    }
    schemas = merged["components"]["schemas"]
    for area in sorted(docs):
        doc = docs[area]
        own = doc.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in own.items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{area.capitalize()}_{name}"
        for name, schema in own.items():
            target = renames.get(name, name)
            schemas[target] = _rewrite_refs(schema, renames)
            if target != name:
                # Client generators name classes by title: a renamed schema needs a unique one too.
                schemas[target]["title"] = target
        for path, ops in doc.get("paths", {}).items():
            if path.startswith("/_test"):
                continue
            new_ops = {}
            for method, op in ops.items():
                op = _rewrite_refs(copy.deepcopy(op), renames)
                if method in METHODS:
                    op.setdefault("tags", [area])
                    if op.get("x-public"):
                        op["security"] = []
                new_ops[method] = op
            merged["paths"][f"/api/v1/{area}{path}"] = new_ops
        for tag in doc.get("tags", []):
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
        merged["tags"] = [t for t in merged["tags"] if t.get("name") != area] + [
            {"name": area, "description": doc.get("info", {}).get("description", "")}
        ]
    return merged
