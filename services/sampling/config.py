from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings, peer_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLING_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "sampling"
    port: int = 8001
    # Peers this service calls (their base URLs).
    # Its own public base URL (the demo loader calls the running service through it).
    sampling_url: str = peer_url("SAMPLING_URL", "http://127.0.0.1:8001")
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    # Reporting takes the fact events (snapshots for its read model) at /events.
    reporting_url: str = peer_url("REPORTING_URL", "http://127.0.0.1:8005")
    rectification_url: str = peer_url("RECTIFICATION_URL", "http://127.0.0.1:8003")
    # Public base URL of sampling's API at the gateway, for the links in events (a team's calendar).
    public_base_url: str = "http://127.0.0.1:8000/api/v1/sampling"
    # `python -m services.sampling.demo` loads the synthetic city unless this is false.
    demo_data: bool = True
