"""Evidence by id: looked up at the evidence service as the caller, stored with the problem, flagged
for the verifier (核查) by its capture time, and hashed into the record that closes the problem."""

from __future__ import annotations

from sqlalchemy import update

from services.kit import events as contracts
from services.kit.auth import PRINCIPAL_HEADER
from services.rectification.models import problem_table
from tests.rectification.conftest import (
    CITY,
    YINZHOU,
    ZHANG,
    count_problems,
    create,
    events,
    problem_body,
)
from tests.rectification.fake_evidence import HAISHU_ID, PDF_ID, PHOTO_ID, SIGN_IN_ID
from tests.rectification.problems.test_lifecycle import act

TIANTONG_UNIT = "ningbo/yinzhou/dongwu/tiantong"


async def history(client, pid):
    return (await client.get(f"/problems/{pid}/history", headers=CITY)).json()["items"]


async def started(client, **overrides):
    p = await create(client, **overrides)
    assert (await act(client, p["id"], "start", {"plan": "补齐记录"}, ZHANG)).status_code == 200
    return p


class TestAttach:
    async def test_a_submission_stores_each_file_as_evidence_described_it(self, client, evidence):
        p = await started(client)
        r = await act(
            client,
            p["id"],
            "submit",
            {"note": "已整改", "evidence": [{"file_id": PHOTO_ID, "note": "整改后"}, {"file_id": PDF_ID}]},
            ZHANG,
        )
        assert r.status_code == 200, r.text
        photo, pdf = r.json()["evidence"]
        assert photo == {
            "file_id": PHOTO_ID,
            "name": "整改照片.jpg",
            "media_type": "image/jpeg",
            "kind": "image",
            "sha256": "a" * 64,
            "size": 48213,
            "captured_at": None,
            "content_url": f"/api/v1/evidence/files/{PHOTO_ID}/content",
            "thumbnail_url": f"/api/v1/evidence/files/{PHOTO_ID}/thumbnail",
            "note": "整改后",
            "stage": "completion",
            "added_by": "u-zhang-wei",
            "added_at": "2026-01-05T01:00:00Z",
            "merged_from": None,
            "flags": [],
            "flag_labels": [],
        }
        assert (pdf["name"], pdf["media_type"], pdf["sha256"], pdf["thumbnail_url"]) == (
            "会议记录.pdf",
            "application/pdf",
            "c" * 64,
            None,
        )

    async def test_evidence_is_asked_as_the_caller_in_one_batch(self, client, evidence):
        p = await started(client)
        evidence.requests.clear()
        body = {"note": "x", "evidence": [{"file_id": PHOTO_ID}, {"file_id": PDF_ID}]}
        assert (await act(client, p["id"], "submit", body, ZHANG)).status_code == 200
        [request] = evidence.requests
        assert request.url.path == "/files"
        assert request.url.params["ids"] == f"{PHOTO_ID},{PDF_ID}"
        assert PRINCIPAL_HEADER in request.headers
        assert (evidence.principals[-1].sub, evidence.principals[-1].scope) == (
            "u-zhang-wei",
            "ningbo/yinzhou/dongwu",
        )

    async def test_reading_a_problem_asks_evidence_nothing(self, client, evidence):
        p = await started(client)
        await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": PHOTO_ID}]}, ZHANG)
        evidence.requests.clear()
        evidence.down = True
        r = await client.get(f"/problems/{p['id']}", headers=YINZHOU)
        assert r.status_code == 200
        assert r.json()["evidence"][0]["thumbnail_url"] == f"/api/v1/evidence/files/{PHOTO_ID}/thumbnail"
        assert evidence.requests == []

    async def test_a_kind_this_service_does_not_know_reads_as_none(self, client, evidence):
        evidence.add(
            "f-new",
            sha="2" * 64,
            name="录音.m4a",
            org_unit=TIANTONG_UNIT,
            media_type="audio/mp4",
            kind="audio",
        )
        p = await create(client, evidence=[{"file_id": "f-new"}])
        assert (p["evidence"][0]["kind"], p["evidence"][0]["media_type"]) == (None, "audio/mp4")

    async def test_a_problem_entered_with_evidence_keeps_it_at_the_finding_stage(self, client):
        p = await create(client, evidence=[{"file_id": SIGN_IN_ID, "note": "现场签到表"}])
        assert [(e["file_id"], e["stage"], e["note"]) for e in p["evidence"]] == [
            (SIGN_IN_ID, "finding", "现场签到表")
        ]

    async def test_progress_reports_attach_evidence_too(self, client):
        p = await started(client)
        r = await act(
            client, p["id"], "progress", {"note": "已补一半", "evidence": [{"file_id": PDF_ID}]}, ZHANG
        )
        assert r.status_code == 200, r.text
        assert [(e["file_id"], e["stage"]) for e in r.json()["evidence"]] == [(PDF_ID, "progress")]
        [entry] = [h for h in await history(client, p["id"]) if h["action"] == "progress"]
        assert entry["detail"]["evidence"][0]["sha256"] == "c" * 64


