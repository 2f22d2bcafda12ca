"""An item's evidence, named by file id at the evidence service: looked up as the caller, stored with
the item, listed in the sheet's view; unknown or out-of-scope ids refused, evidence down refused."""

from __future__ import annotations

from sqlalchemy import update

from services.kit.auth import PRINCIPAL_HEADER
from services.scoring.models import ItemScore
from tests.scoring.conftest import (
    INSPECTOR,
    OTHER_ID,
    PDF_ID,
    PHOTO_ID,
    as_inspector,
    as_leader,
    open_sheet,
    patch,
)

VILLAGE = "330212001201"


def c09(*evidence: dict) -> dict:
    return {"items": [{"item_code": "C09", "grade": "好", "methods": ["看"], "evidence": list(evidence)}]}


def item(body: dict, code: str = "C09") -> dict:
    return next(i for i in body["items"] if i["item_code"] == code)


class TestAttach:
    async def test_the_sheet_lists_each_file_as_evidence_described_it(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, c09({"file_id": PHOTO_ID, "note": "活动室全景"}, {"file_id": PDF_ID}))
        assert r.status_code == 200, r.text
        photo, pdf = item(r.json())["evidence"]
        assert photo == {
            "file_id": PHOTO_ID,
            "name": "活动室.jpg",
            "media_type": "image/jpeg",
            "kind": "image",
            "sha256": "a" * 64,
            "size": 48213,
            "captured_at": "2026-03-10T01:30:00Z",
            "content_url": f"/api/v1/evidence/files/{PHOTO_ID}/content",
            "thumbnail_url": f"/api/v1/evidence/files/{PHOTO_ID}/thumbnail",
            "note": "活动室全景",
            "added_by": INSPECTOR,
            "added_at": "2026-03-10T02:00:00Z",
        }
        assert (pdf["name"], pdf["media_type"], pdf["thumbnail_url"]) == (
            "会议记录.pdf",
            "application/pdf",
            None,
        )
        # The leader reading the sheet sees the same list, and nobody asked evidence for it.
        read = await client.get(f"/sheets/{sheet['id']}", headers=as_leader())
        assert item(read.json())["evidence"] == [photo, pdf]

    async def test_evidence_is_asked_once_as_the_inspector(self, client, evidence):
        sheet = await open_sheet(client, VILLAGE)
        assert (
            await patch(client, sheet, c09({"file_id": PHOTO_ID}, {"file_id": PDF_ID}))
        ).status_code == 200
        [request] = evidence.requests
        assert request.url.path == "/files" and request.url.params["ids"] == f"{PHOTO_ID},{PDF_ID}"
        assert PRINCIPAL_HEADER in request.headers
        assert (evidence.principals[-1].sub, evidence.principals[-1].scope) == (INSPECTOR, "ningbo/jiangbei")

    async def test_keeping_an_items_evidence_asks_nobody_and_keeps_who_attached_it(
        self, client, evidence, clock
    ):
        sheet = await open_sheet(client, VILLAGE)
        first = (await patch(client, sheet, c09({"file_id": PHOTO_ID}))).json()
        evidence.down = True
        clock.advance(hours=1)
        r = await patch(client, first, c09({"file_id": PHOTO_ID, "note": "补充说明"}))
        assert r.status_code == 200, r.text
        [photo] = item(r.json())["evidence"]
        assert (photo["added_at"], photo["note"]) == ("2026-03-10T02:00:00Z", "补充说明")


class TestRefused:
    async def test_an_unknown_id_is_a_422_naming_the_field_and_nothing_is_saved(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(
            client,
            sheet,
            c09({"file_id": PHOTO_ID}, {"file_id": "f-nowhere"}),
            headers={**as_inspector(), "accept-language": "zh"},
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/invalid-evidence"
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "items", 0, "evidence", 1, "file_id"]]
        assert "证据文件" in r.json()["errors"][0]["msg"]
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert after["version"] == sheet["version"] and item(after)["evidence"] == []

    async def test_a_file_outside_the_inspectors_scope_reads_as_unknown(self, client):
        sheet = await open_sheet(client, VILLAGE)
        theirs = await patch(client, sheet, c09({"file_id": OTHER_ID}))
        unknown = await patch(client, sheet, c09({"file_id": "f-nowhere"}))
        assert theirs.status_code == unknown.status_code == 422
        assert theirs.json()["type"] == unknown.json()["type"] == "/problems/invalid-evidence"
        assert "别处" not in theirs.text and "ningbo/yinzhou" not in theirs.text

    async def test_an_answer_wider_than_the_scope_is_still_refused(self, client, evidence):
        evidence.ignore_scope = True
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, c09({"file_id": OTHER_ID}))
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "items", 0, "evidence", 0, "file_id"]

    async def test_a_hash_typed_by_the_client_is_no_longer_evidence(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, c09({"file_name": "活动室.jpg", "sha256": "a" * 64}))
        assert r.status_code == 422


class TestEvidenceDown:
    async def test_evidence_unreachable_is_a_503_and_nothing_is_saved(self, client, evidence):
        sheet = await open_sheet(client, VILLAGE)
        evidence.down = True
        r = await patch(
            client, sheet, c09({"file_id": PHOTO_ID}), headers={**as_inspector(), "accept-language": "zh"}
        )
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/evidence-unavailable" and "证据服务" in r.json()["detail"]
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert after["version"] == sheet["version"] and item(after)["points"] is None

    async def test_an_error_from_evidence_is_a_503(self, client, evidence):
        sheet = await open_sheet(client, VILLAGE)
        evidence.fail_with = 502
        assert (await patch(client, sheet, c09({"file_id": PHOTO_ID}))).status_code == 503

    async def test_scores_without_evidence_need_no_evidence_service(self, client, evidence):
        sheet = await open_sheet(client, VILLAGE)
        evidence.down = True
        assert (await patch(client, sheet, c09())).status_code == 200


class TestOlderRows:
    async def test_evidence_given_by_hash_before_ids_still_reads(self, client):
        sheet = await open_sheet(client, VILLAGE)
        await patch(client, sheet, c09())
        legacy = {
            "file_name": "旧照片.jpg",
            "sha256": "9" * 64,
            "added_by": "u-old",
            "added_at": "2026-03-01T00:00:00+00:00",
        }
        async with client.app.state.sessionmaker() as s, s.begin():  # type: ignore[attr-defined]
            row = (
                await s.execute(
                    ItemScore.__table__.select().where(  # type: ignore[attr-defined]
                        ItemScore.sheet_id == sheet["id"], ItemScore.item_code == "C09"
                    )
                )
            ).one()
            await s.execute(
                update(ItemScore)
                .where(ItemScore.sheet_id == sheet["id"], ItemScore.item_code == "C09")  # type: ignore[arg-type]
                .values(detail={**row.detail, "evidence": [legacy]})
            )
        read = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        [old] = item(read)["evidence"]
        assert (old["file_id"], old["name"], old["sha256"], old["added_by"]) == (
            None,
            "旧照片.jpg",
            "9" * 64,
            "u-old",
        )
