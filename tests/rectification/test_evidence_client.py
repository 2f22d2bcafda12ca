"""The evidence client: batches of ids, the caller's principal, and every way evidence can fail (503)."""

from __future__ import annotations

import httpx
import pytest

from services.kit.auth import PRINCIPAL_HEADER
from services.kit.testing import principal_headers
from services.rectification.clients import EVIDENCE_BATCH, get_evidence_files
from services.rectification.errors import EvidenceUnavailable
from tests.rectification import fake_evidence
from tests.rectification.fake_evidence import PDF_ID, PHOTO_ID, FakeEvidence

ZHANG = principal_headers(roles=["responsible"], scope="ningbo/yinzhou/dongwu", sub="u-zhang-wei")


async def lookup(handler, ids, headers=ZHANG):
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await get_evidence_files(http, fake_evidence.URL, ids=ids, headers=headers)


class TestGetEvidenceFiles:
    async def test_the_files_the_caller_may_read_come_back_by_id(self):
        fake = FakeEvidence()
        found = await lookup(fake.handler, [PHOTO_ID, "f-none", PDF_ID, PHOTO_ID])
        assert set(found) == {PHOTO_ID, PDF_ID}
        assert found[PDF_ID].media_type == "application/pdf" and found[PHOTO_ID].sha256 == "a" * 64
        [request] = fake.requests
        assert request.url.params["ids"] == f"{PHOTO_ID},f-none,{PDF_ID}"
        assert request.headers[PRINCIPAL_HEADER] == ZHANG[PRINCIPAL_HEADER]

    async def test_many_ids_are_asked_in_batches(self):
        fake = FakeEvidence()
        ids = [f"f-{i}" for i in range(EVIDENCE_BATCH * 2 + 1)]
        assert await lookup(fake.handler, ids) == {}
        assert [len(r.url.params["ids"].split(",")) for r in fake.requests] == [
            EVIDENCE_BATCH,
            EVIDENCE_BATCH,
            1,
        ]

    async def test_a_bare_list_is_understood_too(self):
        fake = FakeEvidence()

        def bare(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[fake.files[PHOTO_ID]])

        assert set(await lookup(bare, [PHOTO_ID])) == {PHOTO_ID}

    async def test_ids_evidence_refuses_as_malformed_name_no_file(self):
        def refuse(request: httpx.Request) -> httpx.Response:
            return httpx.Response(422, json={"type": "/problems/validation-error"})

        assert await lookup(refuse, ["not-a-uuid"]) == {}

    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(500, text="boom"),
            httpx.Response(401, json={"type": "/problems/unauthorized"}),
            httpx.Response(200, text="<html>"),
            httpx.Response(200, json={"items": [{"id": "x"}]}),
            httpx.Response(200, json={"nothing": []}),
        ],
    )
    async def test_an_answer_it_cannot_use_is_a_503(self, answer):
        with pytest.raises(EvidenceUnavailable) as raised:
            await lookup(lambda request: answer, [PHOTO_ID])
        assert raised.value.status == 503 and "证据服务" in (raised.value.detail_zh or "")

    async def test_evidence_unreachable_is_a_503(self):
        fake = FakeEvidence(down=True)
        with pytest.raises(EvidenceUnavailable):
            await lookup(fake.handler, [PHOTO_ID])
