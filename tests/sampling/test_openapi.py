"""The OpenAPI document the gateway builds its routing and role table from."""

from __future__ import annotations

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
