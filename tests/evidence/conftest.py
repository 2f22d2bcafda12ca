"""Evidence's harness: the app on the database under test, over each storage backend.

The ``storage`` fixture is parametrised: every test that uses the harness runs on the local directory
and on S3 over real HTTP, against moto's S3 server (a separate process, spoken to by boto3 exactly
as a production MinIO or OSS would be).
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from services.evidence.config import Settings
from services.evidence.main import build_app
from services.kit.clock import FrozenClock
from services.kit.testing import ManagedProcess, SignedHeaders, free_port, running_app

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

ADMIN = SignedHeaders(roles=["city_admin"], scope="ningbo", sub="u-admin")
YINZHOU = SignedHeaders(roles=["responsible"], scope="ningbo/yinzhou", sub="u-yinzhou")
HAISHU = SignedHeaders(roles=["district_admin"], scope="ningbo/haishu", sub="u-haishu")
LEADER = SignedHeaders(roles=["leader"], scope="ningbo", sub="u-leader")
ZH = {"Accept-Language": "zh-CN"}


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = ManagedProcess(
            "moto-s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT,
        )

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


def _wait(server: S3Server, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.proc.alive():
            raise RuntimeError(f"moto exited early:\n{server.proc.output()[-4000:]}")
        try:
            if httpx.get(f"{server.url}/moto-api/", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"moto not ready:\n{server.proc.output()[-4000:]}")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.proc.start()
    try:
        _wait(server)
        yield server
    finally:
        server.proc.stop()


_bucket_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=["local", "s3"])
def storage_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage_settings(storage_backend: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if storage_backend == "local":
        return {"storage": "local"}
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = f"evidence-test-{next(_bucket_counter)}"
    server.client().create_bucket(Bucket=bucket)
    return {
        "storage": "s3",
        "s3_endpoint_url": server.url,
        "s3_bucket": bucket,
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
    }


def evidence_settings(url: str, var_dir: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": url,
        "environment": "test",
        "var_dir": var_dir,
        "access_log": False,
        "log_json": False,
        "log_level": "WARNING",
        "scrub_interval_seconds": 0,
    }
    return Settings(**(base | kw))


class Harness:
    def __init__(self, app: Any, client: httpx.AsyncClient, clock: FrozenClock, settings: Settings) -> None:
        self.app = app
        self.client = client
        self.clock = clock
        self.settings = settings

    async def upload(
        self,
        content: bytes,
        name: str = "照片.jpg",
        *,
        headers: Any = YINZHOU,
        purpose: str = "problem",
        ref: str = "1024",
        org_unit: str = "ningbo/yinzhou/dongwu",
        note: str | None = None,
    ) -> httpx.Response:
        data = {"purpose": purpose, "ref": ref, "org_unit": org_unit}
        if note:
            data["note"] = note
        return await self.client.post(
            "/files", files={"file": (name, content, "application/octet-stream")}, data=data, headers=headers
        )

    async def uploaded(self, content: bytes, name: str = "照片.jpg", **kw: Any) -> dict[str, Any]:
        r = await self.upload(content, name, **kw)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def evidence(database_url, tmp_path, storage_settings, settings_overrides) -> AsyncIterator[Harness]:
    clock = FrozenClock(T0)
    settings = evidence_settings(
        await database_url("evidence"), tmp_path / "var", **(storage_settings | settings_overrides)
    )
    app = build_app(settings, clock=clock)
    async with running_app(app) as client:
        yield Harness(app, client, clock, settings)


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


# ---- sample content of every accepted type, made here (no binary fixtures in the repository)


def jpeg(
    *,
    size: tuple[int, int] = (64, 48),
    taken: str | None = "2026:03:09 14:30:00",
    gps: tuple[float, float] | None = (29.8683, 121.544),
    color: tuple[int, int, int] = (200, 30, 30),
) -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[271] = "TestCam"  # Make
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    if gps:
        lat, lon = gps
        exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes(), quality=90)
    return buf.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 255, 0, 255)).save(buf, format="PNG")
    return buf.getvalue()


def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:03:08 09:00:00"
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 200)).save(buf, format="HEIF", exif=exif.tobytes(), quality=80)
    return buf.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def docx() -> bytes:
    import docx as python_docx

    d = python_docx.Document()
    d.add_paragraph("整改情况说明")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "问题清单"  # type: ignore[index]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def mp4() -> bytes:
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    mdat = b"\x00\x00\x00\x10mdat" + b"\x00" * 8
    return ftyp + mdat


def plain_zip() -> bytes:
    return _zip({"readme.txt": b"hello"})


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