class TestRefused:
    async def test_an_unknown_id_is_a_422_naming_the_field_and_nothing_is_written(self, client):
        p = await started(client)
        body = {"note": "x", "evidence": [{"file_id": PHOTO_ID}, {"file_id": "f-nowhere"}]}
        r = await act(client, p["id"], "submit", body, {**ZHANG, "accept-language": "zh"})
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["type"] == "/problems/invalid-evidence"
        assert [e["loc"] for e in problem["errors"]] == [["body", "evidence", 1, "file_id"]]
        assert "证据文件" in problem["errors"][0]["msg"] and "未写入" in problem["detail"]
        after = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert (after["status"], after["evidence"]) == ("in_progress", [])

    async def test_a_file_outside_the_callers_scope_reads_as_unknown(self, client):
        p = await started(client)
        theirs = await act(
            client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": HAISHU_ID}]}, ZHANG
        )
        unknown = await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": "f-x"}]}, ZHANG)
        assert theirs.status_code == unknown.status_code == 422
        assert theirs.json()["type"] == unknown.json()["type"] == "/problems/invalid-evidence"
        assert theirs.json()["errors"][0]["loc"] == ["body", "evidence", 0, "file_id"]
        # Neither the file's unit nor its name leaks.
        assert "ningbo/haishu" not in theirs.text and "月湖" not in theirs.text

    async def test_an_answer_wider_than_the_scope_is_still_refused(self, client, evidence):
        # Evidence filters by scope itself; rectification checks its answer against the caller's scope too.
        evidence.ignore_scope = True
        p = await started(client)
        r = await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": HAISHU_ID}]}, ZHANG)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "evidence", 0, "file_id"]

    async def test_a_problem_naming_an_unknown_file_is_not_created(self, client):
        r = await client.post(
            "/problems", json=problem_body(evidence=[{"file_id": "f-gone"}]), headers=YINZHOU
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "evidence", 0, "file_id"]
        assert await count_problems(client) == 0


class TestEvidenceDown:
    async def test_evidence_unreachable_is_a_503_and_nothing_is_written(self, client, evidence):
        p = await started(client)
        evidence.down = True
        r = await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": PHOTO_ID}]}, ZHANG)
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/evidence-unavailable"
        after = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert (after["status"], after["evidence"], after["submitted_at"]) == ("in_progress", [], None)
        assert await events(client, "rectification.problem.submitted") == []

    async def test_evidence_answering_an_error_is_a_503_in_chinese(self, client, evidence):
        evidence.fail_with = 500
        r = await client.post(
            "/problems",
            json=problem_body(evidence=[{"file_id": PHOTO_ID}]),
            headers={**YINZHOU, "accept-language": "zh"},
        )
        assert r.status_code == 503
        assert "证据服务" in r.json()["detail"]
        assert await count_problems(client) == 0

    async def test_no_evidence_named_asks_nobody(self, client, evidence):
        evidence.down = True
        assert (await client.post("/problems", json=problem_body(), headers=YINZHOU)).status_code == 201


