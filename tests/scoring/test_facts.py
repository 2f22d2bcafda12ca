"""Scoring's fact events for reporting: `scoring.sheet.changed` (a full snapshot of a sheet after every
change, its version the revision; one per sheet of a batch) and `scoring.results.recorded` (each
published results version with its ranking), in the same transaction as the change."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx

from services.kit import events as catalogue
from services.scoring import events
from services.scoring.models import ResultsVersion, ScoreSheet
from tests.scoring.conftest import (
    ROUND,
    SITES,
    act,
    as_admin,
    as_inspector,
    as_leader,
    filled_sheet,
    full_items,
    open_sheet,
    outbox_rows,
    patch,
    to_status,
)

CHANGED, RECORDED = "scoring.sheet.changed", "scoring.results.recorded"
VILLAGE, OTHER_VILLAGE, TOWN, YINZHOU, HAISHU = (
    "330212001201",
    "330212001202",
    "330212001",
    "330212",
    "330203",
)


async def snapshots(client: httpx.AsyncClient, sheet_id: str | None = None) -> list[dict[str, Any]]:
    rows = await outbox_rows(client, facts=True)
    for r in rows:
        assert (r["target"], r["path"]) == ("reporting", "/events")
    rows.sort(key=lambda r: (r["created_at"], r["payload"].get("revision", 0)))
    return [
        r["payload"]
        for r in rows
        if r["event_type"] == CHANGED and (sheet_id is None or r["payload"]["sheet_id"] == sheet_id)
    ]


async def test_opening_a_sheet_sends_its_blank_snapshot_as_revision_1(client, clock):
    sheet = await open_sheet(client, VILLAGE)
    [fact] = await snapshots(client)
    assert catalogue.validate(CHANGED, fact) == 1
    assert fact == {
        "round_code": ROUND,
        "sheet_id": sheet["id"],
        "revision": 1,
        "site": SITES[VILLAGE],
        "team_id": "T1",
        "team_name": "第一督查组",
        "status": "draft",
        "score": None,
        "grade": None,
        "veto_items": [],
        "deductions": [],
        "changed_at": clock.now().isoformat(),
        "locked_at": None,
    }


async def test_every_change_sends_one_snapshot_whose_revision_is_the_sheets_version(client, clock):
    overrides = {"C01": {"deductions": [{"points": 2, "reason": "换届资料不全"}]}}
    sheet = await filled_sheet(client, VILLAGE, overrides=overrides)
    got = await snapshots(client, sheet["id"])
    assert [s["revision"] for s in got] == [1, 2] and sheet["version"] == 2
    assert got[-1]["deductions"] == [
        {
            "item_code": "C01",
            "item_title": "组织设置规范与按期换届",
            "section_code": "C",
            "points": 2,
            "reason": "换届资料不全",
        }
    ]
    assert (got[-1]["score"], got[-1]["grade"]) == (sheet["results"]["score"], sheet["results"]["grade"])
    for status in ("submitted", "reviewed"):
        clock.advance(minutes=5)
        sheet = await to_status(client, sheet, status)
    clock.advance(minutes=5)
    returned = await act(client, sheet, "return", as_admin(), {"reason": "补材料"})
    assert returned.status_code == 200, returned.text
    clock.advance(minutes=5)
    sheet = await to_status(client, returned.json(), "locked")
    got = await snapshots(client, sheet["id"])
    assert [s["revision"] for s in got] == list(range(1, sheet["version"] + 1))
    assert [s["status"] for s in got] == [
        "draft",
        "draft",
        "submitted",
        "reviewed",
        "returned",
        "submitted",
        "reviewed",
        "locked",
    ]
    assert got[-1]["locked_at"] == got[-1]["changed_at"] == clock.now().isoformat()
    for fact in got:
        catalogue.validate(CHANGED, fact)


async def test_a_save_that_changes_nothing_and_a_refused_one_send_nothing(client):
    sheet = await filled_sheet(client, VILLAGE)
    again = await patch(client, sheet, {"items": full_items("village")})
    assert again.status_code == 200 and again.json()["version"] == sheet["version"]
    stale = await patch(client, {**sheet, "etag": '"x.1"'}, {"notes": "x"})
    assert stale.status_code == 412
    assert [s["revision"] for s in await snapshots(client, sheet["id"])] == [1, 2]


async def test_submitting_with_last_changes_sends_one_snapshot_of_the_submitted_sheet(client):
    sheet = await filled_sheet(client, VILLAGE)
    r = await client.post(
        f"/sheets/{sheet['id']}/submit",
        json={"notes": "已复核全部扣分依据"},
        headers={**as_inspector(), "If-Match": sheet["etag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 4  # saved (3) and submitted (4) in one transaction
    got = await snapshots(client, sheet["id"])
    assert [(s["revision"], s["status"]) for s in got] == [(1, "draft"), (2, "draft"), (4, "submitted")]


async def test_a_batch_sends_one_snapshot_per_sheet_opened_and_none_for_those_already_open(client):
    first = await open_sheet(client, VILLAGE)
    r = await client.post(
        f"/rounds/{ROUND}/sheets/batch",
        json={"site_codes": [VILLAGE, OTHER_VILLAGE, TOWN]},
        headers=as_leader(),
    )
    assert r.status_code == 201, r.text
    created = {s["id"] for s in r.json()["created"]}
    assert len(created) == 2
    got = await snapshots(client)
    assert sorted(s["sheet_id"] for s in got) == sorted([first["id"], *created])
    assert all(s["revision"] == 1 and s["status"] == "draft" for s in got)
    assert {s["site"]["code"] for s in got if s["sheet_id"] in created} == {OTHER_VILLAGE, TOWN}


async def test_each_published_version_sends_its_ranking_once(client, sampling, clock):
    sampling.drawn.clear()
    for code in (YINZHOU, VILLAGE, HAISHU):
        sampling.draw(code)
    for code in (YINZHOU, VILLAGE, HAISHU):
        await to_status(client, await filled_sheet(client, code), "locked")
    r = await client.post(f"/rounds/{ROUND}/results/publish", headers=as_admin())
    assert r.status_code == 201, r.text
    # The same content again is no new version: nothing is sent.
    assert (await client.post(f"/rounds/{ROUND}/results/publish", headers=as_admin())).status_code == 200
    recorded = [r["payload"] for r in await outbox_rows(client, facts=True) if r["event_type"] == RECORDED]
    [fact] = recorded
    assert catalogue.validate(RECORDED, fact) == 1
    version = r.json()
    assert (fact["round_code"], fact["version"], fact["content_sha256"], fact["complete"]) == (
        ROUND,
        1,
        version["content_sha256"],
        True,
    )
    assert fact["published_at"] == clock.now().isoformat()
    ranking = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()["items"]
    assert [(d["rank"], d["district"], d["composite"], d["grade"]) for d in fact["districts"]] == [
        (d["rank"], d["district"], d["composite"], d["grade"]) for d in ranking
    ]
    yinzhou = next(d for d in fact["districts"] if d["district"] == "yinzhou")
    assert yinzhou["grassroots_count"] == 1 and yinzhou["complete"] is True
    assert yinzhou["section_a"] is not None and yinzhou["grassroots_mean"] is not None


def test_the_builders_are_pure_and_their_snapshots_satisfy_the_schemas():
    now = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    sheet = ScoreSheet(
        id="0b5c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
        round_code=ROUND,
        rubric_id=1,
        site_code=VILLAGE,
        site_name="勤勇村",
        site_type="village",
        org_unit="ningbo/yinzhou/330212001/330212001201",
        district="yinzhou",
        team_id="",
        team_name="",
        team_leader_user_id="u-leader",
        status="returned",
        version=7,
        score=58.5,
        grade="差",
        veto_items=["C05"],
        created_by="u-insp1",
        created_at=now,
        updated_at=now,
    )
    items = [
        SimpleNamespace(item_code="C05", section_code="C", detail={"deductions": []}),
        SimpleNamespace(
            item_code="C08",
            section_code="C",
            detail={
                "deductions": [
                    {"id": "d1", "points": 1.5, "reason": "记录不全", "finding": None},
                    {"id": "d2", "points": 2, "reason": "未公示", "finding": {"category": "x"}},
                ]
            },
        ),
    ]
    fact = events.sheet_changed_fact(sheet, items, item_titles={"C05": "民主评议"}, changed_at=now)
    assert catalogue.validate(CHANGED, fact) == 1
    assert (fact["revision"], fact["team_id"], fact["team_name"], fact["veto_items"]) == (
        7,
        None,
        None,
        ["C05"],
    )
    assert [(d["item_code"], d["item_title"], d["points"]) for d in fact["deductions"]] == [
        ("C08", "C08", 1.5),
        ("C08", "C08", 2),
    ]
    row = ResultsVersion(
        round_code=ROUND,
        version=3,
        content="{}",
        content_sha256="c" * 64,
        complete=False,
        expected_sheets=3,
        locked_sheets=2,
        published_by="u-admin",
        published_at=now,
    )
    district = {
        "rank": None,
        "district": "cixi",
        "composite": None,
        "grade": None,
        "complete": False,
        "own_score": None,
        "grassroots_mean": None,
        "grassroots_count": 0,
        "explanation": "…",
    }
    recorded = events.results_recorded_fact(row, [district])
    assert catalogue.validate(RECORDED, recorded) == 1
    assert recorded["districts"] == [
        {
            "rank": None,
            "district": "cixi",
            "composite": None,
            "grade": None,
            "section_a": None,
            "grassroots_mean": None,
            "grassroots_count": 0,
            "complete": False,
        }
    ]
