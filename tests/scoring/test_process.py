"""Scoring as a real process (``python -m services.scoring``) talking to a sampling process over HTTP."""

import sys

import httpx
import pytest

from services.kit.testing import ManagedProcess, free_port, principal_headers
from tests.conftest import TEST_DB
from tests.scoring.conftest import FULL_POLL, full_items


@pytest.mark.e2e
async def test_open_fill_and_submit_over_http(tmp_path, database_url):
    sampling_port, scoring_port = free_port(), free_port()
    url = (
        await database_url("scoring_process")
        if TEST_DB == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}"
    )
    env = {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
        "SCORING_PORT": str(scoring_port),
        "SCORING_DATABASE_URL": url,
        "SCORING_OUTBOX_ENABLED": "false",
        "SAMPLING_URL": f"http://127.0.0.1:{sampling_port}",
    }
    sampling = ManagedProcess(
        "stub-sampling",
        [sys.executable, "-m", "tests.scoring.stub_sampling", str(sampling_port)],
        env=env,
        log_dir=tmp_path,
    ).start()
    scoring = ManagedProcess(
        "scoring", [sys.executable, "-m", "services.scoring"], env=env, log_dir=tmp_path
    ).start()
    try:
        # Readiness is a condition, not a speed: on a loaded machine importing the app alone takes
        # tens of seconds, so the wait is generous (it ends as soon as the process answers).
        await sampling.wait_http(f"http://127.0.0.1:{sampling_port}/readyz", timeout=180)
        await scoring.wait_http(f"http://127.0.0.1:{scoring_port}/readyz", timeout=180)
        insp = principal_headers(roles=["inspector"], sub="u-insp1", ttl=3600)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{scoring_port}", timeout=30) as c:
            r = await c.post("/rounds/2026Q1/sheets", json={"site_code": "X1"}, headers=insp)
            assert r.status_code == 422 and r.json()["type"] == "/problems/site-not-drawn"
            sheet = (await c.post("/rounds/2026Q1/sheets", json={"site_code": "V1"}, headers=insp)).json()
            body = {"items": full_items("village"), "poll": FULL_POLL}
            r = await c.post(
                f"/sheets/{sheet['id']}/submit", json=body, headers={**insp, "If-Match": sheet["etag"]}
            )
            assert r.status_code == 200, r.text
            assert (r.json()["status"], r.json()["results"]["score"], r.json()["team"]["id"]) == (
                "submitted",
                100.0,
                "1",
            )
        sampling.stop()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{scoring_port}", timeout=30) as c:
            r = await c.post("/rounds/2026Q1/sheets", json={"site_code": "V2"}, headers=insp)
            assert r.status_code == 503 and r.json()["type"] == "/problems/sampling-unavailable"
    finally:
        scoring.stop()
        sampling.stop()
