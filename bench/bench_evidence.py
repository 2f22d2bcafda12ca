"""Evidence uploads: a 200 MB file through the gateway and direct, memory and throughput; thumbnails.

    python -m bench evidence

Measures, on loopback, with the service on SQLite and local storage:
- peak RSS growth of the gateway and of the service while a 200 MB multipart upload streams
  through (VmHWM after minus VmRSS before; target < 50 MB each);
- upload throughput through the gateway over direct (target ≥ 70 %), median of 3 alternating runs;
- the thumbnail of a 12-megapixel JPEG: the first GET …/thumbnail (made and stored) and the
  function alone (target < 300 ms).
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench.common import save
from gateway.auth import DevIssuer
from services.evidence.images import make_thumbnail
from services.kit.testing import ManagedProcess, free_port, principal_headers

SIZE = 200 * 1024 * 1024
CHUNK = 256 * 1024
RUNS = 3
BOUNDARY = "bench-evidence-boundary"
QUIET = {"LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "LOG_JSON": "true", "CITY_ROOT": "ningbo"}


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _reset_peak(pid: int) -> None:
    """Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS (needs the same user)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


async def body(tag: int) -> AsyncIterator[bytes]:
    yield (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="purpose"\r\n\r\nproblem\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="ref"\r\n\r\nbench\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="org_unit"\r\n\r\nningbo/yinzhou\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="大文件.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    block = os.urandom(CHUNK)
    head = f"%PDF-1.4\n% run {tag} {time.time_ns()}\n".encode()
    yield head
    left = SIZE - len(head)
    while left > 0:
        piece = block if left >= CHUNK else block[:left]
        left -= len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload(client: httpx.AsyncClient, url: str, headers: dict[str, str], tag: int) -> float:
    started = time.perf_counter()
    r = await client.post(
        url,
        content=body(tag),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    took = time.perf_counter() - started
    assert r.status_code == 201, r.text[:500]
    assert r.json()["size"] == SIZE
    return SIZE / took / 1e6


def twelve_megapixels() -> bytes:
    img = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    img = Image.blend(img, noise, 0.3)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


async def run(tmp: Path) -> dict[str, Any]:
    eport, gport = free_port(), free_port()
    key = tmp / "issuer.pem"
    issuer = DevIssuer(key, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
    env = {
        **os.environ,
        **QUIET,
        "VAR_DIR": str(tmp),
        "EVIDENCE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'evidence.db'}",
        "EVIDENCE_PORT": str(eport),
        "EVIDENCE_URL": f"http://127.0.0.1:{eport}",
        "EVIDENCE_MAX_FILE_BYTES": str(256 * 1024 * 1024),
        "GATEWAY_AREA_MAX_BODY_BYTES": '{"evidence": 300000000}',
        "GATEWAY_UPSTREAM_TIMEOUT_SECONDS": "600",
        "GATEWAY_PORT": str(gport),
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(key),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'gw.db'}",
    }
    ebase, gbase = f"http://127.0.0.1:{eport}", f"http://127.0.0.1:{gport}"
    evidence = ManagedProcess("evidence", [sys.executable, "-m", "services.evidence"], env=env, log_dir=tmp)
    gateway = ManagedProcess("gateway", [sys.executable, "-m", "gateway"], env=env, log_dir=tmp)
    try:
        evidence.start()
        await evidence.wait_http(f"{ebase}/readyz", timeout=120)
        gateway.start()
        await gateway.wait_http(f"{gbase}/readyz", timeout=120)
        direct = principal_headers(roles=["responsible"], scope="ningbo/yinzhou", sub="u-bench", ttl=3600)
        bearer = {
            "Authorization": "Bearer "
            + issuer.mint(sub="u-bench", roles=["responsible"], scope="ningbo/yinzhou")
        }
        async with httpx.AsyncClient(timeout=600) as c:
            await upload(c, f"{ebase}/files", direct, 0)  # warm-up (and the first blob)
            growth: dict[str, list[int]] = {"gateway": [], "evidence": []}
            rates: dict[str, list[float]] = {"direct": [], "gateway": []}
            for i in range(RUNS):
                rates["direct"].append(await upload(c, f"{ebase}/files", direct, 10 + i))
                before = {
                    n: _status(p.pid, "VmRSS") for n, p in (("gateway", gateway), ("evidence", evidence))
                }
                for p in (gateway, evidence):
                    _reset_peak(p.pid)
                rates["gateway"].append(await upload(c, f"{gbase}/api/v1/evidence/files", bearer, 20 + i))
                for n, p in (("gateway", gateway), ("evidence", evidence)):
                    growth[n].append(_status(p.pid, "VmHWM") - before[n])
            photo = twelve_megapixels()
            r = await c.post(
                f"{ebase}/files",
                files={"file": ("12mp.jpg", photo)},
                data={"purpose": "problem", "ref": "bench", "org_unit": "ningbo/yinzhou"},
                headers=direct,
            )
            r.raise_for_status()
            started = time.perf_counter()
            t = await c.get(f"{ebase}{r.json()['thumbnail_url']}", headers=direct)
            first_thumb_ms = (time.perf_counter() - started) * 1000
            t.raise_for_status()
            started = time.perf_counter()
            (await c.get(f"{ebase}{r.json()['thumbnail_url']}", headers=direct)).raise_for_status()
            stored_thumb_ms = (time.perf_counter() - started) * 1000
        path = tmp / "12mp.jpg"
        path.write_bytes(photo)
        fn_ms = []
        for _ in range(5):
            started = time.perf_counter()
            make_thumbnail(path, 320)
            fn_ms.append((time.perf_counter() - started) * 1000)
    finally:
        gateway.stop()
        evidence.stop()
    d, g = statistics.median(rates["direct"]), statistics.median(rates["gateway"])
    return {
        "upload_mb": SIZE // (1024 * 1024),
        "direct_mb_per_s": round(d, 1),
        "gateway_mb_per_s": round(g, 1),
        "gateway_over_direct": round(g / d, 3),
        "rss_growth_mb": {n: round(max(v) / 1e6, 1) for n, v in growth.items()},
        "thumbnail_12mp": {
            "first_get_ms": round(first_thumb_ms, 1),
            "stored_get_ms": round(stored_thumb_ms, 1),
            "function_median_ms": round(statistics.median(fn_ms), 1),
            "jpeg_bytes": len(photo),
        },
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        res = asyncio.run(run(Path(tmp)))
    print(
        f"evidence: {res['upload_mb']} MB upload direct {res['direct_mb_per_s']} MB/s, through the gateway "
        f"{res['gateway_mb_per_s']} MB/s ({res['gateway_over_direct']:.0%}); peak RSS growth gateway "
        f"{res['rss_growth_mb']['gateway']} MB, evidence {res['rss_growth_mb']['evidence']} MB; 12 MP thumbnail "
        f"first GET {res['thumbnail_12mp']['first_get_ms']} ms (function {res['thumbnail_12mp']['function_median_ms']} ms)",
        flush=True,
    )
    print(f"saved {save('evidence', res)}")


if __name__ == "__main__":
    main()
