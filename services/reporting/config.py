from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings, peer_url


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "reporting"
    port: int = 8005
    # Reporting calls no peer: everything it knows arrives as events (POST /events, /events/batch).

    # Intake: the largest envelope, and the largest batch body (the relays send up to 500 events).
    # A draw carries every drawn site (up to 50,000 visits, some 250 bytes each): 32 MiB holds it.
    max_payload_bytes: int = 32 * 1024 * 1024
    max_batch_bytes: int = 256 * 1024 * 1024
    # Lights, as rectification shows them: yellow with this many days or fewer left, red at the second.
    light_yellow_days: int = 7
    light_red_days: int = 3
    # Dashboard cache: a computed dashboard is reused until an event for its round arrives, or this
    # long at most (overdue counts and lights move with the clock, not only with events).
    dashboard_max_age_seconds: float = Field(default=60.0, ge=0)
    # Common problems: how many items, and how many examples of each.
    common_problems_top: int = 10
    common_problems_examples: int = 3

    # --- the documents (专报, bulletin, problem lists, annual assessment) ---
    # Who issues the 专报: 发文机关标志 and 署名, and the 发文字号's prefix (甬组督〔2026〕3号).
    issuer_mark: str = "中共宁波市委组织部"
    doc_number_issuer: str = "甬组督"
    special_report_addressee: str = "市委、市政府领导："
    # Where a person's link to an issued 专报 points (the gateway's public base of reporting's API).
    public_base_url: str = "http://127.0.0.1:8000/api/v1/reporting"
    # The issued 专报's event goes to notify through reporting's outbox.
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    # The demo loader waits this long for the demo round's results to arrive before giving up.
    demo_wait_seconds: float = Field(default=180.0, ge=0)
