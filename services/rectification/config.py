from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings, peer_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RECTIFICATION_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "rectification"
    port: int = 8003
    # Peers this service calls (their base URLs).
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    # Reporting takes the fact events (snapshots for its read model) at /events.
    reporting_url: str = peer_url("REPORTING_URL", "http://127.0.0.1:8005")
    sampling_url: str = peer_url("SAMPLING_URL", "http://127.0.0.1:8001")
    # Evidence files named in bodies are looked up there, as the caller.
    evidence_url: str = peer_url("EVIDENCE_URL", "http://127.0.0.1:8006")

    # Lights: yellow when this many calendar days or fewer are left, red at the second threshold.
    light_yellow_days: int = 7
    light_red_days: int = 3
    # Reminders go out this many days before every milestone (0 = at the due moment).
    reminder_offsets_days: list[int] = Field(default_factory=lambda: [7, 3, 1, 0])
    # Escalation: first one this long after a missed deadline (23:59:59 + 9 h = next morning), then every N days.
    escalation_first_after_hours: float = 9.0
    escalation_repeat_days: int = 7
    max_extensions: int = 2
    # Scheduler: timers claimed per transaction and the pause when nothing is due.
    scheduler_enabled: bool = True
    scheduler_batch_size: int = 500
    scheduler_poll_seconds: float = 1.0
    # With CLOCK_CONTROL on (tests only), the stand-alone scheduler process starts this far from now.
    clock_offset_seconds: float = 0.0
    # Public base URL of the calendar feed (as the gateway exposes it), used in the link a person gets.
    calendar_base_url: str = "http://127.0.0.1:8000/api/v1/rectification"
    # How long a lookup in notify's (people) or sampling's (sites) directory may take before the
    # write that needs it answers 503.
    directory_timeout_seconds: float = 5.0
    # How long looking up evidence files may take before the write that names them answers 503.
    evidence_timeout_seconds: float = 5.0
