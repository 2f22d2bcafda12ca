"""The API conventions (docs/api-guide.md, "Conventions"), checked over the merged OpenAPI document.

Each test checks one convention over every operation and schema of the document the gateway serves
(``services.apidoc.merged_document()``) and reports ALL violations at once, one per line, each naming
the operation (``GET /api/v1/sampling/sites``) or the schema property (``SiteRead.type``) at fault.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from openapi_python_client import strings
from openapi_spec_validator import validate

from services.apidoc import merged_document
from services.kit.openapi import ALWAYS
from tests.api.support import datetimes

Schema = dict[str, Any]
Doc = dict[str, Any]

METHODS = ("get", "put", "post", "patch", "delete")
AREAS = ("sampling", "scoring", "rectification", "notify", "reporting", "evidence")
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PAGE_FIELDS = {"items", "total", "limit", "offset"}

# Properties and parameters that name a state, a category or a role: a closed set, so an enum.
ENUM_NAMES = {"status", "light", "severity", "type", "kind", "grade", "channel", "role", "roles", "state"}
ENUM_SUFFIXES = tuple(f"_{n}" for n in sorted(ENUM_NAMES - {"type"}))
# The problem schema is RFC 9457's: `type` is a URI and `status` the HTTP code, open by design.
OPEN_SCHEMAS = {"Problem"}

# pydantic's name for "any JSON value": allowed only as the values of a free-form JSON object.
FREE_VALUE = "JsonValue"
FREE_FORM = "dict[str, JsonValue] where the shape truly varies"

CJK = re.compile(r"[\u4e00-\u9fff]")
# PEP 508 project names.
PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


@pytest.fixture(scope="module")
def doc() -> Doc:
    return merged_document()


def operations(doc: Doc) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(``"GET /api/v1/…"``, path, operation) for every operation, in path order."""
    for path, item in sorted(doc["paths"].items()):
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", path, item[method]


def ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def deref(doc: Doc, schema: Schema) -> Schema:
    """The schema a ``$ref`` (or a single-member ``allOf`` wrapper) points to."""
    while True:
        name = ref_name(schema)
        if name is not None:
            schema = doc["components"]["schemas"][name]
        elif len(schema.get("allOf", [])) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema


def label(schema: Schema, where: str) -> str:
    name = ref_name(schema)
    return name if name is not None else where


