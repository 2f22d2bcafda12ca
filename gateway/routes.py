"""The services' OpenAPI documents: the roles each route admits, and one merged document."""

from __future__ import annotations

import asyncio
import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from gateway.endpoints import OPENAPI_TAGS
from services.kit.errors import NotFound, ProblemError
from services.kit.logs import get_logger
from services.kit.openapi import finalize

log = get_logger("gateway.routes")

_PARAM = re.compile(r"\{([^}:]+)(?::path)?\}")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


@dataclass(frozen=True)
class RouteRule:
    method: str
    pattern: re.Pattern[str]
    template: str
    roles: tuple[str, ...] | None
    public: bool
    # Declared `text/event-stream`: the only operations that take `?access_token=` (EventSource).
    stream: bool = False


def _compile(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append("[^/]+")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def _is_stream(op: dict[str, Any]) -> bool:
    responses = op.get("responses") or {}
    return any(
        isinstance(r, dict) and "text/event-stream" in (r.get("content") or {}) for r in responses.values()
    )


def rules_from(doc: dict[str, Any]) -> list[RouteRule]:
    """The operations a service publishes; `x-internal` ones do not exist as far as the gateway goes."""
    rules = []
    for template, ops in doc.get("paths", {}).items():
        if template.startswith("/_test"):
            continue
        for method, op in ops.items():
            if method not in METHODS or not isinstance(op, dict) or op.get("x-internal"):
                continue
            roles = op.get("x-roles")
            rules.append(
                RouteRule(
                    method=method.upper(),
                    pattern=_compile(template),
                    template=template,
                    roles=tuple(roles) if roles else None,
                    public=bool(op.get("x-public")),
                    stream=_is_stream(op),
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
    # A busy service can take seconds to render its document; a stopped one is refused at once.
    fetch_timeout: float = 30.0
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, list[RouteRule]] = field(default_factory=dict)
    fetched_at: dict[str, float] = field(default_factory=dict)
    _last_attempt: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def refresh(
        self, client: httpx.AsyncClient, *, areas: list[str] | None = None, force: bool = False
    ) -> None:
        for area in areas or list(self.upstreams):
            # One fetch per area at a time: a request arriving while one is in flight waits for it.
            async with self._locks.setdefault(area, asyncio.Lock()):
                now = time.monotonic()
                if not force and now - self._last_attempt.get(area, -1e9) < 2.0:
                    continue
                self._last_attempt[area] = now
                try:
                    resp = await client.get(
                        f"{self.upstreams[area]}/openapi.json", timeout=self.fetch_timeout
                    )
                    resp.raise_for_status()
                    doc = resp.json()
                    rules = rules_from(doc)
                except (httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:
                    log.warning("openapi fetch failed", area=area, error=type(exc).__name__)
                    continue
                self.docs[area] = doc
                self.rules[area] = rules
                self.fetched_at[area] = now

    def stale(self, area: str) -> bool:
        return area not in self.fetched_at or time.monotonic() - self.fetched_at[area] > self.refresh_seconds

    def match(self, area: str, method: str, path: str) -> RouteRule | None:
        for rule in self.rules.get(area, ()):
            if rule.method == method and rule.pattern.match(path):
                return rule
        return None

    def resolve(self, area: str, method: str, path: str) -> RouteRule:
        """The published operation for `method path`: 404 when no operation has this path, 405
        (with `Allow`) when one has it with other methods. HEAD is answered by a GET operation."""
        rule = self.match(area, method, path)
        if rule is None and method == "HEAD":
            rule = self.match(area, "GET", path)
        if rule is not None:
            return rule
        allowed = sorted({r.method for r in self.rules.get(area, ()) if r.pattern.match(path)})
        public = f"/api/v1/{area}{path}"
        if not allowed:
            raise NotFound(
                f"No route matches {method} {public[:200]}", zh=f"没有与 {method} {public[:200]} 对应的接口"
            )
        raise MethodNotAllowed(
            f"Method {method} is not allowed on {public[:200]}; allowed: {', '.join(allowed)}",
            zh=f"{public[:200]} 不支持 {method} 方法；允许的方法：{', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


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
    define differently is prefixed with the service (``Scoring_SheetRead``) so both survive. The
    gateway's own operations get the conventions the services' have (declared problems, its tags);
    an operation a service left untagged is tagged with its area, and only tags in use are declared.
    """
    gateway_doc = finalize(copy.deepcopy(gateway_doc))
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
        "tags": list(gateway_doc.get("tags") or OPENAPI_TAGS),
    }
    schemas = merged["components"]["schemas"]
    for area in sorted(docs):
        doc = docs[area]
        own = doc.get("components", {}).get("schemas", {})
        # A name two services define differently is renamed, and so is every schema that refers to a
        # renamed one (``Page_TemplateRead_`` is textually the same in two services, yet its items are
        # each service's own ``TemplateRead``): repeat until no more names change.
        renames: dict[str, str] = {}
        while True:
            more = {
                name: f"{area.capitalize()}_{name}"
                for name, schema in own.items()
                if name not in renames and name in schemas and schemas[name] != _rewrite_refs(schema, renames)
            }
            if not more:
                break
            renames.update(more)
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
                if method in METHODS and isinstance(op, dict) and op.get("x-internal"):
                    continue  # only the services call it; the gateway does not route it
                op = _rewrite_refs(copy.deepcopy(op), renames)
                if method in METHODS:
                    op.setdefault("tags", [area])
                    if op.get("x-public"):
                        op["security"] = []
                new_ops[method] = op
            if any(m in METHODS for m in new_ops):
                merged["paths"][f"/api/v1/{area}{path}"] = new_ops
        for tag in doc.get("tags", []):
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
        merged["tags"] = [t for t in merged["tags"] if t.get("name") != area] + [
            {"name": area, "description": doc.get("info", {}).get("description", "")}
        ]
    used = {tag for ops in merged["paths"].values() for op in ops.values() for tag in op.get("tags", [])}
    merged["tags"] = [t for t in merged["tags"] if t.get("name") in used]
    _drop_unreferenced_schemas(merged)
    return merged


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set()
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def _drop_unreferenced_schemas(merged: dict[str, Any]) -> None:
    """Schemas only the dropped internal operations used are not part of the public API."""
    schemas = merged["components"]["schemas"]
    keep = _refs(merged["paths"]) | {"Problem"}
    pending = list(keep)
    while pending:
        name = pending.pop()
        for ref in _refs(schemas.get(name, {})) - keep:
            keep.add(ref)
            pending.append(ref)
    for name in [n for n in schemas if n not in keep]:
        del schemas[name]


_ESCAPE = re.compile(r"%(.{0,2})")
# Escapes that would change the path's structure once a service decodes it: '/', '\\', '.', '%' and
# control characters. Everything else may be escaped (a non-ASCII segment, a space).
_STRUCTURAL = {0x2F, 0x5C, 0x2E, 0x25, 0x7F, *range(0x20)}


class BadPath(ProblemError):
    status, slug, title = 400, "bad-path", "Path not accepted"


def api_path(raw_path: str, area: str) -> tuple[str, str]:
    """Split the raw request path of ``/api/v1/<area>/…`` into (path to forward, path to match).

    The role check must see exactly what the service will route. A path whose decoding could change
    its segments (an encoded '/', '\\\\', '.' or '%', a '.' or '..' segment, an empty segment, a
    backslash) is refused with 400 rather than normalised: no legitimate client sends one, and
    refusing leaves nothing for the gateway and the service to interpret differently.
    """
    raw = raw_path.split("?", 1)[0]
    prefix = f"/api/v1/{area}/"
    if not raw.startswith(prefix):
        raise BadPath(
            "The area in the path must be written literally, e.g. /api/v1/sampling/…",
            zh="路径中的分区名须按原样书写，例如 /api/v1/sampling/…",
        )
    forwarded = raw[len(prefix) - 1 :]
    if any(not 0x21 <= ord(c) <= 0x7E for c in forwarded):
        raise BadPath("The path must be percent-encoded ASCII", zh="路径须为百分号编码的 ASCII 字符")
    segments = forwarded.split("/")[1:]
    for i, seg in enumerate(segments):
        if seg in (".", "..") or "\\" in seg or (seg == "" and i < len(segments) - 1):
            raise BadPath(
                "The path contains a '.', '..' or empty segment or a backslash",
                zh="路径含有 '.'、'..'、空段或反斜杠",
            )
        for m in _ESCAPE.finditer(seg):
            code = m.group(1)
            if len(code) != 2 or not all(c in "0123456789abcdefABCDEF" for c in code):
                raise BadPath(
                    "The path contains a malformed percent-escape", zh="路径含有格式错误的百分号转义"
                )
            if int(code, 16) in _STRUCTURAL:
                raise BadPath(
                    "The path contains an encoded '/', '\\', '.', '%' or control character",
                    zh="路径含有编码后的 '/'、'\\'、'.'、'%' 或控制字符",
                )
    return forwarded, unquote(forwarded)
