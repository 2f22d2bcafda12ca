"""Withdrawing (撤销) a duplicate or mistaken problem, and merging (合并) a duplicate into another.

The issuing side's admin only: a problem from a scoring finding or entered by the city is the city
admin's, one entered by a district that district's admins' (and the city's above them). Both end the
problem (no reminder or escalation after), record it in the history, tell the responsible side and
the district's admins, and take it out of every count.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from tests.rectification.conftest import (
    CITY,
    EVIDENCE,
    HAISHU,
    HAISHU_SITE,
    LEADER,
    YINZHOU,
    ZHANG,
    SignedAs,
    create,
    events,
    pending_timers,
    tick,
)
from tests.rectification.fake_evidence import SIGN_IN_ID
from tests.rectification.findings.test_findings import FINDING, post
from tests.rectification.problems.test_lifecycle import act, to_submitted

REASON = "同一问题重复录入"
TOWN_ADMIN = SignedAs(roles=["district_admin"], scope="ningbo/yinzhou/dongwu", sub="u-dongwu-admin")
OTHER_EVIDENCE = [{"file_id": SIGN_IN_ID}]


async def full_history(client, pid):
    r = await client.get(f"/problems/{pid}/history", headers=CITY)
    return r.json()["items"]


async def to_state(client, pid, state):
    if state == "open":
        return
    if state == "in_progress":
        assert (await act(client, pid, "start", {"plan": "补齐记录"}, ZHANG)).status_code == 200
        return
    await to_submitted(client, pid)
    if state == "returned":
        assert (await act(client, pid, "return", {"reason": "材料不全"}, YINZHOU)).status_code == 200
    if state == "closed":
        assert (await act(client, pid, "close", {}, YINZHOU)).status_code == 200


class TestWithdraw:
    async def test_the_district_that_entered_it_withdraws_it_with_a_reason(self, client, clock):
        p = await create(client)
        clock.advance(hours=2)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "withdrawn"
        assert body["withdrawal"] == {"at": "2026-01-05T03:00:00Z", "by": "u-yinzhou-admin", "reason": REASON}
        assert (body["light"], body["days_left"], body["working_days_left"]) == (None, None, None)
        assert body["merged_into"] is None
        last = (await full_history(client, p["id"]))[-1]
        assert (last["action"], last["from_status"], last["to_status"], last["actor"]) == (
            "withdraw",
            "open",
            "withdrawn",
            "u-yinzhou-admin",
        )
        assert last["detail"]["reason"] == REASON
        assert await pending_timers(client, p["id"]) == []

    async def test_the_event_tells_the_responsible_side_and_the_districts_admins(self, client):
        p = await create(client)
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        [withdrawn] = await events(client, "rectification.problem.withdrawn")
        data = withdrawn["payload"]
        assert data["problem_id"] == p["id"]
        assert (data["reason"], data["withdrawn_by"], data["status"]) == (
            REASON,
            "u-yinzhou-admin",
            "withdrawn",
        )
        assert data["title"] == "支部委员会会议记录不全"
        assert data["site"]["name"] == "天童村"
        assert data["deadline"] == p["deadline_on"]
        assert data["link"].endswith(f"/problems/{p['id']}")
        assert (data["org_unit"], data["district"], data["priority"]) == (
            "ningbo/yinzhou/dongwu/tiantong",
            "yinzhou",
            "normal",
        )
        assert data["recipients"] == [
            {"kind": "person", "user_id": "u-zhang-wei"},
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"},
        ]

    async def test_without_a_responsible_person_the_districts_admins_are_told_once(self, client):
        p = await create(client, responsible_person=None)
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        [withdrawn] = await events(client, "rectification.problem.withdrawn")
        assert withdrawn["payload"]["recipients"] == [
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"}
        ]

    @pytest.mark.parametrize("state", ["open", "in_progress", "submitted", "returned"])
    async def test_from_every_state_that_is_not_final(self, client, state):
        p = await create(client)
        await to_state(client, p["id"], state)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "withdrawn"
        assert await pending_timers(client, p["id"]) == []

    @pytest.mark.parametrize("state", ["closed", "withdrawn", "merged"])
    async def test_never_from_a_final_state(self, client, state):
        p = await create(client, round_code="2026Q1")
        if state == "merged":
            other = await create(client, round_code="2026Q1")
            assert (
                await act(client, p["id"], "merge", {"into": other["id"], "reason": REASON}, YINZHOU)
            ).status_code == 200
        elif state == "withdrawn":
            assert (await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)).status_code == 200
        else:
            await to_state(client, p["id"], state)
        before = await full_history(client, p["id"])
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/transition-not-allowed"
        assert r.json()["problem_status"] == state
        assert r.json()["allowed"] == ["open", "in_progress", "submitted", "returned"]
        assert await full_history(client, p["id"]) == before

    async def test_a_reason_is_required(self, client):
        p = await create(client)
        for body in ({}, {"reason": ""}):
            r = await act(client, p["id"], "withdraw", body, YINZHOU)
            assert r.status_code == 422
            assert r.json()["errors"][0]["loc"] == ["body", "reason"]
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "open"
        assert await events(client, "rectification.problem.withdrawn") == []


class TestWhoMayWithdraw:
    async def test_a_problem_the_city_issued_is_the_city_admins(self, client):
        p = await create(client, CITY)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert r.status_code == 403
        assert r.json()["type"] == "/problems/problem-forbidden"
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, CITY)
        assert r.status_code == 200

    async def test_a_problem_from_a_finding_is_the_city_admins(self, client):
        pid = (await post(client, FINDING)).json()["problem_id"]
        assert (await act(client, pid, "withdraw", {"reason": REASON}, YINZHOU)).status_code == 403
        # The team leader who found it may not undo a binding finding.
        assert (await act(client, pid, "withdraw", {"reason": REASON}, LEADER)).status_code == 403
        assert (await act(client, pid, "withdraw", {"reason": REASON}, CITY)).status_code == 200

    async def test_the_city_admin_may_withdraw_a_districts_problem(self, client):
        p = await create(client)
        assert (await act(client, p["id"], "withdraw", {"reason": REASON}, CITY)).status_code == 200

    async def test_an_admin_below_the_issuing_district_may_not(self, client):
        p = await create(client)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, TOWN_ADMIN)
        assert r.status_code == 403

    async def test_another_districts_admin_is_answered_as_if_it_did_not_exist(self, client):
        p = await create(client)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, HAISHU)
        assert r.status_code == 404

    async def test_the_responsible_person_may_not(self, client):
        p = await create(client)
        r = await act(client, p["id"], "withdraw", {"reason": REASON}, ZHANG)
        assert r.status_code == 403
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "open"


class TestAfterWithdrawal:
    async def test_no_reminder_or_escalation_goes_out(self, client, clock):
        p = await create(client, severity="severe")
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        before = len(await events(client))
        clock.advance(days=30)
        result = await tick(client)
        assert result.fired == 0
        assert len(await events(client)) == before

    async def test_nothing_more_can_happen_to_it(self, client):
        p = await create(client)
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert (await act(client, p["id"], "start", {"plan": "x"}, ZHANG)).status_code == 409
        r = await act(client, p["id"], "assign", {"responsible_person": {"user_id": "u-li-na"}}, YINZHOU)
        assert r.status_code == 409
        r = await client.post(
            f"/problems/{p['id']}/extensions",
            json={"reason": "x", "new_deadline_on": "2026-03-31"},
            headers=ZHANG,
        )
        assert r.status_code == 409

    async def test_it_leaves_statistics_bulletin_my_list_and_follow_up(self, client, clock):
        kept = await create(client)
        gone = await create(client)
        await act(client, gone["id"], "withdraw", {"reason": REASON}, YINZHOU)
        clock.advance(days=40)  # both past their deadline
        [row] = (await client.get("/stats/districts", headers=CITY)).json()["items"]
        assert (row["open"], row["overdue"], row["closed_on_time"], row["closed_late"]) == (1, 1, 0, 0)
        bulletin = (await client.get("/bulletin/overdue", headers=CITY)).json()["items"]
        assert [b["problem_id"] for b in bulletin] == [kept["id"]]
        mine = (await client.get("/my/problems", headers=ZHANG)).json()["items"]
        assert [m["id"] for m in mine] == [kept["id"]]
        sys = SignedAs(roles=["system"], scope="", sub="service:sampling", kind="service")
        [site] = (await client.get("/follow-up-sites", headers=sys)).json()["items"]
        assert site["overdue_count"] == 1

    async def test_it_is_still_listed_and_found_by_status(self, client):
        p = await create(client)
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        listed = (await client.get("/problems", params={"status": "withdrawn"}, headers=CITY)).json()
        assert [i["id"] for i in listed["items"]] == [p["id"]]

    async def test_a_district_with_only_withdrawn_problems_has_no_row(self, client):
        p = await create(client)
        await act(client, p["id"], "withdraw", {"reason": REASON}, YINZHOU)
        assert (await client.get("/stats/districts", headers=CITY)).json()["items"] == []

    async def test_the_finding_sent_again_does_not_bring_it_back(self, client):
        pid = (await post(client, FINDING)).json()["problem_id"]
        assert (await act(client, pid, "withdraw", {"reason": REASON}, CITY)).status_code == 200
        again = copy.deepcopy(FINDING)
        again["id"] = str(uuid.uuid4())  # the same finding of the same sheet, under a new event id
        r = await post(client, again)
        assert r.status_code == 200
        assert r.json() == {"problem_id": pid, "created": False}
        assert (await client.get(f"/problems/{pid}", headers=CITY)).json()["status"] == "withdrawn"


async def merge(client, pid, into, headers=YINZHOU, reason=REASON):
    return await act(client, pid, "merge", {"into": into, "reason": reason}, headers)


class TestMerge:
    async def test_the_duplicate_is_merged_and_the_other_carries_on_with_its_deadline(self, client, clock):
        target = await create(client, round_code="2026Q1", evidence=EVIDENCE)
        clock.advance(days=2)
        dup = await create(client, round_code="2026Q1", evidence=[*EVIDENCE, *OTHER_EVIDENCE])
        assert dup["deadline_at"] != target["deadline_at"]
        timers_before = await pending_timers(client, target["id"])
        r = await merge(client, dup["id"], target["id"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "merged"
        assert body["merged_into"] == {
            "problem_id": target["id"],
            "at": "2026-01-07T01:00:00Z",
            "by": "u-yinzhou-admin",
            "reason": REASON,
        }
        assert body["light"] is None and body["withdrawal"] is None
        assert await pending_timers(client, dup["id"]) == []
        after = (await client.get(f"/problems/{target['id']}", headers=CITY)).json()
        assert after["status"] == "open"
        assert after["deadline_at"] == target["deadline_at"]
        assert after["merged_from"] == [dup["id"]]
        # The duplicate's evidence, each file once.
        assert [(e["sha256"], e["merged_from"]) for e in after["evidence"]] == [
            ("a" * 64, None),
            ("b" * 64, dup["id"]),
        ]
        assert await pending_timers(client, target["id"]) == timers_before

    async def test_both_histories_record_it(self, client):
        target = await create(client, round_code="2026Q1")
        dup = await create(client, round_code="2026Q1", evidence=OTHER_EVIDENCE)
        await merge(client, dup["id"], target["id"])
        last = (await full_history(client, dup["id"]))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == ("merge", "open", "merged")
        assert last["detail"]["merged_into"] == target["id"] and last["detail"]["reason"] == REASON
        last = (await full_history(client, target["id"]))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == ("merge_received", "open", "open")
        assert last["detail"]["merged_from"] == dup["id"] and last["detail"]["reason"] == REASON
        assert [e["sha256"] for e in last["detail"]["evidence"]] == ["b" * 64]

    async def test_the_event_names_the_problem_that_carries_on(self, client):
        target = await create(client, round_code="2026Q1", item_title="党员活动室台账")
        dup = await create(client, round_code="2026Q1")
        await merge(client, dup["id"], target["id"])
        [merged] = await events(client, "rectification.problem.merged")
        data = merged["payload"]
        assert data["problem_id"] == dup["id"] and data["status"] == "merged"
        assert (data["reason"], data["merged_by"]) == (REASON, "u-yinzhou-admin")
        assert data["merged_into"] == {
            "problem_id": target["id"],
            "title": "党员活动室台账",
            "link": data["link"].replace(f"/problems/{dup['id']}", f"/problems/{target['id']}"),
        }
        assert data["title"] == "支部委员会会议记录不全" and data["site"]["name"] == "天童村"
        assert data["deadline"] == dup["deadline_on"]
        assert data["recipients"] == [
            {"kind": "person", "user_id": "u-zhang-wei"},
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"},
        ]

    async def test_a_merged_problem_counts_once(self, client):
        target = await create(client, round_code="2026Q1")
        dup = await create(client, round_code="2026Q1")
        await merge(client, dup["id"], target["id"])
        [row] = (await client.get("/stats/districts", headers=CITY)).json()["items"]
        assert row["open"] == 1

    async def test_a_submitted_duplicate_may_be_merged_into_an_open_problem(self, client):
        target = await create(client, round_code="2026Q1")
        dup = await create(client, round_code="2026Q1")
        await to_submitted(client, dup["id"])
        r = await merge(client, dup["id"], target["id"])
        assert r.status_code == 200
        after = (await client.get(f"/problems/{target['id']}", headers=CITY)).json()
        assert [e["stage"] for e in after["evidence"]] == ["completion"]


class TestMergeRefused:
    async def test_into_itself_is_422_naming_into(self, client):
        p = await create(client)
        r = await merge(client, p["id"], p["id"])
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/invalid-merge"
        assert r.json()["errors"][0]["loc"] == ["body", "into"]

    async def test_another_site_is_422(self, client):
        p = await create(client, CITY, round_code="2026Q1")
        other = await create(
            client, CITY, site=dict(HAISHU_SITE), responsible_person=None, round_code="2026Q1"
        )
        r = await merge(client, p["id"], other["id"], CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "into"]
        assert "330203001" in r.json()["errors"][0]["msg"]

    async def test_another_round_is_422(self, client):
        p = await create(client, round_code="2026Q1")
        other = await create(client, round_code="2025Q4")
        r = await merge(client, p["id"], other["id"])
        assert r.status_code == 422
        assert "2025Q4" in r.json()["errors"][0]["msg"]
        nothing = await create(client)
        assert (await merge(client, p["id"], nothing["id"])).status_code == 422

    async def test_a_problem_the_caller_cannot_see_is_answered_like_a_missing_one(self, client):
        p = await create(client)
        hidden = await create(client, CITY, site=dict(HAISHU_SITE), responsible_person=None)
        r = await merge(client, p["id"], hidden["id"])
        missing = await merge(client, p["id"], 999_999)
        assert r.status_code == missing.status_code == 422
        assert r.json()["errors"][0]["msg"] == f"no problem {hidden['id']} that you may see"
        assert missing.json()["errors"][0]["msg"] == "no problem 999999 that you may see"

    @pytest.mark.parametrize("state", ["closed", "withdrawn", "merged"])
    async def test_into_a_final_problem_is_409(self, client, state):
        p = await create(client, round_code="2026Q1")
        target = await create(client, round_code="2026Q1")
        if state == "withdrawn":
            await act(client, target["id"], "withdraw", {"reason": REASON}, YINZHOU)
        elif state == "merged":
            third = await create(client, round_code="2026Q1")
            assert (await merge(client, target["id"], third["id"])).status_code == 200
        else:
            await to_state(client, target["id"], state)
        r = await merge(client, p["id"], target["id"])
        assert r.status_code == 409
        assert (r.json()["problem_id"], r.json()["problem_status"]) == (target["id"], state)
        assert (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] == "open"

    async def test_a_final_problem_cannot_be_merged_away(self, client):
        p = await create(client, round_code="2026Q1")
        target = await create(client, round_code="2026Q1")
        await to_state(client, p["id"], "closed")
        r = await merge(client, p["id"], target["id"])
        assert r.status_code == 409
        assert r.json()["problem_status"] == "closed"

    async def test_the_body_is_checked(self, client):
        p = await create(client)
        for body, field in (
            ({"reason": REASON}, "into"),
            ({"into": 0, "reason": REASON}, "into"),
            ({"into": 1}, "reason"),
        ):
            r = await act(client, p["id"], "merge", body, YINZHOU)
            assert r.status_code == 422
            assert r.json()["errors"][0]["loc"] == ["body", field]


class TestWhoMayMerge:
    async def test_the_issuing_sides_admin_of_the_duplicate(self, client):
        # The city's problem (a finding) is the city's to merge away; the district's own duplicate
        # may go into it.
        pid = (await post(client, FINDING)).json()["problem_id"]
        dup = await create(client, round_code="2026Q1")
        assert (await merge(client, pid, dup["id"])).status_code == 403
        r = await merge(client, dup["id"], pid)
        assert r.status_code == 200, r.text
        assert r.json()["merged_into"]["problem_id"] == pid

    async def test_the_responsible_person_may_not(self, client):
        p = await create(client, round_code="2026Q1")
        target = await create(client, round_code="2026Q1")
        assert (await merge(client, p["id"], target["id"], ZHANG)).status_code == 403


class TestFindingsStayOnePerFinding:
    async def test_a_merged_findings_problem_is_not_made_again(self, client, clock):
        pid = (await post(client, FINDING)).json()["problem_id"]
        second = copy.deepcopy(FINDING)
        second["id"] = str(uuid.uuid4())
        second["data"]["finding_id"] = 8
        other = (await post(client, second)).json()["problem_id"]
        assert (await merge(client, other, pid, CITY)).status_code == 200
        clock.advance(hours=1)
        resent = copy.deepcopy(second)
        resent["id"] = str(uuid.uuid4())
        r = await post(client, resent)
        assert r.json() == {"problem_id": other, "created": False}


class TestConcurrentMerges:
    async def test_two_problems_merged_into_each_other_at_once_end_as_one(self, client):
        import asyncio

        a = await create(client, round_code="2026Q1")
        b = await create(client, round_code="2026Q1")
        results = await asyncio.gather(merge(client, a["id"], b["id"]), merge(client, b["id"], a["id"]))
        codes = sorted(r.status_code for r in results)
        # One wins; the other finds its target merged (409) or, on a PostgreSQL deadlock, is told to retry.
        assert codes in ([200, 409], [200, 503]), [r.text for r in results]
        statuses = sorted(
            [(await client.get(f"/problems/{p['id']}", headers=CITY)).json()["status"] for p in (a, b)]
        )
        assert statuses == ["merged", "open"]
        retry = next(r for r in results if r.status_code != 200)
        if retry.status_code == 503:
            assert retry.headers["retry-after"] == "1"

    def test_a_postgresql_deadlock_is_recognised(self):
        from types import SimpleNamespace

        from sqlalchemy.exc import DBAPIError

        from services.rectification.problems.service import _is_deadlock

        def error(code):
            return DBAPIError("SELECT … FOR UPDATE", {}, SimpleNamespace(sqlstate=code))  # type: ignore[arg-type]

        assert _is_deadlock(error("40P01"))
        assert not _is_deadlock(error("23505"))
        assert not _is_deadlock(DBAPIError("x", {}, Exception("sqlite")))  # type: ignore[arg-type]
