"""Score sheets: who may open them, what may be written, the lifecycle, history, locking and findings."""

import asyncio
import hashlib

import pytest

from services.kit.schema import utc_z
from services.kit.testing import principal_headers
from tests.scoring.conftest import (
    FULL_POLL,
    INSPECTOR,
    LEADER,
    NOT_DRAWN,
    OUTSIDER,
    PHOTO_ID,
    ROUND,
    act,
    as_admin,
    as_district_admin,
    as_inspector,
    as_leader,
    filled_sheet,
    full_items,
    open_sheet,
    outbox_rows,
    patch,
    to_status,
)

VILLAGE = "330212001201"


class TestCreateSheet:
    async def test_team_member_opens_a_draft_with_only_applicable_items(self, client):
        r = await client.post(f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_inspector())
        assert r.status_code == 201
        sheet = r.json()
        assert sheet["status"] == "draft" and sheet["version"] == 1
        assert r.headers["etag"] == sheet["etag"]
        assert r.headers["location"] == f"/sheets/{sheet['id']}"
        codes = [i["item_code"] for i in sheet["items"]]
        assert len(codes) == 22 and codes[0] == "C01" and codes[-1] == "D08"
        assert sheet["team"]["leader_user_id"] == LEADER
        assert sheet["results"]["score"] is None and sheet["results"]["complete"] is False

    async def test_site_not_drawn_is_refused_naming_site_code(self, client):
        r = await client.post(
            f"/rounds/{ROUND}/sheets", json={"site_code": NOT_DRAWN}, headers=as_inspector()
        )
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/site-not-drawn"
        assert body["errors"][0]["loc"] == ["body", "site_code"]
        listed = await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())
        assert listed.json()["total"] == 0

    async def test_sampling_unreachable_fails_clearly_and_writes_nothing(self, client, sampling):
        sampling.down = True
        r = await client.post(f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_inspector())
        assert r.status_code == 503
        assert r.json()["type"] == "/problems/sampling-unavailable"
        assert "sampling" in r.json()["detail"]
        assert (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).status_code == 404

    async def test_user_outside_the_team_is_refused(self, client):
        r = await client.post(
            f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_inspector(OUTSIDER)
        )
        assert r.status_code == 403
        assert r.json()["type"] == "/problems/not-in-team"

    async def test_city_admin_cannot_open_sheets(self, client):
        r = await client.post(f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_admin())
        assert r.status_code == 403

    async def test_second_sheet_for_same_site_conflicts(self, client):
        first = await open_sheet(client, VILLAGE)
        r = await client.post(f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_inspector())
        assert r.status_code == 409
        assert r.json()["sheet_id"] == first["id"]

    async def test_same_site_opened_twice_at_once_gives_one_sheet(self, client):
        def post():
            return client.post(f"/rounds/{ROUND}/sheets", json={"site_code": VILLAGE}, headers=as_inspector())

        results = await asyncio.gather(post(), post())
        assert sorted(r.status_code for r in results) == [201, 409]
        assert (await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())).json()["total"] == 1


