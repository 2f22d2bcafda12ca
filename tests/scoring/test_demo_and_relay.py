"""The demo data command, and delivery of scoring's outbox to rectification and notify."""

import json

import httpx
import pytest
from sqlalchemy import func, select

from services.kit import outbox
from services.scoring import demo
from services.scoring.config import Settings
from services.scoring.models import ResultsVersion, ScoreSheet, outbox_event
from tests.scoring.conftest import FakeSampling, as_admin, filled_sheet, outbox_rows, to_status


class TestDemo:
    async def _count(self, client, status=None):
        async with client.app.state.engine.connect() as conn:
            stmt = select(func.count()).select_from(ScoreSheet)
            if status:
                stmt = stmt.where(ScoreSheet.status == status)
            return (await conn.execute(stmt)).scalar_one()

    async def test_creates_realistic_sheets_once(self, client, sampling, capsys):
        settings = Settings(database_url=client.app.state.settings.database_url, environment="test")
        transport = httpx.MockTransport(sampling.handler)
        sampling.calls = 0
        assert await demo.run(settings, round_code="2026Q1", transport=transport) == 0
        assert await self._count(client) == 8
        # One listing of the round, whatever its size: not a lookup per sheet opened or submitted.
        assert sampling.calls == 1
        # seeded by site code: the same mix on every machine — most locked, some returned, with findings
        statuses = {st: await self._count(client, st) for st in ("reviewed", "returned", "locked")}
        assert statuses == {"reviewed": 1, "returned": 2, "locked": 5}
        # findings bind at lock: only the 5 locked sheets' findings went to rectification
        assert len([r for r in await outbox_rows(client) if r["target"] == "rectification"]) == 10
        first = capsys.readouterr().out
        assert "created 8 sheets" in first
        assert await demo.run(settings, round_code="2026Q1", transport=transport) == 0
        again = capsys.readouterr().out
        assert "created 0 sheets" in again and await self._count(client) == 8
        # The round's results are published once, by the demo's city admin with its reason; the
        # second load publishes nothing new (the same content is the same version).
        assert "results published (version 1)" in first
        assert "results already published (version 1)" in again
        async with client.app.state.engine.connect() as conn:
            versions = (
                await conn.execute(select(ResultsVersion.version, ResultsVersion.override_reason))
            ).all()
        assert [tuple(v) for v in versions] == [(1, demo.DEMO_PUBLISH_REASON)]
        facts = [
            r for r in await outbox_rows(client, facts=True) if r["event_type"] == "scoring.results.recorded"
        ]
        assert len(facts) == 1 and facts[0]["target"] == "reporting"
        assert sampling.calls == 2
        ranking = await client.get(
            "/rounds/2026Q1/rankings/districts", params={"preview": True}, headers=as_admin()
        )
        assert ranking.status_code == 200

    async def test_an_interrupted_load_is_finished_and_nothing_is_done_twice(
        self, client, sampling, capsys, monkeypatch
    ):
        """Drafts opened but not yet moved (the load stopped after the team batches): the next run
        brings each to its demo state, the same as an uninterrupted load."""
        settings = Settings(database_url=client.app.state.settings.database_url, environment="test")
        transport = httpx.MockTransport(sampling.handler)

        class Stopped(Exception):
            pass

        async def stop_after_opening(*args, **kwargs):
            raise Stopped

        with monkeypatch.context() as patch:
            patch.setattr(demo, "_advance", stop_after_opening)
            with pytest.raises(Stopped):
                await demo.run(settings, round_code="2026Q1", transport=transport)
        assert await self._count(client, "draft") == 8
        assert await demo.run(settings, round_code="2026Q1", transport=transport) == 0
        assert "created 0 sheets, brought 8 to their demo state" in capsys.readouterr().out
        statuses = {st: await self._count(client, st) for st in ("reviewed", "returned", "locked")}
        assert statuses == {"reviewed": 1, "returned": 2, "locked": 5}
        assert len([r for r in await outbox_rows(client) if r["target"] == "rectification"]) == 10
        assert await demo.run(settings, round_code="2026Q1", transport=transport) == 0
        assert "brought 0 to their demo state" in capsys.readouterr().out
        assert len([r for r in await outbox_rows(client) if r["target"] == "rectification"]) == 10

    async def test_a_sheet_somebody_scored_is_left_alone(self, client, sampling, capsys):
        settings = Settings(database_url=client.app.state.settings.database_url, environment="test")
        site = next(iter(sampling.drawn))[1]
        mine = await filled_sheet(client, site)
        assert (
            await demo.run(settings, round_code="2026Q1", transport=httpx.MockTransport(sampling.handler))
            == 0
        )
        assert "created 7 sheets, brought 7 to their demo state" in capsys.readouterr().out
        again = await client.get(f"/sheets/{mine['id']}", headers=as_admin())
        assert (again.json()["status"], again.json()["version"]) == ("draft", mine["version"])

    async def test_waits_until_the_findings_reached_rectification(self, client, sampling, capsys):
        settings = Settings(database_url=client.app.state.settings.database_url, environment="test")
        transport = httpx.MockTransport(sampling.handler)
        # Nobody relays in the test: it waits as long as it is told to, then says what is left.
        assert await demo.run(settings, round_code="2026Q1", transport=transport, wait_delivered=0.2) == 0
        assert "10 finding(s) not yet delivered to rectification" in capsys.readouterr().err
        async with client.app.state.engine.begin() as conn:
            await conn.execute(outbox_event.update().values(status=outbox.SENT))
        assert await demo.run(settings, round_code="2026Q1", transport=transport, wait_delivered=60) == 0
        assert "not yet delivered" not in capsys.readouterr().err

    async def test_round_missing_in_sampling_exits_cleanly(self, client, capsys):
        settings = Settings(database_url=client.app.state.settings.database_url, environment="test")
        code = await demo.run(
            settings, round_code="1999Q1", transport=httpx.MockTransport(FakeSampling().handler)
        )
        assert code == 0 and "no round 1999Q1" in capsys.readouterr().out


