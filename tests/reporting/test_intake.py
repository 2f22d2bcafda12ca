"""Intake: fact events stored once each, validated against their schemas, projected at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.kit import events as contracts
from tests.reporting import factories as f
from tests.reporting.conftest import ADMIN, SYSTEM, T0, Harness


async def test_a_sheet_event_is_applied_and_a_redelivery_absorbed(reporting: Harness) -> None:
    e = f.sheet("2026Q1", f.site("001"), at=T0)
    [first] = await reporting.send(e)
    assert first["status"] == "applied" and first["seq"] >= 1 and first["id"] == e["id"]
    [again] = await reporting.send(e)
    assert again == {"id": e["id"], "type": e["type"], "seq": None, "status": "duplicate"}
    board = await reporting.dashboard("2026Q1")
    assert board["coverage"]["sheets"]["locked"] == 1


async def test_events_of_types_reporting_does_not_use_are_stored_and_ignored(reporting: Harness) -> None:
    other = next(t for t in contracts.catalogue() if t.startswith("scoring.sheet.locked"))
    e = f.envelope(other, dict(contracts.schema(other).examples[0]), at=T0, source="scoring")
    [answer] = await reporting.send(e)
    assert answer["status"] == "ignored"
    r = await reporting.client.get("/rounds", headers=ADMIN)
    assert r.json()["items"] == []


async def test_unknown_type_and_version_and_bad_data_are_422(reporting: Harness) -> None:
    e = f.sheet("2026Q1", f.site("001"), at=T0)
    unknown = {**e, "type": "scoring.sheet.exploded"}
    r = await reporting.client.post("/events", json=unknown, headers=SYSTEM)
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-event-type"), r.text
    r = await reporting.client.post("/events", json={**e, "version": 9}, headers=SYSTEM)
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-event-version"), r.text
    bad = {**e, "data": {**e["data"], "revision": "three", "surprise": 1}}
    r = await reporting.client.post("/events", json=bad, headers=SYSTEM)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"].endswith("/invalid-event-data")
    locs = [x["loc"] for x in body["errors"]]
    assert ["body", "data", "revision"] in locs and ["body", "data", "surprise"] in locs
    r = await reporting.client.post(
        "/events", content=b"{not json", headers={**SYSTEM, "content-type": "application/json"}
    )
    assert r.status_code in (400, 422)
    r = await reporting.client.get("/rounds", headers=ADMIN)
    assert r.json()["items"] == []


async def test_only_services_may_send_events(reporting: Harness) -> None:
    e = f.sheet("2026Q1", f.site("001"), at=T0)
    r = await reporting.client.post("/events", json=e, headers=ADMIN)
    assert r.status_code == 404
    r = await reporting.client.post("/events/batch", json={"events": [e]}, headers=ADMIN)
    assert r.status_code == 404
    assert (await reporting.client.post("/events", json=e)).status_code == 401


async def test_a_batch_answers_each_event_on_its_own(reporting: Harness) -> None:
    good = f.sheet("2026Q1", f.site("001"), at=T0)
    bad = f.sheet("2026Q1", f.site("002"), at=T0)
    bad["data"]["status"] = ""
    no_id = {k: v for k, v in f.sheet("2026Q1", f.site("003"), at=T0).items() if k != "id"}
    r = await reporting.client.post(
        "/events/batch", json={"events": [good, bad, no_id, good]}, headers=SYSTEM
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [202, 422, 422, 202]
    assert results[0]["body"]["status"] == "applied"
    assert results[1]["id"] == bad["id"] and results[2]["id"] is None
    assert results[1]["body"]["type"].endswith("/invalid-event-data")
    # Sent again: every accepted one is a duplicate now.
    r = await reporting.client.post("/events/batch", json={"events": [good]}, headers=SYSTEM)
    assert r.json()["results"][0]["body"]["status"] == "duplicate"
    board = await reporting.dashboard("2026Q1")
    assert board["coverage"]["sheets"]["locked"] == 1


async def test_an_older_snapshot_never_overwrites_a_newer_one(reporting: Harness) -> None:
    s = f.site("001")
    newer = f.sheet(
        "2026Q1", s, at=T0 + timedelta(hours=1), revision=3, status="locked", score=91.0, grade="好"
    )
    older = f.sheet("2026Q1", s, at=T0, revision=2, status="submitted", score=None, grade=None)
    await reporting.send(newer, older)
    board = await reporting.dashboard("2026Q1")
    assert board["coverage"]["sheets"]["locked"] == 1 and board["scores"]["mean"] == 91.0
    # A snapshot of the same revision is applied (>=): the later one wins.
    same = f.sheet(
        "2026Q1", s, at=T0 + timedelta(hours=2), revision=3, status="locked", score=92.0, grade="好"
    )
    await reporting.send(same)
    assert (await reporting.dashboard("2026Q1"))["scores"]["mean"] == 92.0


async def test_an_older_draw_never_replaces_a_newer_one(reporting: Harness) -> None:
    sites = [f.site(f"00{i}") for i in range(1, 4)]
    await reporting.send(
        f.drawn("2026Q1", sites, at=T0 + timedelta(hours=1), revision=2),
        f.drawn("2026Q1", sites[:1], at=T0, revision=1),
    )
    board = await reporting.dashboard("2026Q1")
    assert board["coverage"]["drawn"] == 3
    await reporting.send(f.drawn("2026Q1", sites[:2], at=T0 + timedelta(hours=2), revision=3))
    assert (await reporting.dashboard("2026Q1"))["coverage"]["drawn"] == 2


async def test_a_problem_outside_any_round_is_kept_but_shows_on_no_dashboard(reporting: Harness) -> None:
    [answer] = await reporting.send(f.problem(None, f.site("001"), at=T0))
    assert answer["status"] == "applied"
    r = await reporting.client.get("/rounds", headers=ADMIN)
    assert r.json()["items"] == []


async def test_a_draw_of_many_sites_is_taken_in_and_an_oversized_event_refused(
    reporting: Harness,
) -> None:
    sites = [f.site(f"{i:06d}", ("yinzhou", "haishu")[i % 2]) for i in range(5000)]
    [answer] = await reporting.send(f.drawn("2026Q1", sites, at=T0))
    assert answer["status"] == "applied"
    assert (await reporting.dashboard("2026Q1"))["coverage"]["drawn"] == 5000
    reporting.app.state.settings.max_payload_bytes = 10_000
    r = await reporting.client.post("/events", json=f.drawn("2026Q2", sites, at=T0), headers=SYSTEM)
    assert r.status_code == 413 and r.json()["type"].endswith("/payload-too-large"), r.text
    r = await reporting.client.post(
        "/events/batch", json={"events": [f.drawn("2026Q2", sites, at=T0)]}, headers=SYSTEM
    )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == 413, r.text


async def test_batches_of_the_same_round_at_once_all_go_through(reporting: Harness) -> None:
    sites = [f.site(f"{i:03d}", ("yinzhou", "haishu")[i % 2]) for i in range(60)]
    first = [
        f.sheet("2026Q1", s, at=T0, revision=1, status="submitted", score=None, grade=None) for s in sites
    ]
    second = [f.sheet("2026Q1", s, at=T0 + timedelta(hours=1), revision=2) for s in reversed(sites)]
    problems = [f.problem("2026Q1", s, at=T0) for s in sites]
    answers = await asyncio.gather(
        *(
            reporting.client.post("/events/batch", json={"events": batch}, headers=SYSTEM)
            for batch in (first + problems[:30], second + problems[30:], [f.drawn("2026Q1", sites, at=T0)])
        )
    )
    assert [r.status_code for r in answers] == [200, 200, 200], [r.text[:300] for r in answers]
    assert all(x["status"] == 202 for r in answers for x in r.json()["results"])
    board = await reporting.dashboard("2026Q1")
    assert board["coverage"]["sheets"]["locked"] == 60 and board["coverage"]["drawn"] == 60
    assert board["rectification"]["total"] == 60
