from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings, peer_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "scoring"
    port: int = 8002
    # Peers this service calls (their base URLs).
    sampling_url: str = peer_url("SAMPLING_URL", "http://127.0.0.1:8001")
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    # Reporting takes the fact events (snapshots for its read model) at /events.
    reporting_url: str = peer_url("REPORTING_URL", "http://127.0.0.1:8005")
    rectification_url: str = peer_url("RECTIFICATION_URL", "http://127.0.0.1:8003")
    # Evidence files an item names are looked up there, as the caller.
    evidence_url: str = peer_url("EVIDENCE_URL", "http://127.0.0.1:8006")
    # How long looking up evidence files may take before the write that names them answers 503.
    evidence_timeout_seconds: float = 5.0
