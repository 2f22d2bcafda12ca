from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings

_OPTIONAL = {"s3_endpoint_url", "s3_access_key_id", "s3_secret_access_key", "storage_dir", "work_dir"}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVIDENCE_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "evidence"
    port: int = 8006
    # Evidence calls no peer.

    # The largest file (multipart or tus); one byte more is refused with 413 before reading further.
    max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    # Multipart framing around the file (boundaries, part headers, the small form fields).
    multipart_overhead_bytes: int = Field(default=64 * 1024, ge=1024)
    # Where blobs live: a directory under VAR_DIR (default), or an S3-compatible bucket.
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None  # default VAR_DIR/evidence/blobs
    s3_endpoint_url: str | None = None  # MinIO, Alibaba Cloud OSS, ... (None: AWS)
    s3_bucket: str = "evidence"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = ""
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    # Temporary files (uploads in progress, multipart bodies being received).
    work_dir: Path | None = None  # default VAR_DIR/evidence/work
    # An unfinished resumable upload is forgotten this long after its creation.
    upload_expiry_seconds: int = Field(default=24 * 3600, ge=60)
    # Thumbnails: the longest side, in pixels.
    thumbnail_size: int = Field(default=320, ge=32, le=2048)
    # The scrub: every blob re-hashed this often (0: only on POST /admin/scrub).
    scrub_interval_seconds: float = Field(default=24 * 3600, ge=0)
    # Bytes read per chunk when streaming a blob.
    chunk_bytes: int = Field(default=1024 * 1024, ge=4096)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in list(data):
                if str(key).lower().removeprefix("evidence_") in _OPTIONAL and data[key] == "":
                    del data[key]  # an empty variable (compose, k8s) means "not set"
        return data

    @model_validator(mode="after")
    def _dirs(self) -> "Settings":
        if self.storage_dir is None:
            self.storage_dir = self.var_dir / "evidence" / "blobs"
        if self.work_dir is None:
            self.work_dir = self.var_dir / "evidence" / "work"
        if self.environment == "production" and self.storage == "s3" and not self.s3_secret_access_key:
            raise ValueError(
                "EVIDENCE_S3_SECRET_ACCESS_KEY must be set with EVIDENCE_STORAGE=s3 in production"
            )
        return self

    @property
    def blob_dir(self) -> Path:
        assert self.storage_dir is not None
        return self.storage_dir

    @property
    def temp_dir(self) -> Path:
        assert self.work_dir is not None
        return self.work_dir
