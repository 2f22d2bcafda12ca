"""专报 routes: the lifecycle, its 409s, ETags, immutability once issued, a failed generation, scope."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from services.kit import events as contracts
from services.reporting.models import SpecialReport, outbox_event
from tests.reporting.conftest import ADMIN, LEADER, Harness
from tests.reporting.reports.conftest import ADMIN2, CITY_KEY, DISTRICT_ADMIN, DISTRICT_KEY, INSPECTOR
from tests.reporting.reports.data import FakeRenderers

PROBLEM = "application/problem+json"
ANY = {"If-Match": "*"}


async def _draft(c: httpx.AsyncClient, code: str = "2026Q1") -> httpx.Response:
    return await c.post(f"/rounds/{code}/special-reports", headers=ADMIN)


async def _approved(c: httpx.AsyncClient) -> dict[str, Any]:
    r = await _draft(c)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})).status_code == 200
    r = await c.post(
        f"/special-reports/{rid}/review", headers={**ADMIN2, **ANY}, json={"decision": "approve"}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _issue(c: httpx.AsyncClient, rid: int, number: str = "甬组督〔2026〕3号") -> httpx.Response:
    return await c.post(
        f"/special-reports/{rid}/issue", headers={**ADMIN, **ANY}, json={"doc_number": number}
    )


async def _outbox(h: Harness) -> list[Any]:
    async with h.app.state.sessionmaker() as s:
        return list((await s.execute(select(outbox_event))).mappings().all())


class TestDraft:
    async def test_draft_from_the_data_with_editable_sections(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        r = await _draft(reporting.client)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "draft" and body["status_label"] == "草稿"
        assert body["title"] == "关于2026年第一季度基层党建专项督查情况的专报"
        assert [s["key"] for s in body["sections"]] == [
            "overview",
            "coverage",
            "results",
            "practices",
            "problems",
            "rectification",
            "next_steps",
        ]
        results = next(s for s in body["sections"] if s["key"] == "results")
        assert "与上一轮（2025年第四季度基层党建专项督查）相比" in "".join(results["paragraphs"])
        assert r.headers["ETag"] == f'"sr{body["id"]}.v1"'
        assert r.headers["Location"] == f"/special-reports/{body['id']}"

    async def test_unknown_round_is_404(self, reporting: Harness, fake: FakeRenderers) -> None:
        r = await _draft(reporting.client, "2030Q9")
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "/problems/round-not-found"

    async def test_round_without_published_results_is_409(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        r = await _draft(reporting.client, "2026Q2")
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "/problems/round-not-published"

    async def test_only_a_city_admin_drafts(self, reporting: Harness, fake: FakeRenderers) -> None:
        for who in (LEADER, DISTRICT_ADMIN, INSPECTOR, CITY_KEY):
            r = await reporting.client.post("/rounds/2026Q1/special-reports", headers=who)
            assert r.status_code == 403, r.text

    async def test_a_city_admin_scoped_to_a_district_may_not_draft(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        from services.kit.testing import SignedHeaders

        narrow = SignedHeaders(roles=["city_admin"], scope="ningbo/yinzhou", sub="u-odd")
        assert (
            await reporting.client.post("/rounds/2026Q1/special-reports", headers=narrow)
        ).status_code == 403


class TestEdit:
    async def test_patch_needs_if_match_and_refuses_a_stale_one(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        sections = [{"key": "overview", "heading": "一、基本情况", "paragraphs": ["改写后的基本情况。"]}]
        r = await c.patch(f"/special-reports/{rid}", headers=ADMIN, json={"sections": sections})
        assert r.status_code == 428 and r.json()["current_etag"] == f'"sr{rid}.v1"'
        r = await c.patch(
            f"/special-reports/{rid}",
            headers={**ADMIN, "If-Match": f'"sr{rid}.v0"'},
            json={"sections": sections},
        )
        assert r.status_code == 412 and r.headers["content-type"] == PROBLEM
        r = await c.patch(
            f"/special-reports/{rid}",
            headers={**ADMIN, "If-Match": f'"sr{rid}.v1"'},
            json={"sections": sections, "title": "关于一季度督查的专报"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["sections"] == sections and r.json()["title"] == "关于一季度督查的专报"
        assert r.headers["ETag"] == f'"sr{rid}.v2"'

    async def test_bad_sections_are_422(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        dup = [
            {"key": "a", "heading": "一、甲", "paragraphs": ["x"]},
            {"key": "a", "heading": "二、乙", "paragraphs": ["y"]},
        ]
        r = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": "*"}, json={"sections": dup}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "sections"]
        nul = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": "*"}, json={"title": "标题\u0000"}
        )
        assert nul.status_code == 422
        empty = [{"key": "a", "heading": "一、甲", "paragraphs": [""]}]
        r = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": "*"}, json={"sections": empty}
        )
        assert r.status_code == 422

    async def test_no_edit_while_in_review(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})
        r = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": "*"}, json={"title": "新标题"}
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/special-report-state"


class TestReview:
    async def test_the_author_may_not_review_their_own_report(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})
        r = await c.post(
            f"/special-reports/{rid}/review", headers={**ADMIN, **ANY}, json={"decision": "approve"}
        )
        assert r.status_code == 403 and r.json()["type"] == "/problems/self-review"

    async def test_returned_with_a_comment_then_edited_and_resubmitted(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        drafted = await _draft(c)
        rid = drafted.json()["id"]
        submitted = await c.post(
            f"/special-reports/{rid}/submit", headers={**ADMIN, "If-Match": drafted.headers["ETag"]}
        )
        assert submitted.status_code == 200 and submitted.headers["ETag"] == f'"sr{rid}.v2"'
        r = await c.post(
            f"/special-reports/{rid}/review", headers={**ADMIN2, **ANY}, json={"decision": "return"}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "comment"]
        r = await c.post(
            f"/special-reports/{rid}/review",
            headers={**ADMIN2, "If-Match": submitted.headers["ETag"]},
            json={"decision": "return", "comment": "补充典型经验"},
        )
        assert r.status_code == 200 and r.json()["status"] == "returned"
        assert r.json()["review_comment"] == "补充典型经验" and r.json()["reviewer_id"] == "u-admin-2"
        r = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": r.headers["ETag"]}, json={"title": "改"}
        )
        assert r.status_code == 200
        assert (await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})).json()[
            "status"
        ] == "in_review"

    async def test_transitions_need_a_current_if_match(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        r = await c.post(f"/special-reports/{rid}/submit", headers=ADMIN)
        assert r.status_code == 428 and r.json()["current_etag"] == f'"sr{rid}.v1"'
        r = await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, "If-Match": f'"sr{rid}.v7"'})
        assert r.status_code == 412
        assert (await c.get(f"/special-reports/{rid}", headers=ADMIN)).json()["status"] == "draft"

    async def test_issuing_before_approval_is_409(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        r = await _issue(c, rid)
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM


class TestIssue:
    async def test_issued_once_with_both_files_and_their_sha256(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        r = await _issue(c, rid)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "issued" and body["doc_number"] == "甬组督〔2026〕3号"
        assert body["issued_on"] == "2026-04-03"
        files = {f["format"]: f for f in body["files"]}
        assert set(files) == {"docx", "pdf"}
        assert fake.calls.count("docx") == 1 and fake.calls.count("pdf") == 1
        docx_doc, pdf_doc = fake.documents  # one document, rendered as DOCX and as PDF
        assert docx_doc == pdf_doc
        doc = docx_doc
        assert doc.title == body["title"] and not doc.draft and doc.issuer_mark == "中共宁波市委组织部"
        for fmt in ("docx", "pdf"):
            d1 = await c.get(f"/special-reports/{rid}/document.{fmt}", headers=ADMIN)
            d2 = await c.get(f"/special-reports/{rid}/document.{fmt}", headers=LEADER)
            assert d1.status_code == d2.status_code == 200
            assert d1.content == d2.content
            sha = hashlib.sha256(d1.content).hexdigest()
            assert sha == files[fmt]["sha256"] and d1.headers["ETag"] == f'"{sha}"'
            assert "甬组督〔2026〕3号" in d1.content.decode()
            again = await c.get(
                f"/special-reports/{rid}/document.{fmt}", headers={**ADMIN, "If-None-Match": f'"{sha}"'}
            )
            assert again.status_code == 304 and again.content == b""
        # Downloads never render again: the stored bytes are served.
        assert fake.calls.count("docx") == 1 and fake.calls.count("pdf") == 1

    async def test_an_issued_report_is_immutable(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        issued = (await _issue(c, rid)).json()
        before = (await c.get(f"/special-reports/{rid}/document.pdf", headers=ADMIN)).content
        r = await c.patch(
            f"/special-reports/{rid}", headers={**ADMIN, "If-Match": "*"}, json={"title": "改标题"}
        )
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
        assert "immutable" in r.json()["detail"]
        r = await _issue(c, rid, "甬组督〔2026〕4号")
        assert r.status_code == 409
        assert (await c.post(f"/special-reports/{rid}/submit", headers={**ADMIN, **ANY})).status_code == 409
        after = await c.get(f"/special-reports/{rid}", headers=ADMIN)
        assert after.json()["files"] == issued["files"] and after.json()["title"] == issued["title"]
        assert (await c.get(f"/special-reports/{rid}/document.pdf", headers=ADMIN)).content == before

    async def test_a_number_is_unique_per_issuer_and_year(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        first = (await _approved(c))["id"]
        assert (await _issue(c, first)).status_code == 200
        second = (await _approved(c))["id"]
        r = await _issue(c, second)
        assert r.status_code == 409 and r.json()["type"] == "/problems/doc-number-taken"
        assert r.json()["report_id"] == first and str(first) in r.json()["detail"]
        assert (await c.get(f"/special-reports/{second}", headers=ADMIN)).json()["status"] == "approved"
        assert (await _issue(c, second, "甬组督〔2026〕4号")).status_code == 200

    async def test_a_malformed_number_is_422_naming_the_field(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        for bad in ("甬组督[2026]3号", "甬组督〔2025〕3号", "浙组督〔2026〕3号", "甬组督〔2026〕0号", "3号"):
            r = await _issue(c, rid, bad)
            assert r.status_code == 422, bad
            assert r.json()["errors"][0]["loc"] == ["body", "doc_number"]
        assert fake.calls == []

    async def test_a_failed_generation_leaves_nothing_half_written(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        fake.fail = True
        r = await _issue(c, rid)
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "/problems/document-generation-failed"
        body = (await c.get(f"/special-reports/{rid}", headers=ADMIN)).json()
        assert body["status"] == "approved" and body["doc_number"] is None and body["files"] == []
        async with reporting.app.state.sessionmaker() as s:
            row = await s.get(SpecialReport, rid)
            assert row is not None and row.docx is None and row.pdf is None and row.docx_sha256 is None
        assert await _outbox(reporting) == []
        fake.fail = False
        r = await _issue(c, rid)  # the number was not consumed
        assert r.status_code == 200, r.text

    async def test_issuing_tells_the_leaders_and_admins_through_the_outbox(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        await _issue(c, rid)
        [row] = await _outbox(reporting)
        assert row["event_type"] == "reporting.special_report.issued"
        assert (row["target"], row["path"]) == ("notify", "/events")
        data = row["payload"]
        contracts.validate("reporting.special_report.issued", data)
        assert data["doc_number"] == "甬组督〔2026〕3号" and data["round_code"] == "2026Q1"
        assert data["round_name"] == "2026年第一季度基层党建专项督查"
        assert data["link"].endswith(f"/special-reports/{rid}/document.pdf")
        assert {(r["role"], r["org_unit"]) for r in data["recipients"]} == {
            ("leader", "ningbo"),
            ("city_admin", "ningbo"),
        }


class TestRead:
    async def test_leaders_and_keys_read_issued_reports_only(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        draft = (await _draft(c)).json()["id"]
        issued = (await _approved(c))["id"]
        await _issue(c, issued)
        for who in (LEADER, CITY_KEY):
            listed = (await c.get("/rounds/2026Q1/special-reports", headers=who)).json()
            assert [i["id"] for i in listed["items"]] == [issued]
            assert (await c.get(f"/special-reports/{draft}", headers=who)).status_code == 404
            assert (await c.get(f"/special-reports/{draft}/document.pdf", headers=who)).status_code == 404
            assert (await c.get(f"/special-reports/{issued}", headers=who)).status_code == 200
        every = (await c.get("/rounds/2026Q1/special-reports", headers=ADMIN)).json()
        assert {i["id"] for i in every["items"]} == {draft, issued} and every["total"] == 2
        only = (await c.get("/rounds/2026Q1/special-reports?status=draft", headers=ADMIN)).json()
        assert [i["id"] for i in only["items"]] == [draft]

    async def test_others_are_refused(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        rid = (await _approved(c))["id"]
        await _issue(c, rid)
        for who in (DISTRICT_ADMIN, INSPECTOR, DISTRICT_KEY):
            assert (await c.get(f"/special-reports/{rid}", headers=who)).status_code == 403
            assert (await c.get("/rounds/2026Q1/special-reports", headers=who)).status_code == 403
            assert (await c.get(f"/special-reports/{rid}/document.docx", headers=who)).status_code == 403
        assert (await c.get(f"/special-reports/{rid}")).status_code == 401

    async def test_a_draft_downloads_rendered_now_and_marked_as_draft(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        c = reporting.client
        rid = (await _draft(c)).json()["id"]
        r = await c.get(f"/special-reports/{rid}/document.docx", headers=ADMIN)
        assert r.status_code == 200 and "ETag" not in r.headers
        assert (
            "草稿" in r.content.decode()
            and fake.documents[-1].draft
            and fake.documents[-1].doc_number is None
        )
        assert "filename*=UTF-8''" in r.headers["content-disposition"]

    async def test_unknown_report_and_round(self, reporting: Harness, fake: FakeRenderers) -> None:
        c = reporting.client
        r = await c.get("/special-reports/999", headers=ADMIN)
        assert r.status_code == 404 and r.json()["type"] == "/problems/special-report-not-found"
        assert (await c.get("/rounds/2030Q9/special-reports", headers=ADMIN)).status_code == 404
        assert (await c.get("/special-reports/abc", headers=ADMIN)).status_code == 422


class TestDelivery:
    async def test_the_relay_delivers_the_event_to_notifys_batch_intake(
        self, reporting: Harness, fake: FakeRenderers
    ) -> None:
        import orjson

        from services.kit import outbox
        from services.reporting.main import relay_config

        c = reporting.client
        rid = (await _approved(c))["id"]
        await _issue(c, rid)
        received: list[httpx.Request] = []

        def notify(request: httpx.Request) -> httpx.Response:
            received.append(request)
            events = orjson.loads(request.content)["events"]
            return httpx.Response(
                200,
                json={
                    "results": [{"id": e["id"], "status": 202, "body": {"accepted": True}} for e in events]
                },
            )

        app = reporting.app
        real = app.state.http
        app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(notify))
        try:
            cfg = relay_config(app.state.settings)
            while await outbox.relay_once(app, cfg):
                pass
        finally:
            await app.state.http.aclose()
            app.state.http = real
        [request] = received
        assert request.url.path == "/events/batch"
        [envelope] = orjson.loads(request.content)["events"]
        assert envelope["type"] == "reporting.special_report.issued" and envelope["source"] == "reporting"
        assert envelope["data"]["doc_number"] == "甬组督〔2026〕3号"
        [row] = await _outbox(reporting)
        assert row["status"] == "sent"
