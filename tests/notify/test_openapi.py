"""The published API: valid OpenAPI, stable operation ids, roles for the gateway."""

from __future__ import annotations

from openapi_spec_validator import validate

from services.notify.config import Settings
from services.notify.main import build_app


class TestOpenApi:
    def test_document_is_valid_with_prefixed_unique_operation_ids(self):
        schema = build_app(Settings(environment="test")).openapi()
        validate(schema)
        ops = [op for path in schema["paths"].values() for op in path.values()]
        ids = [op["operationId"] for op in ops]
        assert len(ids) == len(set(ids))
        assert all(i.startswith("notify_") for i in ids)
        assert all(op.get("description") or op.get("summary") for op in ops)

    def test_admin_endpoints_publish_their_roles(self):
        schema = build_app(Settings(environment="test")).openapi()
        for path in ("/events", "/events/batch"):
            # Internal intake: the gateway does not route it, the merged OpenAPI leaves it out.
            assert schema["paths"][path]["post"]["x-internal"] is True
        assert schema["paths"]["/notifications"]["post"]["x-roles"] == ["city_admin", "system"]
        assert schema["paths"]["/templates/{event_type}/{channel}"]["put"]["x-roles"] == ["city_admin"]
        assert "EventEnvelope" in schema["components"]["schemas"]