class TestUpdateSheet:
    async def test_scores_give_item_points_and_results(self, client):
        sheet = await open_sheet(client, VILLAGE)
        overrides = {
            "C01": {"deductions": [{"points": 2, "reason": "换届资料不全"}]},
            "C02": {"grade": "较好"},
        }
        r = await patch(
            client, sheet, {"items": full_items("village", overrides=overrides), "poll": FULL_POLL}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        items = {i["item_code"]: i for i in body["items"]}
        assert items["C01"]["points"] == 6 and items["C02"]["points"] == 5.6 and items["D08"]["points"] == 20
        # C = 100 - 2 - 1.4 = 96.6; score = 0.7 × 96.6 + 0.3 × 100 = 97.62
        assert body["results"]["score"] == 97.62 and body["results"]["grade"] == "好"
        assert body["version"] == 2 and r.headers["etag"] == body["etag"] != sheet["etag"]

    async def test_evidence_is_stamped_with_who_and_when(self, client, clock):
        sheet = await open_sheet(client, VILLAGE)
        item = {"item_code": "C09", "grade": "好", "methods": ["看"], "evidence": [{"file_id": PHOTO_ID}]}
        body = (await patch(client, sheet, {"items": [item]})).json()
        [ev] = next(i for i in body["items"] if i["item_code"] == "C09")["evidence"]
        assert (
            ev["added_by"] == INSPECTOR and ev["added_at"] == utc_z(clock.now()) and ev["sha256"] == "a" * 64
        )

    @pytest.mark.parametrize(
        ("item", "loc"),
        [
            (
                {"item_code": "C08", "deductions": [{"points": 7, "reason": "x"}]},
                ["body", "items", 0, "deductions", 0, "points"],
            ),
            (
                {"item_code": "C08", "deductions": [{"points": -1, "reason": "x"}]},
                ["body", "items", 0, "deductions", 0, "points"],
            ),
            ({"item_code": "A01", "deductions": []}, ["body", "items", 0, "item_code"]),
            ({"item_code": "Z99", "deductions": []}, ["body", "items", 0, "item_code"]),
            ({"item_code": "C02", "grade": "优秀"}, ["body", "items", 0, "grade"]),
            ({"item_code": "C10", "met": True, "methods": ["听"]}, ["body", "items", 0, "methods", 0]),
            ({"item_code": "D08", "rate": 0.5}, ["body", "items", 0, "rate"]),
        ],
    )
    async def test_bad_scores_name_the_field_and_write_nothing(self, client, item, loc):
        sheet = await open_sheet(client, VILLAGE)
        ok = {"item_code": "C04", "deductions": []}
        r = await patch(client, sheet, {"items": [item, ok]})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == loc
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert after["version"] == 1 and all(i["points"] is None for i in after["items"])

    async def test_negative_poll_count_is_refused(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(
            client,
            sheet,
            {"poll": {"resident": {"satisfied": -1, "basically_satisfied": 0, "dissatisfied": 0}}},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "poll", "resident", "satisfied"]

    async def test_unknown_poll_group_is_refused(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(
            client, sheet, {"poll": {"cadre": {"satisfied": 1, "basically_satisfied": 0, "dissatisfied": 0}}}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "poll", "cadre"]

    async def test_stale_etag_is_412_and_missing_if_match_428(self, client):
        sheet = await open_sheet(client, VILLAGE)
        assert (await patch(client, sheet, {"notes": "first"})).status_code == 200
        r = await patch(client, sheet, {"notes": "second"})  # still holds version 1's ETag
        assert r.status_code == 412 and r.json()["type"] == "/problems/stale-etag"
        r = await client.patch(f"/sheets/{sheet['id']}", json={"notes": "x"}, headers=as_inspector())
        assert r.status_code == 428 and r.json()["current_etag"] == f'"{sheet["id"]}.2"'
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert after["notes"] == "first"

    async def test_two_writers_with_one_etag_only_one_wins(self, client):
        sheet = await open_sheet(client, VILLAGE)
        results = await asyncio.gather(
            patch(client, sheet, {"notes": "甲"}), patch(client, sheet, {"notes": "乙"})
        )
        assert sorted(r.status_code for r in results) == [200, 412]
        history = (await client.get(f"/sheets/{sheet['id']}/history", headers=as_inspector())).json()["items"]
        assert [h["action"] for h in history] == ["created", "updated"]

    async def test_user_outside_team_cannot_write_nor_learn_the_sheet_exists(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, {"notes": "x"}, headers=as_inspector(OUTSIDER))
        assert r.status_code == 404 and r.json()["type"] == "/problems/sheet-not-found"
        assert (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()["notes"] == ""


class TestLifecycle:
    async def test_draft_to_locked_with_history(self, client):
        sheet = await filled_sheet(client, VILLAGE)
        locked = await to_status(client, sheet, "locked")
        assert (
            locked["status"] == "locked"
            and locked["locked_by"] == "u-admin"
            and locked["reviewed_by"] == LEADER
        )
        history = (await client.get(f"/sheets/{sheet['id']}/history", headers=as_admin())).json()["items"]
        assert [h["action"] for h in history] == ["created", "updated", "submitted", "reviewed", "locked"]
        assert [h["version"] for h in history] == [1, 2, 3, 4, 5]
        assert history[1]["actor"] == INSPECTOR and "C01" in history[1]["changes"]["items"]

    async def test_locked_sheet_carries_sha256_of_its_canonical_content(self, client):
        locked = await to_status(client, await filled_sheet(client, VILLAGE), "locked")
        content = await client.get(f"/sheets/{locked['id']}/content", headers=as_admin())
        assert hashlib.sha256(content.content).hexdigest() == locked["content_sha256"]

    async def test_locked_sheet_is_immutable(self, client):
        locked = await to_status(client, await filled_sheet(client, VILLAGE), "locked")
        r = await patch(client, locked, {"notes": "late change"})
        assert r.status_code == 409 and r.json()["type"] == "/problems/sheet-locked"
        r = await act(client, locked, "return", as_admin(), {"reason": "x"})
        assert r.status_code == 409
        after = (await client.get(f"/sheets/{locked['id']}", headers=as_admin())).json()
        assert after["version"] == locked["version"] and after["notes"] == ""

    async def test_last_changes_and_submit_in_one_request(self, client):
        sheet = await open_sheet(client, VILLAGE)
        body = {"items": full_items("village"), "poll": FULL_POLL}
        r = await client.post(
            f"/sheets/{sheet['id']}/submit", json=body, headers={**as_inspector(), "If-Match": sheet["etag"]}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["results"]["score"], r.json()["version"]) == (
            "submitted",
            100.0,
            3,
        )

    async def test_submit_with_bad_changes_saves_and_submits_nothing(self, client):
        sheet = await open_sheet(client, VILLAGE)
        items = full_items("village", overrides={"C02": {"grade": "优秀"}})
        r = await client.post(
            f"/sheets/{sheet['id']}/submit",
            json={"items": items, "poll": FULL_POLL},
            headers={**as_inspector(), "If-Match": sheet["etag"]},
        )
        assert r.status_code == 422
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert (after["status"], after["version"]) == ("draft", 1)

    async def test_incomplete_sheet_cannot_be_submitted(self, client):
        sheet = await open_sheet(client, VILLAGE)
        sheet = (await patch(client, sheet, {"items": full_items("village")[:5]})).json()
        r = await act(client, sheet, "submit", as_inspector())
        assert r.status_code == 422 and r.json()["type"] == "/problems/sheet-incomplete"
        assert ["items", "D08"] in [e["loc"] for e in r.json()["errors"]]

    async def test_leader_returns_with_reason_and_team_resubmits(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, submitted, "return", as_leader(), {"reason": "C03 扣分依据不足"})
        assert r.status_code == 200
        returned = r.json()
        assert returned["status"] == "returned" and returned["return_reason"] == "C03 扣分依据不足"
        fixed = (await patch(client, returned, {"notes": "补充了会议记录"})).json()
        resubmitted = (await act(client, fixed, "submit", as_inspector())).json()
        assert resubmitted["status"] == "submitted" and resubmitted["return_reason"] is None

    async def test_return_needs_a_reason(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, submitted, "return", as_leader(), {"reason": ""})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "reason"]

    async def test_only_the_team_leader_reviews(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        other_leader = principal_headers(roles=["team_leader"], scope="ningbo", sub="u-other-leader")
        # another team's leader does not see the sheet at all; a member of the team sees it but may not review
        assert (await act(client, submitted, "review", other_leader)).status_code == 404
        r = await act(client, submitted, "review", as_inspector())
        assert r.status_code == 403

    async def test_city_admin_outside_scope_cannot_lock(self, client):
        reviewed = await to_status(client, await filled_sheet(client, VILLAGE), "reviewed")
        other = principal_headers(roles=["city_admin"], scope="ningbo/haishu", sub="u-haishu-admin")
        r = await act(client, reviewed, "lock", other)
        assert r.status_code == 404 and r.json()["type"] == "/problems/sheet-not-found"
        assert (await client.get(f"/sheets/{reviewed['id']}", headers=as_admin())).json()[
            "status"
        ] == "reviewed"

    async def test_lock_needs_review_first(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, submitted, "lock", as_admin())
        assert r.status_code == 409 and r.json()["type"] == "/problems/invalid-transition"
        assert (r.json()["sheet_status"], r.json()["allowed"]) == ("submitted", ["reviewed"])

    async def test_submit_rechecks_sampling(self, client, sampling):
        sheet = await filled_sheet(client, VILLAGE)
        sampling.down = True
        r = await act(client, sheet, "submit", as_inspector())
        assert r.status_code == 503
        assert (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()[
            "status"
        ] == "draft"

    async def test_events_for_submit_return_and_lock(self, client, clock):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        clock.advance(minutes=1)
        returned = (await act(client, submitted, "return", as_leader(), {"reason": "补材料"})).json()
        clock.advance(minutes=1)
        resubmitted = await to_status(client, returned, "submitted")
        clock.advance(minutes=1)
        await to_status(client, resubmitted, "locked")
        types = [(r["event_type"], r["target"]) for r in await outbox_rows(client)]
        assert types == [
            ("scoring.sheet.submitted", "notify"),
            ("scoring.sheet.returned", "notify"),
            ("scoring.sheet.submitted", "notify"),
            ("scoring.sheet.locked", "notify"),
        ]
        rows = await outbox_rows(client)
        assert rows[0]["payload"]["recipients"] == [{"kind": "person", "user_id": LEADER}]
        assert {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"} in rows[3]["payload"][
            "recipients"
        ]


class TestReadAccess:
    async def test_district_admin_reads_own_district_only(self, client):
        sheet = await open_sheet(client, VILLAGE)
        assert (
            await client.get(f"/sheets/{sheet['id']}", headers=as_district_admin("yinzhou"))
        ).status_code == 200
        assert (
            await client.get(f"/sheets/{sheet['id']}", headers=as_district_admin("haishu"))
        ).status_code == 404

    async def test_inspector_lists_only_team_sheets(self, client):
        await open_sheet(client, VILLAGE)
        mine = await client.get(f"/rounds/{ROUND}/sheets", headers=as_inspector())
        assert mine.json()["total"] == 1
        other = await client.get(f"/rounds/{ROUND}/sheets", headers=as_inspector(OUTSIDER))
        assert other.json()["total"] == 0

    async def test_missing_sheet_is_404(self, client):
        r = await client.get("/sheets/nope", headers=as_admin())
        assert r.status_code == 404 and r.json()["type"] == "/problems/sheet-not-found"


FINDING = {
    "category": "组织生活",
    "severity": "serious",
    "level": "village_community",
    "concerns": "勤勇村党支部",
}


class TestFindings:
    async def test_findings_bind_at_lock_once_each_after_return_and_resubmit_without_ids(self, client, clock):
        c03 = {
            "item_code": "C03",
            "deductions": [
                {"points": 2, "reason": "三会一课记录缺失", "finding": FINDING},
                {"points": 0.5, "reason": "签到不全"},
            ],
        }
        sheet = await filled_sheet(client, VILLAGE, overrides={"C03": c03})
        submitted = (await act(client, sheet, "submit", as_inspector())).json()
        assert submitted["status"] == "submitted"
        returned = (await act(client, submitted, "return", as_leader(), {"reason": "补一条问题"})).json()
        # The team re-sends the same deductions without their ids (a client that does not keep them),
        # and adds one: the sheet now holds two findings, with new deduction ids.
        new = {
            "points": 1,
            "reason": "党员积分未公示",
            "finding": {**FINDING, "severity": "general", "level": "individual", "concerns": "张某"},
        }
        clock.advance(minutes=5)
        resent = {"item_code": "C03", "deductions": [*c03["deductions"], new]}
        resubmitted = (await act(client, returned, "submit", as_inspector(), {"items": [resent]})).json()
        assert resubmitted["status"] == "submitted"
        reviewed = await to_status(client, resubmitted, "reviewed")
        # nothing reached rectification before the lock
        assert [r for r in await outbox_rows(client) if r["target"] == "rectification"] == []
        locked = await to_status(client, reviewed, "locked")
        findings = [r for r in await outbox_rows(client) if r["target"] == "rectification"]
        final = next(i for i in locked["items"] if i["item_code"] == "C03")
        with_finding = [d["id"] for d in final["deductions"] if d["finding"]]
        assert len(findings) == len(with_finding) == 2
        assert sorted(r["payload"]["finding_id"] for r in findings) == sorted(with_finding)
        first, second = sorted(findings, key=lambda r: r["payload"]["deduction_points"], reverse=True)
        assert first["path"] == "/findings" and first["event_type"] == "scoring.finding.created"
        data = first["payload"]
        assert (
            data["sheet_id"] == sheet["id"]
            and data["item_code"] == "C03"
            and data["item_title"] == "“三会一课”固定化常态化"
        )
        assert data["site"]["code"] == VILLAGE and data["site"]["district"] == "yinzhou"
        assert (
            data["deduction_points"],
            data["severity"],
            data["level"],
            data["issued_by"],
            data["team_id"],
        ) == (2, "serious", "village_community", LEADER, "T1")
        assert second["payload"]["concerns"] == "张某"
        assert set(data) == {
            "round_code",
            "sheet_id",
            "finding_id",
            "item_code",
            "item_title",
            "site",
            "deduction_points",
            "reason",
            "category",
            "severity",
            "level",
            "concerns",
            "issued_by",
            "team_id",
        }

    async def test_a_finding_removed_before_lock_never_reaches_rectification(self, client):
        overrides = {"C01": {"deductions": [{"points": 1, "reason": "未按期换届", "finding": FINDING}]}}
        submitted = await to_status(
            client, await filled_sheet(client, VILLAGE, overrides=overrides), "submitted"
        )
        returned = (await act(client, submitted, "return", as_leader(), {"reason": "该扣分不成立"})).json()
        fixed = (await patch(client, returned, {"items": [{"item_code": "C01", "deductions": []}]})).json()
        await to_status(client, fixed, "locked")
        assert [r for r in await outbox_rows(client) if r["target"] == "rectification"] == []

    async def test_a_finding_handed_over_at_submit_before_this_rule_is_not_sent_again_at_lock(
        self, client, clock
    ):
        from services.scoring.events import finding_event_id
        from services.scoring.models import SheetFinding

        overrides = {"C01": {"deductions": [{"points": 1, "reason": "未按期换届", "finding": FINDING}]}}
        reviewed = await to_status(
            client, await filled_sheet(client, VILLAGE, overrides=overrides), "reviewed"
        )
        [deduction] = next(i for i in reviewed["items"] if i["item_code"] == "C01")["deductions"]
        # what a submit used to record when it sent the finding (sheets submitted before findings bound at lock)
        async with client.app.state.engine.begin() as conn:
            await conn.execute(
                SheetFinding.__table__.insert().values(
                    sheet_id=reviewed["id"],
                    finding_id=deduction["id"],
                    item_code="C01",
                    event_id=finding_event_id(reviewed["id"], deduction["id"]),
                    enqueued_at=clock.now(),
                )
            )
        await to_status(client, reviewed, "locked")
        assert [r for r in await outbox_rows(client) if r["target"] == "rectification"] == []

    async def test_finding_event_id_is_deterministic(self, client):
        from services.scoring.events import finding_event_id

        overrides = {"C01": {"deductions": [{"points": 1, "reason": "未按期换届", "finding": FINDING}]}}
        sheet = await filled_sheet(client, VILLAGE, overrides=overrides)
        await to_status(client, sheet, "locked")
        [row] = [r for r in await outbox_rows(client) if r["target"] == "rectification"]
        deduction_id = row["payload"]["finding_id"]
        assert row["id"] == finding_event_id(sheet["id"], deduction_id)

    async def test_invalid_finding_severity_names_the_field(self, client):
        sheet = await open_sheet(client, VILLAGE)
        bad = {
            "item_code": "C01",
            "deductions": [{"points": 1, "reason": "x", "finding": {**FINDING, "severity": "一般"}}],
        }
        r = await patch(client, sheet, {"items": [bad]})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "items", 0, "deductions", 0, "finding", "severity"]


class TestVeto:
    async def test_falsified_records_cap_district_grade(self, client):
        overrides = {"A10": {"deductions": [], "veto_triggered": True}}
        sheet = await filled_sheet(client, "330212", overrides=overrides)
        assert sheet["results"]["score"] == 100
        assert (
            sheet["results"]["grade"],
            sheet["results"]["grade_before_veto"],
            sheet["results"]["veto_items"],
        ) == ("差", "好", ["A10"])
