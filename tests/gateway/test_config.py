from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import Settings


class TestSettings:
    def test_empty_jwks_url_means_the_dev_issuer(self, monkeypatch):
        monkeypatch.setenv("GATEWAY_JWKS_URL", "")
        assert Settings().dev_issuer_enabled

    def test_comma_separated_cors_origins(self, monkeypatch):
        monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
        assert Settings().cors_origins == ["https://a.example", "https://b.example"]

    def test_production_refuses_the_dev_issuer(self, monkeypatch):
        monkeypatch.setenv("ENVIRONMENT", "production")
        monkeypatch.setenv("PRINCIPAL_SECRET", "x" * 40)
        with pytest.raises(ValidationError, match="GATEWAY_JWKS_URL"):
            Settings()

    def test_production_refuses_the_placeholder_secret(self, monkeypatch):
        monkeypatch.setenv("ENVIRONMENT", "production")
        monkeypatch.setenv("GATEWAY_JWKS_URL", "https://sso.example/jwks")
        with pytest.raises(ValidationError, match="PRINCIPAL_SECRET"):
            Settings()