class TestFlags:
    async def test_a_photo_taken_before_the_problem_was_issued_is_flagged(self, client, evidence, clock):
        evidence.add(
            "f-old",
            sha="e" * 64,
            name="旧照片.jpg",
            org_unit=TIANTONG_UNIT,
            captured_at="2026-01-01T02:00:00Z",
        )
        p = await started(client)
        clock.advance(days=2)
        r = await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": "f-old"}]}, ZHANG)
        [photo] = r.json()["evidence"]
        assert photo["captured_at"] == "2026-01-01T02:00:00Z"
        assert photo["flags"] == ["captured_before_issue"]
        assert photo["flag_labels"] == ["拍摄时间早于问题下发"]

    async def test_the_verifier_sees_a_photo_taken_after_submission(self, client, evidence, clock):
        # The camera's clock says a day after the submission: the verifier should look twice.
        evidence.add(
            "f-late",
            sha="f" * 64,
            name="后补.jpg",
            org_unit=TIANTONG_UNIT,
            captured_at="2026-01-08T01:00:00Z",
        )
        evidence.add(
            "f-ok",
            sha="0" * 64,
            name="整改后.jpg",
            org_unit=TIANTONG_UNIT,
            captured_at="2026-01-06T03:00:00Z",
        )
        p = await started(client)
        clock.advance(days=2)  # submitted 2026-01-07 01:00Z
        body = {"note": "x", "evidence": [{"file_id": "f-late"}, {"file_id": "f-ok"}, {"file_id": PDF_ID}]}
        assert (await act(client, p["id"], "submit", body, ZHANG)).status_code == 200
        seen = (await client.get(f"/problems/{p['id']}", headers=YINZHOU)).json()["evidence"]
        assert [(e["file_id"], e["flags"]) for e in seen] == [
            ("f-late", ["captured_after_submission"]),
            ("f-ok", []),
            (PDF_ID, []),
        ]
        assert seen[0]["flag_labels"] == ["拍摄时间晚于整改提交"]

    async def test_the_inspectors_own_photos_are_not_flagged(self, client, evidence):
        # Photos given with the finding are taken before the problem exists, by nature.
        evidence.add(
            "f-site",
            sha="1" * 64,
            name="现场.jpg",
            org_unit=TIANTONG_UNIT,
            captured_at="2026-01-02T02:00:00Z",
        )
        p = await create(client, evidence=[{"file_id": "f-site"}])
        assert p["evidence"][0]["flags"] == []


class TestClosing:
    async def test_the_closing_record_carries_every_evidence_hash(self, client):
        p = await create(client, evidence=[{"file_id": SIGN_IN_ID}])
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, p["id"], "progress", {"note": "x", "evidence": [{"file_id": PDF_ID}]}, ZHANG)
        body = {"note": "x", "evidence": [{"file_id": PHOTO_ID}, {"file_id": PDF_ID}]}
        assert (await act(client, p["id"], "submit", body, ZHANG)).status_code == 200
        r = await act(client, p["id"], "close", {"note": "核查属实"}, YINZHOU)
        assert r.status_code == 200, r.text
        hashes = ["b" * 64, "c" * 64, "a" * 64]
        [closing] = [h for h in await history(client, p["id"]) if h["action"] == "close"]
        assert closing["detail"]["evidence_sha256"] == hashes
        [closed] = await events(client, "rectification.problem.closed")
        assert closed["payload"]["evidence_sha256"] == hashes
        assert contracts.violations("rectification.problem.closed", closed["payload"], 1)[1] == []


class TestOlderRows:
    async def test_evidence_given_by_hash_before_ids_still_reads_and_closes(self, client):
        p = await started(client)
        await act(client, p["id"], "submit", {"note": "x", "evidence": [{"file_id": PHOTO_ID}]}, ZHANG)
        legacy = {
            "file_hash": "9" * 64,
            "name": "旧证据.jpg",
            "url": None,
            "note": "手填",
            "stage": "completion",
        }
        app = client.app
        async with app.state.sessionmaker() as s, s.begin():
            row = (await s.execute(problem_table.select().where(problem_table.c.id == p["id"]))).one()
            await s.execute(
                update(problem_table)
                .where(problem_table.c.id == p["id"])
                .values(evidence=[legacy, *row.evidence])
            )
        seen = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()["evidence"]
        assert (seen[0]["file_id"], seen[0]["sha256"], seen[0]["name"], seen[0]["flags"]) == (
            None,
            "9" * 64,
            "旧证据.jpg",
            [],
        )
        assert (await act(client, p["id"], "close", {}, YINZHOU)).status_code == 200
        [closed] = await events(client, "rectification.problem.closed")
        assert closed["payload"]["evidence_sha256"] == ["9" * 64, "a" * 64]
