"""Where blobs live, behind one interface: a local directory (default) or an S3-compatible bucket.

S3 goes through boto3 (AWS's own SDK, the most used and best kept S3 client in Python, spoken by
MinIO, Alibaba Cloud OSS and every other S3-compatible store) on worker threads: the calls are few
and large (one PUT per new blob, ranged GETs read in chunks), so a thread per call costs nothing
that matters, and boto3's managed multipart upload (s3transfer) sends big files in parts without
holding them in memory. aiobotocore would add a second, less used layer pinned to exact botocore
versions for no gain here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from services.evidence.config import Settings


class Storage(Protocol):
    name: str

    async def put_file(self, key: str, path: Path) -> None:
        """Store the file at `path` under `key` (the file itself is left for the caller)."""

    async def exists(self, key: str) -> bool: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of `key` from `start` to `end` inclusive (None: to the end), in chunks."""
        ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class LocalStorage:
    name = "local"

    def __init__(self, root: Path, chunk: int) -> None:
        self.root = root
        self.chunk = chunk
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key

    async def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)

        def _copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(path, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, target)

        await asyncio.to_thread(_copy)

    async def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(open, self.path(key), "rb")
        try:
            if start:
                f.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                n = self.chunk if left is None else min(self.chunk, left)
                data = await asyncio.to_thread(f.read, n)
                if not data:
                    break
                if left is not None:
                    left -= len(data)
                yield data
        finally:
            f.close()

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    async def close(self) -> None:
        return None


class S3Storage:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self.chunk = settings.chunk_bytes
        secret = settings.s3_secret_access_key
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(
                s3={"addressing_style": settings.s3_addressing_style},
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=32,
            ),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    async def put_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self.client.upload_file, str(path), self.bucket, self._key(key))

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        response = await asyncio.to_thread(self.client.get_object, **kwargs)
        body = response["Body"]
        try:
            while True:
                data = await asyncio.to_thread(body.read, self.chunk)
                if not data:
                    break
                yield data
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    async def close(self) -> None:
        self.client.close()


def make_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.blob_dir, settings.chunk_bytes)


def blob_key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def thumbnail_key(sha256: str) -> str:
    return f"thumbnails/{sha256[:2]}/{sha256}.jpg"
