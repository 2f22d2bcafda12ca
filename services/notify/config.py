from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings, peer_url

DEV_SMS_KEY = "dev-sms-key"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "notify"
    port: int = 8004
    # Peers this service calls (their base URLs).
    notify_url: str = peer_url("NOTIFY_URL", "http://127.0.0.1:8004")
    rectification_url: str = peer_url("RECTIFICATION_URL", "http://127.0.0.1:8003")
    scoring_url: str = peer_url("SCORING_URL", "http://127.0.0.1:8002")

    # Intake
    max_payload_bytes: int = 64 * 1024
    default_timezone: str = "Asia/Shanghai"

    # Delivery worker (runs in every replica; rows are claimed with SKIP LOCKED on PostgreSQL).
    # A loop claims only what it sends at once; the process's heartbeat renews the lease of every
    # row it holds, so a crashed process's rows come back within `delivery_lease_seconds`.
    delivery_enabled: bool = True
    delivery_batch_size: int = 200  # most email/SMS/inbox rows one loop claims per pass
    delivery_poll_seconds: float = 0.2
    delivery_lease_seconds: float = 10.0  # a claimed row is free again this long after its last renewal
    delivery_heartbeat_seconds: float = 2.0  # how often the process renews its leases (< lease / 3)
    delivery_concurrency: int = 64  # email/SMS/inbox sends in flight per process
    delivery_loops: int = 3  # loops per process; leases keep them (and other replicas) apart
    # Webhook requests in flight to one subscription, per process, across all loops: a slow
    # receiver is never flooded, and a crash can repeat at most this many requests.
    webhook_max_in_flight: int = Field(default=4, ge=1)
    # Seconds to wait before each retry (then the delivery is dead-lettered); webhooks follow the
    # Standard Webhooks schedule, which spans more than 24 hours.
    webhook_retry_schedule: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    message_retry_schedule: list[float] = Field(default_factory=lambda: [30.0, 120.0, 600.0, 1800.0, 3600.0])
    retry_jitter: float = 0.1

    # Webhooks
    # Allow receivers on loopback/private addresses (127.0.0.1, localhost, 10/8, 192.168/16...):
    # NOTIFY_WEBHOOK_ALLOW_PRIVATE=true for a receiver on a developer's machine, tests, or peers on a
    # private government network (docs/webhooks.md). Off by default: a subscriber must not be able
    # to make notify call internal services.
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_failures: int = 10  # consecutive failed attempts ...
    webhook_disable_after_seconds: float = 24 * 3600  # ... spanning at least this long
    # Secret rotation: the old secret keeps signing (a second `v1,` signature) this long by default,
    # so receivers can switch to the new one; a rotation may ask for 0 up to the maximum.
    webhook_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0)
    webhook_secret_overlap_max_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    # The longest time range one replay (POST /webhooks/subscriptions/{id}/replay) may cover.
    webhook_replay_max_seconds: int = Field(default=31 * 24 * 3600, ge=1)

    # Email over SMTP
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "dangjian-notify@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0

    # SMS provider adapter (see docs/notify.md for the request/response contract)
    sms_url: str = "http://127.0.0.1:9/sms"
    sms_api_key: SecretStr = SecretStr(DEV_SMS_KEY)
    sms_sign_name: str = "党建督查"
    sms_max_length: int = 140

    # Inbox stream: how often an open stream looks for messages written by other replicas
    stream_poll_seconds: float = 1.0

    # Digest
    digest_poll_seconds: float = 30.0

    # ---- Access (who may do what; see docs/notify.md): open inbox streams per principal, per process.
    # One more is refused with 429 and Retry-After; a closed stream frees its slot at once.
    stream_max_per_principal: int = 5
    stream_retry_after_seconds: int = 5

    def check_production_secrets(self) -> None:
        """Refuse to serve in production with the development SMS key (migrations do not need it)."""
        if self.environment == "production" and self.sms_api_key.get_secret_value() in (DEV_SMS_KEY, ""):
            raise ValueError("NOTIFY_SMS_API_KEY must be set to the SMS provider's key in production")
