"""`rectification.problem.changed`: every change of a problem sends reporting one full snapshot of it, in
the change's transaction, with a revision that only grows (created, assigned, started, progress,
submitted, returned, closed, withdrawn, merged, extension decided, deadline moved, became overdue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.kit import events as catalogue
from services.rectification import events as rect_events
from services.rectification.models import Problem
from tests.rectification.conftest import (
    CITY,
    EVIDENCE,
    LEADER,
    YINZHOU,
    ZHANG,
    create,
    events,
    tick,
)
from tests.rectification.deadlines.test_schedules import WORKING_30
from tests.rectification.extensions.test_extensions import ask, decide
from tests.rectification.findings.test_findings import FINDING, post
from tests.rectification.problems.test_lifecycle import LEADER_AS_CITY, act
from tests.rectification.problems.test_withdraw_merge import REASON, merge

CHANGED = "rectification.problem.changed"


async def facts(client: httpx.AsyncClient, problem_id: int | None = None) -> list[dict[str, Any]]:
    """The snapshots in the outbox (of one problem), oldest first (those of one moment by revision: the
    frozen clock gives the changes of a test the same time unless it moves it)."""
    rows = await events(client, CHANGED)
    for r in rows:
        assert (r["target"], r["path"]) == ("reporting", "/events")
    rows.sort(key=lambda r: (r["created_at"], r["payload"]["revision"]))
    return [r["payload"] for r in rows if problem_id is None or r["payload"]["problem_id"] == problem_id]


def revisions(snapshots: list[dict[str, Any]]) -> list[int]:
    return [s["revision"] for s in snapshots]


async def test_creation_sends_the_whole_problem_as_revision_1(client, clock):
    p = await create(client, round_code="2026Q1", item_code="B03", item_title="党员活动室台账")
    [fact] = await facts(client)
    catalogue.validate(CHANGED, fact)
    assert fact == {
        "problem_id": p["id"],
        "revision": 1,
        "round_code": "2026Q1",
        "site": p["site"],
        "responsible_unit": "ningbo/yinzhou/dongwu/tiantong",
        "responsible_person": {"user_id": "u-zhang-wei", "name": "张伟"},
        "item_code": "B03",
        "item_title": "党员活动室台账",
        "category": "三会一课",
        "severity": "general",
        "level": "village_community",
        "title": "党员活动室台账",
        "description": "支部委员会会议记录不全",
        "status": "open",
        "created_at": clock.now().isoformat(),
        "deadline_at": datetime.fromisoformat(p["deadline_at"]).isoformat(),
        "closed_at": None,
        "closed_on_time": None,
        "extensions": 0,
        "merged_into": None,
        "changed_at": clock.now().isoformat(),
    }


async def test_each_step_of_the_lifecycle_sends_one_snapshot_with_the_next_revision(client, clock):
    p = await create(client)
    pid = p["id"]
    steps = [
        ("start", {"plan": "补齐记录"}, ZHANG, "in_progress"),
        ("progress", {"note": "已补一半", "evidence": EVIDENCE}, ZHANG, "in_progress"),
        ("submit", {"note": "已整改", "evidence": EVIDENCE}, ZHANG, "submitted"),
        ("return", {"reason": "材料不全"}, YINZHOU, "returned"),
        ("submit", {"note": "已补齐", "evidence": EVIDENCE}, ZHANG, "submitted"),
        ("close", {}, YINZHOU, "closed"),
    ]
    for n, (action, body, who, status) in enumerate(steps, start=2):
        clock.advance(hours=1)
        r = await act(client, pid, action, body, who)
        assert r.status_code == 200, (action, r.text)
        got = await facts(client, pid)
        assert revisions(got) == list(range(1, n + 1)), action
        assert (got[-1]["status"], got[-1]["changed_at"]) == (status, clock.now().isoformat())
    closed = got[-1]
    assert closed["closed_at"] == clock.now().isoformat() and closed["closed_on_time"] is True


async def test_a_refused_change_sends_nothing(client):
    p = await create(client)
    assert (await act(client, p["id"], "close", {}, YINZHOU)).status_code == 409
    assert revisions(await facts(client, p["id"])) == [1]


async def test_assigning_sends_the_new_person_and_a_batch_one_snapshot_per_problem_assigned(client):
    a = (await create(client, responsible_person=None))["id"]
    b = (await create(client, responsible_person=None))["id"]
    [fa] = await facts(client, a)
    assert fa["responsible_person"] is None
    r = await client.post(
        "/problems/assign-batch",
        json={
            "items": [{"problem_id": a, "user_id": "u-zhang-wei"}, {"problem_id": b, "user_id": "u-li-na"}]
        },
        headers=YINZHOU,
    )
    assert r.status_code == 200, r.text
    assert revisions(await facts(client, a)) == [1, 2] and revisions(await facts(client, b)) == [1, 2]
    assert (await facts(client, b))[-1]["responsible_person"] == {"user_id": "u-li-na", "name": "李娜"}
    assert (await facts(client, b))[-1]["responsible_unit"] == "ningbo/yinzhou/dongwu"
    # A problem that already has that person is left as it was: no change, no snapshot.
    again = await client.post(
        "/problems/assign-batch",
        json={"items": [{"problem_id": a, "user_id": "u-zhang-wei"}]},
        headers=YINZHOU,
    )
    assert again.status_code == 200
    assert revisions(await facts(client, a)) == [1, 2]


async def test_withdrawing_sends_the_withdrawn_problem(client):
    p = await create(client)
    assert (await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)).status_code == 200
    got = await facts(client, p["id"])
    assert revisions(got) == [1, 2] and got[-1]["status"] == "withdrawn"


async def test_merging_sends_both_problems(client, clock):
    target = await create(client, round_code="2026Q1")
    dup = await create(client, round_code="2026Q1", evidence=EVIDENCE)
    clock.advance(hours=1)
    assert (await merge(client, dup["id"], target["id"])).status_code == 200
    merged, carried = await facts(client, dup["id"]), await facts(client, target["id"])
    assert revisions(merged) == [1, 2] and revisions(carried) == [1, 2]
    assert (merged[-1]["status"], merged[-1]["merged_into"]) == ("merged", target["id"])
    assert (carried[-1]["status"], carried[-1]["merged_into"]) == ("open", None)
    assert carried[-1]["changed_at"] == clock.now().isoformat()


async def test_an_approved_extension_sends_the_new_deadline_and_the_count(client):
    p = await create(client, LEADER_AS_CITY)
    ext = await ask(client, p["id"])
    assert ext.status_code == 201
    # Asking changes nothing of the problem (extensions counts approved ones only).
    assert revisions(await facts(client, p["id"])) == [1]
    assert (await decide(client, p["id"], ext.json()["id"])).status_code == 200
    got = await facts(client, p["id"])
    assert revisions(got) == [1, 2]
    assert got[-1]["extensions"] == 1 and got[-1]["deadline_at"].startswith("2026-02-20")


async def test_becoming_overdue_sends_one_snapshot_and_later_escalations_none(client, clock):
    p = await create(client, severity="severe")
    waiting = await create(client, severity="severe", description="党员发展档案不全")
    await act(client, waiting["id"], "start", {"plan": "x"}, ZHANG)
    await act(client, waiting["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
    before = revisions(await facts(client, waiting["id"]))
    clock.set(datetime.fromisoformat(p["deadline_at"]) + timedelta(days=1))
    await tick(client)
    got = await facts(client, p["id"])
    assert revisions(got) == [1, 2]
    assert (got[-1]["status"], got[-1]["changed_at"]) == ("open", clock.now().isoformat())
    # A verification nobody did in time is the verifiers' delay, not an overdue rectification.
    assert revisions(await facts(client, waiting["id"])) == before
    clock.advance(days=15)  # two more escalations: the problem was overdue already
    assert (await tick(client)).fired >= 2
    assert revisions(await facts(client, p["id"])) == [1, 2]
    # A change after it still counts on from there.
    assert (await act(client, p["id"], "start", {"plan": "补齐记录"}, ZHANG)).status_code == 200
    assert revisions(await facts(client, p["id"])) == [1, 2, 3]


async def test_a_finding_from_scoring_sends_its_problem_once(client):
    r = await post(client, FINDING)
    assert r.status_code == 201, r.text
    assert (await post(client, FINDING)).json() == r.json()  # redelivery: the stored answer
    [fact] = await facts(client)
    assert (fact["problem_id"], fact["revision"], fact["round_code"]) == (r.json()["problem_id"], 1, "2026Q1")
    assert (fact["item_code"], fact["item_title"], fact["severity"]) == (
        "C03",
        "“三会一课”固定化常态化",
        "serious",
    )


async def test_entering_a_years_holidays_sends_each_problem_whose_deadline_it_moved(client, clock):
    await client.put("/schedule-templates/general", json=WORKING_30, headers=CITY)
    clock.set(datetime(2026, 12, 14, 1, 0, tzinfo=UTC))
    p = await create(client)
    body = {"holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"], "workdays": []}
    assert (await client.put("/holiday-calendar/2027", json=body, headers=CITY)).status_code == 200
    got = await facts(client, p["id"])
    assert revisions(got) == [1, 2]
    assert got[0]["deadline_at"].startswith("2027-01-26") and got[1]["deadline_at"].startswith("2027-01-27")


async def test_reporting_gets_the_snapshots_of_a_problem_in_revision_order(client, clock):
    p = await create(client, LEADER_AS_CITY)
    for action, body, who in [
        ("start", {"plan": "x"}, ZHANG),
        ("submit", {"note": "x", "evidence": EVIDENCE}, ZHANG),
        ("close", {}, LEADER),
    ]:
        clock.advance(minutes=5)
        assert (await act(client, p["id"], action, body, who)).status_code == 200
    rows = [r for r in await events(client, CHANGED) if r["payload"]["problem_id"] == p["id"]]
    # The outbox's own order (the moment each was written): the relay sends them in it.
    assert [r["payload"]["revision"] for r in rows] == [1, 2, 3, 4]
    assert len({r["id"] for r in rows}) == 4
    assert [r["payload"]["changed_at"] for r in rows] == sorted(r["payload"]["changed_at"] for r in rows)


def test_the_builder_is_pure_and_its_snapshot_satisfies_the_schema():
    now = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    problem = Problem(
        id=7,
        round_code=None,
        site_code="330212001001",
        site_name="天童村",
        site_type="village",
        org_unit="ningbo/yinzhou/dongwu/tiantong",
        district="yinzhou",
        level="unit",
        category="组织生活",
        severity="severe",
        description="  党员发展档案不全，缺少近两年的政审材料和公示记录，需要逐一补齐并由支部书记签字确认  ",
        item_title="  ",
        issued_by="u-city-admin",
        issuing_unit="ningbo",
        responsible_unit="ningbo/yinzhou",
        status="merged",
        created_at=now,
        deadline_at=now + timedelta(days=7),
        merged_into_id=3,
        revision=9,
        extension_count=2,
    )
    fact = rect_events.problem_changed_fact(problem, changed_at=now)
    assert catalogue.validate(CHANGED, fact) == 1
    assert (fact["revision"], fact["merged_into"], fact["extensions"]) == (9, 3, 2)
    assert fact["item_title"] is None and fact["responsible_person"] is None
    assert fact["title"].startswith("党员发展档案不全") and len(fact["title"]) == rect_events.TITLE_MAX
    assert rect_events.problem_changed_fact(problem, changed_at=now) == fact