class TestRelay:
    async def test_findings_and_events_are_delivered_with_idempotency_keys(self, client):
        finding = {"category": "组织生活", "severity": "severe", "level": "individual", "concerns": "王某"}
        sheet = await filled_sheet(
            client,
            "330212001201",
            overrides={
                "C05": {"deductions": [{"points": 3, "reason": "民主评议未开展", "finding": finding}]}
            },
        )
        await to_status(client, sheet, "locked")
        received: list[httpx.Request] = []

        def peer(request: httpx.Request) -> httpx.Response:
            received.append(request)
            return httpx.Response(202, json={})

        app = client.app
        original = app.state.http
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(peer))
        try:
            cfg = outbox.RelayConfig(
                table=outbox_event,
                targets={
                    "notify": "http://notify",
                    "rectification": "http://rect",
                    "reporting": "http://rep",
                },
                source="scoring",
            )
            facts = await outbox_rows(client, facts=True)
            # submitted, the finding (at lock), locked; and the sheet's snapshot after every change
            assert await outbox.relay_once(app, cfg) == 3 + len(facts)
        finally:
            await app.state.http.aclose()
            app.state.http = original
        [rect] = [r for r in received if str(r.url) == "http://rect/findings"]
        envelope = json.loads(rect.content)
        assert envelope["type"] == "scoring.finding.created" and envelope["source"] == "scoring"
        assert rect.headers["idempotency-key"] == envelope["id"]
        assert envelope["data"]["concerns"] == "王某" and envelope["data"]["severity"] == "severe"
        notified = [json.loads(r.content)["type"] for r in received if str(r.url) == "http://notify/events"]
        assert notified == ["scoring.sheet.submitted", "scoring.sheet.locked"]
        snapshots = [json.loads(r.content) for r in received if str(r.url) == "http://rep/events"]
        assert sorted(e["data"]["revision"] for e in snapshots) == list(range(1, len(facts) + 1))
        assert {e["type"] for e in snapshots} == {"scoring.sheet.changed"}