def walk(doc: Doc, schema: Schema, where: str, seen: set[str]) -> Iterator[tuple[str, Schema]]:
    """Every schema reachable from ``schema``, each with a readable location (``SiteRead.parent.code``).

    A named component is visited once, under its own name.
    """
    yield where, schema
    name = ref_name(schema)
    if name is not None and name not in seen:
        seen.add(name)
        yield from walk(doc, doc["components"]["schemas"][name], name, seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for member in schema.get(key, []):
            yield from walk(doc, member, where, seen)
    if isinstance(schema.get("items"), dict):
        yield from walk(doc, schema["items"], f"{where}[]", seen)
    for prop, sub in schema.get("properties", {}).items():
        yield from walk(doc, sub, f"{where}.{prop}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(doc, schema["additionalProperties"], f"{where}{{*}}", seen)


def request_schemas(op: dict[str, Any]) -> Iterator[tuple[str, Schema]]:
    for media, body in op.get("requestBody", {}).get("content", {}).items():
        if "schema" in body:
            yield media, body["schema"]


def response_schemas(op: dict[str, Any], *, success_only: bool = False) -> Iterator[tuple[str, str, Schema]]:
    for status, response in op.get("responses", {}).items():
        if success_only and not status.startswith("2"):
            continue
        for media, body in response.get("content", {}).items():
            if "schema" in body:
                yield status, media, body["schema"]


def body_schemas(doc: Doc, *, requests: bool = True) -> Iterator[tuple[str, Schema]]:
    """Every schema reachable from a request or response body of any operation, each once."""
    seen: set[str] = set()
    for name, _, op in operations(doc):
        roots = [(f"{name} → {status} {media}", schema) for status, media, schema in response_schemas(op)]
        if requests:
            roots += [(f"{name} request body {media}", schema) for media, schema in request_schemas(op)]
        for where, root in roots:
            yield from walk(doc, root, where, seen)


def object_properties(doc: Doc, *, requests: bool = True) -> Iterator[tuple[str, str, Schema]]:
    """(location, property name, property schema) for every property of every body schema."""
    for where, schema in body_schemas(doc, requests=requests):
        if where.split(".")[0].split("[")[0] in OPEN_SCHEMAS:
            continue
        for prop, sub in schema.get("properties", {}).items():
            yield f"{where}.{prop}", prop, sub


def parameters(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, _, op in operations(doc):
        for param in op.get("parameters", []):
            yield f"{name} {param.get('in')} parameter {param.get('name')!r}", param


def is_page(doc: Doc, schema: Schema) -> bool:
    schema = deref(doc, schema)
    return set(schema.get("properties", {})) >= PAGE_FIELDS


def page_item(doc: Doc, schema: Schema) -> Schema:
    return deref(doc, schema)["properties"]["items"].get("items", {})


def report(violations: list[str], what: str) -> None:
    if violations:
        lines = "\n".join(f"  - {v}" for v in sorted(set(violations)))
        pytest.fail(f"{len(set(violations))} {what}:\n{lines}", pytrace=False)


def test_the_document_is_valid_openapi_3_1(doc: Doc) -> None:
    validate(doc)


# An object with `items` and at most this many other members is a list with extras (a ranking with its
# round); with more it is an object whose parts are called items (a score sheet and its item scores).
LIST_EXTRAS = 5


def listish(name: str, props: dict[str, Any]) -> bool:
    """Whether a GET answer with an `items` member is a list in disguise rather than an object."""
    return name.startswith("GET ") and "items" in props and len(set(props) - {"items"}) <= LIST_EXTRAS


def test_every_list_response_is_a_page_envelope(doc: Doc) -> None:
    """A list is `{items, total, limit, offset}`: no bare array, no `{items}` alone, no other wrapper."""
    violations = []
    for name, _, op in operations(doc):
        for status, media, schema in response_schemas(op, success_only=True):
            if media != JSON:
                continue
            body = deref(doc, schema)
            where = f"{name} → {status} {label(schema, 'inline schema')}"
            props = body.get("properties", {})
            arrays = [p for p, s in props.items() if deref(doc, s).get("type") == "array"]
            if body.get("type") == "array":
                violations.append(f"{where}: a bare array (wrap it in a Page)")
            elif listish(name, props) and not set(props) >= PAGE_FIELDS:
                missing = ", ".join(sorted(PAGE_FIELDS - set(props)))
                violations.append(f"{where}: a list without {missing} (use Page)")
            elif name.startswith("GET ") and len(props) == 1 and arrays:
                violations.append(f"{where}: a list wrapped as {{{arrays[0]}}} alone (use Page)")
            elif set(props) >= PAGE_FIELDS:
                required = set(body.get("required", []))
                if not required >= PAGE_FIELDS:
                    violations.append(f"{where}: Page fields not all required")
                item = props["items"].get("items")
                if not item or not (ref_name(item) or deref(doc, item).get("type")):
                    violations.append(f"{where}: Page items are untyped")
    report(violations, "list responses are not Page envelopes")


# The filters a front end needs on the lists it shows most (docs/api-guide.md, "Sorting, searching,
# filtering"): the list's path and the query parameters it must take.
FRONT_END_FILTERS = {
    "/api/v1/sampling/sites": {"type", "district", "q", "sort"},
    "/api/v1/sampling/me/assignments": {"round_code"},
    "/api/v1/scoring/rounds/{round_code}/sheets": {"site_code", "team_id", "status", "sort"},
    "/api/v1/rectification/problems": {"sheet_id", "round_code", "light", "unassigned", "q", "sort"},
    "/api/v1/rectification/problems/{problem_id}/extensions": {"status"},
    "/api/v1/notify/deliveries": {"status", "channel", "sort"},
}


def query_parameters(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}


def test_the_lists_a_front_end_needs_take_their_filters(doc: Doc) -> None:
    violations = []
    for path, wanted in sorted(FRONT_END_FILTERS.items()):
        op = doc["paths"].get(path, {}).get("get")
        if op is None:
            violations.append(f"GET {path}: no such operation")
            continue
        missing = wanted - set(query_parameters(op))
        if missing:
            violations.append(f"GET {path}: no {', '.join(sorted(missing))} parameter")
        flag = query_parameters(op).get("unassigned", {}).get("schema", {})
        if flag and "boolean" not in {deref(doc, m).get("type") for m in [flag, *flag.get("anyOf", [])]}:
            violations.append(f"GET {path}: unassigned is not a boolean")
    report(violations, "lists lack the filters a front end needs")


def test_sort_parameters_list_their_fields(doc: Doc) -> None:
    """`sort` is an enum of `field` and `-field` values, so a client knows what it may sort by."""
    violations = []
    for name, _, op in operations(doc):
        sort = query_parameters(op).get("sort")
        if sort is None:
            continue
        values = deref(doc, sort.get("schema", {})).get("enum") or []
        if not values:
            violations.append(f"{name}: sort has no enum of fields")
        elif {v.lstrip("-") for v in values} != {v for v in values if not v.startswith("-")}:
            violations.append(f"{name}: sort values {values} do not pair each field with -field")
    report(violations, "sort parameters break the convention")


def is_enum(doc: Doc, schema: Schema) -> bool:
    """An enum, a const, a `$ref` to one, an array of them, or one of them or null."""
    schema = deref(doc, schema)
    if "enum" in schema or "const" in schema:
        return True
    members = schema.get("anyOf", schema.get("oneOf"))
    if members:
        options = [m for m in members if deref(doc, m).get("type") != "null"]
        return bool(options) and all(is_enum(doc, m) for m in options)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return is_enum(doc, schema["items"])
    return False


def may_be_string(doc: Doc, schema: Schema) -> bool:
    """Whether the schema admits a string (a numeric HTTP `status` is not enum-like)."""
    schema = deref(doc, schema)
    types = schema.get("type")
    if types is None:
        members = schema.get("anyOf", schema.get("oneOf"))
        if members:
            return any(may_be_string(doc, m) for m in members)
        return "properties" not in schema
    if types == "array":
        return isinstance(schema.get("items"), dict) and may_be_string(doc, schema["items"])
    return "string" in (types if isinstance(types, list) else [types])


def enum_like(name: str) -> bool:
    return name in ENUM_NAMES or name.endswith(ENUM_SUFFIXES)


def test_enum_like_fields_are_enums(doc: Doc) -> None:
    """Statuses, lights, severities, types, kinds, grades, channels, roles and states are enums."""
    violations = []
    for where, prop, schema in object_properties(doc):
        if enum_like(prop) and may_be_string(doc, schema) and not is_enum(doc, schema):
            violations.append(f"{where}: a free string (type it with the StrEnum from enums.py)")
    for where, param in parameters(doc):
        if param.get("in") != "header" and enum_like(param["name"]):
            schema = param.get("schema", {})
            if may_be_string(doc, schema) and not is_enum(doc, schema):
                violations.append(f"{where}: a free string (type it with the StrEnum from enums.py)")
    report(violations, "enum-like fields are not enums")


def bare(doc: Doc, schema: Schema, where: str) -> str | None:
    """Why a schema says nothing of its content (``{}``, an object without properties…), or None.

    Content whose shape truly varies (an event's payload, a template's data) is declared as a JSON
    object with any JSON values, ``dict[str, JsonValue]``: only there may ``JsonValue`` appear.
    """
    if ref_name(schema) == FREE_VALUE:
        return None if where.endswith("{*}") else f"any JSON value ({FREE_FORM})"
    if where == FREE_VALUE or "$ref" in schema or "const" in schema or "enum" in schema:
        return None
    if any(key in schema for key in ("anyOf", "oneOf", "allOf")):
        return None
    types = schema.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    if not types:
        return "any value (untyped)"
    if "object" in types and not schema.get("properties"):
        extra = schema.get("additionalProperties")
        if not isinstance(extra, dict) or not extra:
            return f"an object without properties (a model, or {FREE_FORM})"
    if "array" in types and not isinstance(schema.get("items"), dict):
        return "an array of anything"
    return None


def test_no_bare_object_schemas(doc: Doc) -> None:
    """Every request and response body, and everything nested in one, is typed with a model."""
    violations = []
    for where, schema in body_schemas(doc):
        why = bare(doc, schema, where)
        if why:
            violations.append(f"{where}: {why}")
    report(violations, "bodies or fields are untyped (use a model, never dict/Any/object)")


def test_every_operation_declares_its_problems(doc: Doc) -> None:
    """400/401/403/422/429/503 everywhere, 404 on paths with an id, each as problem+json."""
    violations = []
    for name, path, op in operations(doc):
        responses = op.get("responses", {})
        wanted = set(ALWAYS) | ({404} if "{" in path else set())
        for status in sorted(wanted):
            if str(status) not in responses:
                violations.append(f"{name}: does not declare {status}")
        for status, response in responses.items():
            if status[:1] not in {"4", "5"}:
                continue
            schema = response.get("content", {}).get(PROBLEM_JSON, {}).get("schema", {})
            if schema.get("$ref") != PROBLEM_REF:
                violations.append(f"{name}: {status} is not application/problem+json with the Problem schema")
    report(violations, "operations do not declare their problems")


def test_if_match_is_required_and_its_problems_declared(doc: Doc) -> None:
    """An operation taking If-Match declares 412 and 428 and marks the header required; and back."""
    violations = []
    for name, _, op in operations(doc):
        responses = op.get("responses", {})
        headers = [p for p in op.get("parameters", []) if p.get("in") == "header"]
        if_match = [p for p in headers if p.get("name", "").lower() == "if-match"]
        if if_match:
            for status in ("412", "428"):
                if status not in responses:
                    violations.append(f"{name}: takes If-Match but does not declare {status}")
            if not if_match[0].get("required"):
                violations.append(f"{name}: If-Match is not marked required")
        elif "428" in responses:
            violations.append(f"{name}: declares 428 but takes no If-Match header")
    report(violations, "If-Match operations break the convention")


def described(doc: Doc, schema: Schema) -> bool:
    if schema.get("description"):
        return True
    wrapper = schema.get("allOf", [])
    return len(wrapper) == 1 and "$ref" not in wrapper[0] and bool(wrapper[0].get("description"))


def test_every_schema_is_used_by_an_operation(doc: Doc) -> None:
    """The document lists what the gateway routes: no model of an internal route (or of nothing) in it.

    A generated client makes a class of every schema; one no operation uses is noise at best, and at
    worst publishes the shape of a route that the gateway does not serve.
    """
    used: set[str] = {"Problem"}
    for _, _, op in operations(doc):
        roots = [s for _, _, s in response_schemas(op)] + [s for _, s in request_schemas(op)]
        roots += [p.get("schema", {}) for p in op.get("parameters", [])]
        for root in roots:
            for _ in walk(doc, root, "", used):
                pass
    violations = sorted(set(doc["components"]["schemas"]) - used)
    report(violations, "schemas are used by no operation")


def test_every_property_is_described(doc: Doc) -> None:
    """Every property of every schema has its own description (a docstring under the field)."""
    violations = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        for where, sub in walk(doc, schema, name, seen={name}):
            for prop, prop_schema in sub.get("properties", {}).items():
                if not described(doc, prop_schema):
                    violations.append(f"{where}.{prop}")
    for name, _, op in operations(doc):
        for _, schema in [*request_schemas(op), *((m, s) for _, m, s in response_schemas(op))]:
            if "$ref" in schema:
                continue
            for where, sub in walk(
                doc, schema, f"{name} inline body", seen=set(doc["components"]["schemas"])
            ):
                for prop, prop_schema in sub.get("properties", {}).items():
                    if not described(doc, prop_schema):
                        violations.append(f"{where}.{prop}")
    report(violations, "properties have no description")


def test_every_parameter_is_described(doc: Doc) -> None:
    violations = [where for where, param in parameters(doc) if not param.get("description")]
    report(violations, "parameters have no description")


def test_every_operation_has_a_summary_and_a_description(doc: Doc) -> None:
    violations = []
    for name, _, op in operations(doc):
        for key in ("summary", "description"):
            if not str(op.get(key, "")).strip():
                violations.append(f"{name}: no {key} (a one-line docstring on the endpoint)")
    report(violations, "operations are not described")


def has_example(doc: Doc, schema: Schema) -> bool:
    if schema.get("examples") or "example" in schema:
        return True
    target = deref(doc, schema)
    if target.get("examples") or "example" in target:
        return True
    if is_page(doc, target):
        return has_example(doc, page_item(doc, target))
    if target.get("type") == "array" and isinstance(target.get("items"), dict):
        return has_example(doc, target["items"])
    return False


def json_bodies(op: dict[str, Any]) -> list[tuple[str, Schema]]:
    """(``request``/``200 response``, schema) for the JSON request body and JSON success responses."""
    bodies = [("request body", s) for m, s in request_schemas(op) if m == JSON]
    bodies += [(f"{st} response", s) for st, m, s in response_schemas(op, success_only=True) if m == JSON]
    return bodies


def test_every_operation_has_an_example(doc: Doc) -> None:
    """Its request body model or its success response model (a Page's item model) carries examples.

    An operation with no JSON body either way (a file export, a 204) has nothing to carry one.
    """
    violations = []
    for name, _, op in operations(doc):
        bodies = json_bodies(op)
        if bodies and not any(has_example(doc, s) for _, s in bodies):
            models = ", ".join(f"{what} {label(s, 'inline')}" for what, s in bodies)
            violations.append(f"{name}: no example on {models}")
    report(violations, "operations have no example")


def test_every_body_model_has_an_example(doc: Doc) -> None:
    """Every model used as a request or success response body (or as a Page's items) carries examples."""
    missing: dict[str, set[str]] = {}
    for name, _, op in operations(doc):
        for what, schema in json_bodies(op):
            target = page_item(doc, schema) if is_page(doc, schema) else schema
            if deref(doc, target).get("type") in {"array", "string", "integer", "boolean", "number"}:
                continue  # a list or scalar body: the list test or the item's model covers it
            if not has_example(doc, target):
                missing.setdefault(label(target, f"inline {what} of {name}"), set()).add(name)
    violations = [f"{model} (used by {', '.join(sorted(ops))})" for model, ops in missing.items()]
    report(violations, "body models have no example")


def examples_of(doc: Doc) -> Iterator[tuple[str, Schema, Any]]:
    for name, schema in sorted(doc["components"]["schemas"].items()):
        for i, example in enumerate(schema.get("examples", [])):
            yield f"{name} example {i + 1}", {"$ref": f"#/components/schemas/{name}"}, example


def test_examples_are_valid_instances_of_their_schema(doc: Doc) -> None:
    violations = []
    for where, ref, example in examples_of(doc):
        validator = jsonschema.Draft202012Validator({**ref, "components": doc["components"]})
        for error in validator.iter_errors(example):
            at = "/".join(str(p) for p in error.absolute_path) or "(root)"
            violations.append(f"{where} at {at}: {error.message[:160]}")
    report(violations, "examples do not match their schema")


def test_every_operation_has_one_tag_named_for_its_area(doc: Doc) -> None:
    """Exactly one tag, `<service>.<entity>` (`gateway.<area>` for the gateway's own routes)."""
    violations = []
    for name, path, op in operations(doc):
        tags = op.get("tags", [])
        segment = path.split("/")[3] if path.startswith("/api/v1/") else ""
        area = segment if segment in AREAS else "gateway"
        if len(tags) != 1:
            violations.append(f"{name}: {len(tags)} tags {tags} (want exactly one)")
        elif not re.fullmatch(rf"{area}\.[a-z][a-z0-9_-]*", tags[0]):
            violations.append(f"{name}: tag {tags[0]!r} is not named {area}.<entity>")
    report(violations, "operations break the tag convention")


def test_every_tag_is_declared_described_and_used(doc: Doc) -> None:
    """Each tag in use is declared at the top with a `中文 — English` description; none is declared idle."""
    declared = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    used = {tag for _, _, op in operations(doc) for tag in op.get("tags", [])}
    violations = [f"{tag!r} is used but not declared" for tag in sorted(used - set(declared))]
    violations += [f"{tag!r} is declared but no operation uses it" for tag in sorted(set(declared) - used)]
    for tag, description in sorted(declared.items()):
        if not CJK.search(description) or not re.search(r"[A-Za-z]", description):
            violations.append(f"{tag!r}: description {description!r} is not '中文 — English'")
    counts = Counter(t["name"] for t in doc.get("tags", []))
    violations += [f"{tag!r} is declared {n} times" for tag, n in counts.items() if n > 1]
    report(violations, "tag declarations break the convention")


def test_the_title_yields_an_installable_package_name(doc: Doc) -> None:
    """Generators name the client after the title: it must be ASCII; the Chinese name is in the description."""
    info = doc["info"]
    title = info["title"]
    project = f"{strings.kebab_case(title).lower()}-client"  # what openapi-python-client names it
    package = project.replace("-", "_")
    violations = []
    if not title.isascii():
        violations.append(f"title {title!r} is not ASCII")
    if not PROJECT_NAME.match(project):
        violations.append(f"project name {project!r} is not a valid PEP 508 name")
    if not (package.isascii() and package.isidentifier()):
        violations.append(f"package name {package!r} is not an importable Python identifier")
    if "基层党建专项督查" not in info.get("description", ""):
        violations.append("the description does not carry the Chinese name 基层党建专项督查")
    report(violations, "title problems")


def test_datetimes_have_one_format(doc: Doc) -> None:
    """`*_at` fields are `date-time` (`time` for a time of day), `*_on` fields `date`; example datetimes end in `Z`."""
    violations = []

    def formats(schema: Schema) -> set[str]:
        schema = deref(doc, schema)
        found = {schema["format"]} if "format" in schema else set()
        for member in schema.get("anyOf", schema.get("oneOf", [])):
            found |= formats(member)
        return found

    def time_of_day(schema: Schema) -> bool:
        # A local time of day written HH:MM (a digest's hour) is a string with its pattern.
        schema = deref(doc, schema)
        types = {schema.get("type"), *(m.get("type") for m in schema.get("anyOf", []))}
        return "string" in types and ":" in schema.get("pattern", "")

    for where, prop, schema in object_properties(doc):
        if prop.endswith("_at") and not {"date-time", "time"} & formats(schema) and not time_of_day(schema):
            violations.append(f"{where}: not format date-time (or time, for a time of day)")
        if prop.endswith("_on") and "date" not in formats(schema):
            violations.append(f"{where}: not format date")
    for where, param in parameters(doc):
        if param["name"].endswith("_at") and "date-time" not in formats(param.get("schema", {})):
            violations.append(f"{where}: not format date-time")

    for where, _, example in examples_of(doc):
        for at, value in datetimes(example):
            if not value.endswith("Z"):
                violations.append(f"{where}{at}: {value!r} is not UTC with Z")
    report(violations, "datetime fields break the convention")


def test_operation_ids_are_present_and_unique(doc: Doc) -> None:
    ids = Counter(op.get("operationId") for _, _, op in operations(doc))
    violations = [f"operationId {i!r} used {n} times" for i, n in ids.items() if n > 1 or not i]
    report(violations, "operationId problems")
