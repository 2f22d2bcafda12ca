"""The OpenAPI document the gateway builds its routing and role table from."""

from __future__ import annotations

import json
import re

from openapi_spec_validator import validate

from services.sampling.main import build_app


class TestOpenApi:
    def test_is_valid_with_unique_prefixed_ids_and_a_description_everywhere(self):
        spec = build_app().openapi()
        validate(spec)
        ops = [op for path in spec["paths"].values() for op in path.values()]
        ids = [op["operationId"] for op in ops]
        assert len(ids) == len(set(ids)) and all(i.startswith("sampling_") for i in ids)
        assert all(op.get("description") for op in ops)

    def test_the_cross_service_lookup_admits_the_system_role(self):
        spec = build_app().openapi()
        op = spec["paths"]["/rounds/{round_code}/assignments/{site_code}"]["get"]
        assert "system" in op["x-roles"]
        assert op["operationId"] == "sampling_get_round_assignment"

    def test_writes_are_limited_to_admins(self):
        spec = build_app().openapi()
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                if method != "get" and path.startswith("/rounds"):
                    assert op["x-roles"] == ["city_admin"], (method, path)


KIT_PATHS = ("/whoami", "/outbox")  # the kit's own routes: the platform's conventions tests cover them


def own_operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, op)
        for path, methods in spec["paths"].items()
        if not path.startswith(KIT_PATHS)
        for method, op in methods.items()
    ]


def own_schemas(spec: dict) -> set[str]:
    """Names of the schemas sampling's own operations reach."""
    text = json.dumps([op for _, _, op in own_operations(spec)])
    names: set[str] = set()
    todo = set(re.findall(r"#/components/schemas/(\w+)", text))
    while todo:
        name = todo.pop()
        names.add(name)
        found = re.findall(r"#/components/schemas/(\w+)", json.dumps(spec["components"]["schemas"][name]))
        todo |= set(found) - names
    return names - {"Problem"}


class TestConventions:
    """The API conventions (docs/api-guide.md) on sampling's own document."""

    def test_every_operation_has_one_declared_tag_of_sampling(self):
        spec = build_app().openapi()
        declared = {t["name"]: t["description"] for t in spec["tags"]}
        assert all(" — " in d for d in declared.values())
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                assert len(op["tags"]) == 1 and op["tags"][0] in declared, (method, path, op["tags"])
                assert op["tags"][0].startswith("sampling."), (method, path)

    def test_every_json_list_is_a_page_and_every_body_model_has_an_example(self):
        spec = build_app().openapi()
        schemas = spec["components"]["schemas"]

        def target(schema: dict) -> dict:
            ref = schema.get("$ref") or next(
                (m["$ref"] for m in schema.get("anyOf", []) if "$ref" in m), None
            )
            return schemas[ref.rsplit("/", 1)[1]] if ref else schema

        for method, path, op in own_operations(spec):
            bodies = [
                content["schema"]
                for response in [
                    op.get("requestBody", {}),
                    *(r for st, r in op["responses"].items() if st[0] == "2"),
                ]
                for media, content in response.get("content", {}).items()
                if media == "application/json" and "schema" in content
            ]
            for schema in bodies:
                body = target(schema)
                assert body.get("type") != "array" or schema.get("examples"), (method, path)
                if "items" in body.get("properties", {}):
                    assert {"items", "total", "limit", "offset"} <= set(body["required"]), (method, path)
                    body = target(body["properties"]["items"]["items"])
                if body.get("type") == "object" and body.get("properties"):
                    assert body.get("examples") or schema.get("examples"), (method, path, body.get("title"))

    def test_statuses_and_types_are_enums(self):
        schemas = build_app().openapi()["components"]["schemas"]
        for name in (
            "RoundRead",
            "AssignmentRead",
            "AssignmentSite",
            "SiteRead",
            "ImportReport",
            "StratumSummary",
        ):
            for prop in ("status", "type", "mode", "format", "group", "commitment_mode"):
                if prop in schemas[name]["properties"]:
                    field = schemas[name]["properties"][prop]
                    refs = [field.get("$ref")] + [m.get("$ref") for m in field.get("anyOf", [])]
                    assert any(r and "enum" in schemas[r.rsplit("/", 1)[1]] for r in refs), (name, prop)

    def test_every_property_and_parameter_is_described(self):
        spec = build_app().openapi()
        for name in own_schemas(spec):
            schema = spec["components"]["schemas"][name]
            for prop, sub in schema.get("properties", {}).items():
                assert sub.get("description"), f"{name}.{prop}"
        for method, path, op in own_operations(spec):
            for param in op.get("parameters", []):
                assert param.get("description"), (method, path, param["name"])
