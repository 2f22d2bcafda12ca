"""Extension requests (延期申请): decided by the issuing authority, at most N per problem."""

from tests.rectification.conftest import (
    CITY,
    EVIDENCE,
    LEADER,
    YINZHOU,
    ZHANG,
    create,
    events,
    pending_timers,
)
from tests.rectification.problems.test_lifecycle import LEADER_AS_CITY, act, history


async def ask(client, pid, new_deadline_on="2026-02-20", headers=ZHANG):
    return await client.post(
        f"/problems/{pid}/extensions",
        json={"reason": "春节期间无法召开会议", "new_deadline_on": new_deadline_on},
        headers=headers,
    )


async def decide(client, pid, ext_id, approve=True, headers=LEADER):
    return await client.post(
        f"/problems/{pid}/extensions/{ext_id}/decision",
        json={"approve": approve, "note": "同意"},
        headers=headers,
    )


class TestRequestExtension:
    async def test_approval_moves_the_deadline_and_history_keeps_both(self, client):
        p = await create(client, LEADER_AS_CITY)
        old_completion_timers = {
            t["id"] for t in await pending_timers(client, p["id"]) if t["milestone"] == "completion"
        }
        r = await ask(client, p["id"])
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending"
        r = await decide(client, p["id"], r.json()["id"])
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved"
        assert r.json()["previous_deadline_at"] == "2026-02-04T15:59:59Z"
        p2 = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert p2["deadline_at"] == "2026-02-20T15:59:59Z"
        assert p2["extension_count"] == 1
        completion = next(m for m in p2["milestones"] if m["kind"] == "completion")
        assert completion["original_due_at"] == "2026-02-04T15:59:59Z"
        assert completion["due_on"] == "2026-02-20"
        # Earlier milestones stay where they were.
        assert next(m for m in p2["milestones"] if m["kind"] == "plan")["due_on"] == "2026-01-12"
        entry = next(
            h
            for h in (await client.get(f"/problems/{p['id']}/history", headers=CITY)).json()["items"]
            if h["action"] == "extension_approved"
        )
        assert entry["detail"]["previous_deadline_at"] == "2026-02-04T15:59:59Z"
        assert entry["detail"]["deadline_at"] == "2026-02-20T15:59:59Z"
        timers = await pending_timers(client, p["id"])
        due = next(t for t in timers if t["kind"] == "due")
        assert due["fire_at"].isoformat() == "2026-02-20T15:59:59+00:00"
        assert not old_completion_timers & {t["id"] for t in timers}
        decided = await events(client, "rectification.extension.decided")
        assert decided[0]["payload"]["approved"] is True
        assert decided[0]["payload"]["recipients"] == [{"kind": "person", "user_id": "u-zhang-wei"}]

    async def test_rejection_keeps_the_deadline(self, client):
        p = await create(client, LEADER_AS_CITY)
        ext = (await ask(client, p["id"])).json()
        r = await decide(client, p["id"], ext["id"], approve=False)
        assert r.json()["status"] == "rejected"
        p2 = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert p2["deadline_at"] == p["deadline_at"]
        assert ("extension_rejected", "open", "open") in await history(client, p["id"])

    async def test_at_most_n_requests(self, client):
        p = await create(client, LEADER_AS_CITY)
        for day in ("2026-02-10", "2026-02-20"):
            ext = (await ask(client, p["id"], day)).json()
            assert (await decide(client, p["id"], ext["id"])).status_code == 200
        r = await ask(client, p["id"], "2026-03-01")
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/extension-not-allowed"
        assert r.json()["max_extensions"] == 2

    async def test_only_one_pending_request(self, client):
        p = await create(client)
        assert (await ask(client, p["id"])).status_code == 201
        assert (await ask(client, p["id"], "2026-02-25")).status_code == 409

    async def test_extension_after_closing_is_refused(self, client):
        p = await create(client)
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, p["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
        await act(client, p["id"], "close", {}, YINZHOU)
        r = await ask(client, p["id"])
        assert r.status_code == 409
        assert r.json()["problem_status"] == "closed"
        assert (await client.get(f"/problems/{p['id']}/extensions", headers=CITY)).json()["items"] == []

    async def test_earlier_date_is_refused(self, client):
        p = await create(client)
        r = await ask(client, p["id"], "2026-01-30")
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "new_deadline_on"]

    async def test_only_the_issuing_authority_decides(self, client):
        p = await create(client, LEADER_AS_CITY)
        ext = (await ask(client, p["id"])).json()
        assert (await decide(client, p["id"], ext["id"], headers=ZHANG)).status_code == 403
        assert (await decide(client, p["id"], ext["id"], headers=YINZHOU)).status_code == 403
        assert (await decide(client, p["id"], ext["id"], headers=CITY)).status_code == 200

    async def test_unknown_request_is_404(self, client):
        p = await create(client)
        assert (await decide(client, p["id"], 99, headers=CITY)).status_code == 404


class TestListExtensions:
    async def test_page_filtered_by_status(self, client):
        p = await create(client)
        first = (await ask(client, p["id"])).json()
        assert (await decide(client, p["id"], first["id"], approve=False, headers=CITY)).status_code == 200
        second = (await ask(client, p["id"], new_deadline_on="2026-02-25")).json()

        async def listed(**params):
            r = await client.get(f"/problems/{p['id']}/extensions", params=params, headers=CITY)
            assert r.status_code == 200, r.text
            return r.json()

        every = await listed()
        assert [e["id"] for e in every["items"]] == [first["id"], second["id"]]
        assert (every["total"], every["limit"], every["offset"]) == (2, 50, 0)
        assert [e["id"] for e in (await listed(status="pending"))["items"]] == [second["id"]]
        assert [e["status"] for e in (await listed(status="rejected"))["items"]] == ["rejected"]
        assert (await listed(status="approved"))["total"] == 0
        r = await client.get(f"/problems/{p['id']}/extensions", params={"status": "maybe"}, headers=CITY)
        assert r.status_code == 422
