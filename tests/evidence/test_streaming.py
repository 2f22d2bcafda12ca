"""The body is streamed: 413 comes before a too-large body is read, and memory stays flat."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from tests.evidence.conftest import ADMIN, YINZHOU, ZH, Harness

CHUNK = b"\x00" * (64 * 1024)
BOUNDARY = "evidence-test-boundary"


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Body:
    """A multipart body of `size` bytes of file content, produced lazily; counts what was consumed."""

    def __init__(self, size: int, head: bytes = b"%PDF-1.4\n") -> None:
        self.size = size
        self.head = head
        self.consumed = 0
        self.prefix = (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="purpose"\r\n\r\nproblem\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="ref"\r\n\r\n9\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="org_unit"\r\n\r\nningbo/yinzhou\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.hash = hashlib.sha256()

    @property
    def length(self) -> int:
        return len(self.prefix) + self.size + len(self.suffix)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts():
            self.consumed += len(part)
            yield part

    def _parts(self):  # type: ignore[no-untyped-def]
        yield self.prefix
        yield self.head
        self.hash.update(self.head)
        left = self.size - len(self.head)
        while left > 0:
            piece = CHUNK if left >= len(CHUNK) else CHUNK[:left]
            self.hash.update(piece)
            left -= len(piece)
            yield piece
        yield self.suffix


HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.parametrize("storage_backend", ["local"], indirect=True)
async def test_413_before_the_body_is_read_past_the_limit(evidence: Harness) -> None:
    body = Body(60 * 1024 * 1024)
    before = _rss()
    r = await evidence.client.post("/files", content=body, headers={**YINZHOU, **ZH, **HEADERS})
    grew = _rss() - before
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "上限" in r.json()["detail"]
    limit = evidence.settings.max_file_bytes
    # Stopped within one chunk of the limit: the last 10 MB were never asked for.
    assert body.consumed <= len(body.prefix) + limit + 2 * len(CHUNK) < body.length
    assert grew < 30 * 1024 * 1024, f"RSS grew by {grew / 1e6:.1f} MB"
    assert not list(evidence.settings.temp_dir.glob("*.part")), "the partial file was not removed"
    assert (await evidence.client.get("/files", headers=ADMIN)).json()["total"] == 0


@pytest.mark.parametrize("storage_backend", ["local"], indirect=True)
async def test_declared_length_over_the_limit_is_refused_unread(evidence: Harness) -> None:
    body = Body(60 * 1024 * 1024)
    r = await evidence.client.post(
        "/files", content=body, headers={**YINZHOU, **HEADERS, "Content-Length": str(body.length)}
    )
    assert r.status_code == 413
    assert body.consumed == 0


async def test_a_large_upload_streams_with_flat_memory(evidence: Harness) -> None:
    body = Body(40 * 1024 * 1024)
    before = _rss()
    r = await evidence.client.post("/files", content=body, headers={**YINZHOU, **HEADERS})
    grew = _rss() - before
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["size"] == body.size and f["sha256"] == body.hash.hexdigest()
    assert grew < 30 * 1024 * 1024, f"RSS grew by {grew / 1e6:.1f} MB"
    h = hashlib.sha256()
    async with evidence.client.stream("GET", f["content_url"], headers=YINZHOU) as resp:
        async for chunk in resp.aiter_bytes():
            h.update(chunk)
    assert h.hexdigest() == f["sha256"]
