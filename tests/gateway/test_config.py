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

    def test_metrics_token_and_limits_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "m" * 24)
        monkeypatch.setenv("GATEWAY_AUTH_FAILURES_PER_MINUTE", "7")
        monkeypatch.setenv("GATEWAY_RATE_LIMIT_ENABLED", "false")
        settings = Settings()
        assert settings.metrics_token is not None and settings.metrics_token.get_secret_value() == "m" * 24
        assert settings.auth_failures_per_minute == 7 and settings.rate_limit_enabled is False

    def test_empty_metrics_token_means_none_and_a_short_one_is_refused(self, monkeypatch):
        monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "")
        assert Settings().metrics_token is None
        monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "short")
        with pytest.raises(ValidationError, match="GATEWAY_METRICS_TOKEN"):
            Settings()


class TestPublicUrl:
    def test_unset_it_is_where_the_gateway_listens(self, monkeypatch):
        monkeypatch.delenv("GATEWAY_PUBLIC_URL", raising=False)
        monkeypatch.setenv("GATEWAY_PORT", "9100")
        assert Settings().public_url == "http://127.0.0.1:9100"

    def test_listening_on_every_interface_links_to_loopback(self, monkeypatch):
        monkeypatch.delenv("GATEWAY_PUBLIC_URL", raising=False)
        monkeypatch.setenv("GATEWAY_HOST", "0.0.0.0")
        assert Settings().public_url == "http://127.0.0.1:8000"

    def test_the_configured_one_wins_without_its_trailing_slash(self, monkeypatch):
        monkeypatch.setenv("GATEWAY_PUBLIC_URL", "https://dangjian.example.gov.cn/")
        monkeypatch.setenv("GATEWAY_PORT", "9100")
        assert Settings().public_url == "https://dangjian.example.gov.cn"
