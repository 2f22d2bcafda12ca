import pytest

from services.notify.config import Settings
from services.notify.main import build_app


def test_production_refuses_to_serve_with_the_development_sms_key(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("PRINCIPAL_SECRET", "p" * 40)
    with pytest.raises(ValueError, match="NOTIFY_SMS_API_KEY"):
        build_app(Settings())
    monkeypatch.setenv("NOTIFY_SMS_API_KEY", "real-provider-key")
    assert build_app(Settings()).state.settings.sms_api_key.get_secret_value() == "real-provider-key"
