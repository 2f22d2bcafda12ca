"""open → in progress → submitted → closed (销号) or returned, with roles, scope and history."""

from services.kit.testing import principal_headers
from tests.rectification.conftest import (
    CITY,
    EVIDENCE,
    HAISHU,
    HASH,
    LEADER,
    LI,
    LI_REF,
    YINZHOU,
    ZHANG,
    SignedAs,
    create,
    events,
    pending_timers,
)


async def act(client, pid, action, body, headers):
    return await client.post(f"/problems/{pid}/{action}", json=body, headers=headers)


async def history(client, pid):
    r = await client.get(f"/problems/{pid}/history", headers=CITY)
    return [(h["action"], h["from_status"], h["to_status"]) for h in r.json()["items"]]


async def to_submitted(client, pid):
    assert (await act(client, pid, "start", {"plan": "补齐记录"}, ZHANG)).status_code == 200
    r = await act(client, pid, "submit", {"note": "已整改", "evidence": EVIDENCE}, ZHANG)
    assert r.status_code == 200, r.text
    return r.json()


class TestHappyPath:
    async def test_full_lifecycle_is_recorded_and_closes_on_time(self, client, clock):
        p = await create(client, LEADER_AS_CITY)
        pid = p["id"]
        r = await act(client, pid, "start", {"plan": "两周内补齐会议记录"}, ZHANG)
        assert r.json()["status"] == "in_progress"
        plan = next(m for m in r.json()["milestones"] if m["kind"] == "plan")
        assert plan["done_at"] is not None
        clock.advance(days=3)
        r = await act(client, pid, "progress", {"note": "已补一半"}, ZHANG)
        assert next(m for m in r.json()["milestones"] if m["kind"] == "midterm")["done_at"] is not None
        clock.advance(days=3)
        r = await act(client, pid, "submit", {"note": "全部补齐", "evidence": EVIDENCE}, ZHANG)
        body = r.json()
        assert body["status"] == "submitted"
        verification = next(m for m in body["milestones"] if m["kind"] == "verification")
        assert verification["due_on"] == "2026-01-16"  # 5 working days after Sun 11 Jan
        assert body["evidence"][0]["sha256"] == HASH
        r = await act(client, pid, "close", {"note": "核查属实"}, LEADER)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "closed"
        assert r.json()["closed_on_time"] is True
        assert r.json()["light"] is None
        assert await history(client, pid) == [
            ("created", None, "open"),
            ("start", "open", "in_progress"),
            ("progress", "in_progress", "in_progress"),
            ("submit", "in_progress", "submitted"),
            ("close", "submitted", "closed"),
        ]
        assert await pending_timers(client, pid) == []
        closed = await events(client, "rectification.problem.closed")
        assert closed[0]["payload"]["closed_on_time"] is True

    async def test_district_admin_above_may_close(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        r = await act(client, p["id"], "close", {}, YINZHOU)
        assert r.status_code == 200
        assert r.json()["status"] == "closed"

    async def test_late_submission_closes_late(self, client, clock):
        p = await create(client, severity="severe")
        clock.advance(days=9)
        await to_submitted(client, p["id"])
        r = await act(client, p["id"], "close", {}, YINZHOU)
        assert r.json()["closed_on_time"] is False


class TestReturn:
    async def test_return_keeps_the_countdown_and_tells_the_person(self, client, clock):
        p = await create(client)
        await to_submitted(client, p["id"])
        clock.advance(days=1)
        r = await act(client, p["id"], "return", {"reason": "照片不清晰"}, YINZHOU)
        body = r.json()
        assert body["status"] == "returned"
        assert body["deadline_at"] == p["deadline_at"]
        assert body["light"] == "green"
        assert [m["kind"] for m in body["milestones"]] == ["plan", "midterm", "completion"]
        assert next(m for m in body["milestones"] if m["kind"] == "completion")["done_at"] is None
        returned = await events(client, "rectification.problem.returned")
        assert returned[0]["payload"]["reason"] == "照片不清晰"
        assert returned[0]["payload"]["recipients"] == [{"kind": "person", "user_id": "u-zhang-wei"}]
        # Rework, resubmit, close.
        assert (
            await act(client, p["id"], "submit", {"note": "重新提交", "evidence": EVIDENCE}, ZHANG)
        ).status_code == 200
        assert (await act(client, p["id"], "close", {}, YINZHOU)).json()["status"] == "closed"

    async def test_return_needs_a_reason(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        r = await act(client, p["id"], "return", {}, YINZHOU)
        assert r.status_code == 422


class TestRefusals:
    async def test_transition_not_allowed_from_the_current_state(self, client):
        p = await create(client)
        r = await act(client, p["id"], "close", {}, YINZHOU)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/transition-not-allowed"
        assert r.json()["allowed"] == ["submitted"]
        assert await history(client, p["id"]) == [("created", None, "open")]
        r = await act(client, p["id"], "progress", {"note": "x"}, ZHANG)
        assert r.status_code == 409

    async def test_someone_elses_problem_cannot_be_started(self, client):
        p = await create(client)
        # Li may not see Zhang's problem: it answers like a missing one.
        r = await act(client, p["id"], "start", {"plan": "x"}, LI)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/problem-not-found"
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "open"

    async def test_submission_needs_evidence_with_a_file_id(self, client):
        p = await create(client)
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        r = await act(client, p["id"], "submit", {"note": "done", "evidence": []}, ZHANG)
        assert r.status_code == 422
        r = await act(client, p["id"], "submit", {"note": "done", "evidence": [{"note": "a.jpg"}]}, ZHANG)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "evidence", 0, "file_id"]
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "in_progress"

    async def test_only_the_issuer_or_an_admin_above_may_close(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        other_leader = principal_headers(roles=["team_leader"], scope="ningbo", sub="u-other-leader")
        # Visible but not theirs to close: 403. Not visible at all: 404, like a missing problem.
        assert (await act(client, p["id"], "close", {}, ZHANG)).status_code == 403
        assert (await act(client, p["id"], "close", {}, other_leader)).status_code == 404
        assert (await act(client, p["id"], "close", {}, HAISHU)).status_code == 404
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "submitted"


class TestAssign:
    async def test_reassignment_moves_reminders_to_the_new_person(self, client):
        p = await create(client)
        before = await pending_timers(client, p["id"])
        r = await act(
            client, p["id"], "assign", {"responsible_person": LI_REF, "reason": "人员调整"}, YINZHOU
        )
        assert r.status_code == 200
        assert r.json()["responsible_person"]["user_id"] == "u-li-na"
        assert r.json()["responsible_unit"] == "ningbo/yinzhou/dongwu"
        after = await pending_timers(client, p["id"])
        assert len(after) == len(before)
        assert {t["recipient_id"] for t in after} == {"u-li-na"}
        assert not {t["id"] for t in before} & {t["id"] for t in after}
        assigned = await events(client, "rectification.problem.assigned")
        assert assigned[-1]["payload"]["recipients"] == [{"kind": "person", "user_id": "u-li-na"}]
        assert (await client.get(f"/problems/{p['id']}", headers=ZHANG)).status_code == 404
        assert ("reassign", "open", "open") in await history(client, p["id"])

    async def test_person_outside_the_district_is_refused(self, client):
        p = await create(client)
        # Chen Jing belongs to Haishu in notify's directory, whatever the body claims.
        outsider = {"user_id": "u-chen-jing", "org_unit": "ningbo/yinzhou/dongwu"}
        r = await act(client, p["id"], "assign", {"responsible_person": outsider}, CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "user_id"]
        assert (await history(client, p["id"])) == [("created", None, "open")]

    async def test_responsible_person_cannot_reassign(self, client):
        p = await create(client)
        assert (
            await act(client, p["id"], "assign", {"responsible_person": LI_REF}, ZHANG)
        ).status_code == 403


LEADER_AS_CITY = SignedAs(roles=["city_admin", "team_leader"], scope="ningbo", sub="u-team-leader")


class TestHistoryPage:
    async def test_history_is_a_page_oldest_first(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        r = await client.get(f"/problems/{p['id']}/history", params={"limit": 2, "offset": 1}, headers=CITY)
        assert r.status_code == 200, r.text
        page = r.json()
        assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
        assert [h["action"] for h in page["items"]] == ["start", "submit"]
        submit = page["items"][1]["detail"]
        assert submit["on_time"] is True
        assert submit["evidence"][0]["file_id"] == EVIDENCE[0]["file_id"]
        assert submit["evidence"][0]["sha256"] == HASH
        assert page["items"][1]["at"].endswith("Z")

    async def test_evidence_reads_with_its_stage(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        evidence = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["evidence"]
        assert [(e["name"], e["stage"]) for e in evidence] == [("整改照片.jpg", "completion")]
