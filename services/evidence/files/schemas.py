from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.evidence.enums import Kind, Purpose


class Gps(BaseModel):
    lat: float = Field(description="Latitude, degrees (WGS 84, as the camera recorded it)")
    lon: float = Field(description="Longitude, degrees")


class FileRead(BaseModel):
    """One evidence file: what it is, what it is evidence for, and where to fetch it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c6b1e9a7d4c55b1d1f0a4e2c3b7d8",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 284113,
                    "media_type": "image/jpeg",
                    "kind": "image",
                    "name": "整改后照片.jpg",
                    "purpose": "problem",
                    "ref": "1024",
                    "org_unit": "ningbo/yinzhou/dongwu",
                    "uploaded_by": "u-responsible",
                    "uploaded_at": "2026-03-10T02:00:00Z",
                    "captured_at": "2026-03-09T06:30:00Z",
                    "gps": {"lat": 29.8683, "lon": 121.5440},
                    "thumbnail_url": "/api/v1/evidence/files/5f0c6b1e9a7d4c55b1d1f0a4e2c3b7d8/thumbnail",
                    "content_url": "/api/v1/evidence/files/5f0c6b1e9a7d4c55b1d1f0a4e2c3b7d8/content",
                }
            ]
        }
    )

    id: str = Field(description="The file's id (what scoring and rectification refer to)")
    sha256: str = Field(description="SHA-256 of the content served (images: without their EXIF); the ETag")
    size: int = Field(ge=0, description="Bytes of the content served")
    media_type: str = Field(description="The type found in the content's magic bytes")
    kind: Kind = Field(description="image | pdf | document | spreadsheet | video")
    name: str = Field(description="The file name the uploader gave")
    purpose: Purpose = Field(description="sheet_item | problem | milestone | finding")
    ref: str = Field(description="What it is evidence for (sheet id + item code, problem id, milestone id)")
    org_unit: str = Field(description="The org unit it belongs to (who may read it)")
    note: str | None = Field(default=None, description="The uploader's note")
    uploaded_by: str = Field(description="User id of the uploader")
    uploaded_at: datetime = Field(description="When the upload finished")
    captured_at: datetime | None = Field(description="When the photo was taken (EXIF), or null")
    gps: Gps | None = Field(description="Where the photo was taken (EXIF), or null")
    thumbnail_url: str | None = Field(description="The thumbnail (images only), or null")
    content_url: str = Field(description="The file's bytes (Range, ETag, Content-Disposition with its name)")


class Mismatch(BaseModel):
    sha256: str = Field(description="The blob's address: what its bytes hashed to when stored")
    actual: str | None = Field(description="What they hash to now (null: the blob is missing or unreadable)")
    size: int = Field(ge=0, description="Bytes read now")
    files: list[str] = Field(description="The ids of the files whose content this blob is")


class ScrubReport(BaseModel):
    """The newest scrub: every stored blob re-hashed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "started_at": "2026-03-10T18:00:00Z",
                    "finished_at": "2026-03-10T18:04:12Z",
                    "checked": 1842,
                    "mismatches": [
                        {
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                            "actual": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
                            "size": 284113,
                            "files": ["5f0c6b1e9a7d4c55b1d1f0a4e2c3b7d8"],
                        }
                    ],
                    "damaged_blobs": 1,
                }
            ]
        }
    )

    started_at: datetime | None = Field(description="When the newest scrub began (null: never ran)")
    finished_at: datetime | None = Field(description="When it finished")
    checked: int = Field(ge=0, description="Blobs re-hashed in that pass")
    mismatches: list[Mismatch] = Field(description="Blobs whose bytes no longer hash to their address")
    damaged_blobs: int = Field(ge=0, description="Blobs known to be damaged now")
