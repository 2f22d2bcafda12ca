"""Scope of published results: each caller reads only the districts and sites its scope covers (with
their city-wide ranks); the canonical bytes are for city-wide callers; the team never reads results."""

import hashlib

import pytest

from tests.scoring.conftest import ROUND, as_admin, as_inspector, as_leader
from tests.scoring.scope import CALLER_IDS, CALLERS

URL = f"/rounds/{ROUND}/results/published"


@pytest.fixture(scope="module")
async def published(scope_world, module_client) -> dict:
    """The scope world (4 of the 8 drawn sites locked) published once, with an override."""
    r = await module_client.post(
        f"/rounds/{ROUND}/results/publish", json={"override_reason": "范围测试先行发布"}, headers=as_admin()
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def client(published, module_client):
    return module_client


class TestPublishedInScope:
    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    @pytest.mark.parametrize("path", ["", "/versions/1"])
    async def test_rows_of_the_scope_only(self, client, published, who, make, districts, path):
        r = await client.get(URL + path, headers=make())
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["version"], body["content_sha256"]) == (1, published["content_sha256"])
        content = body["content"]
        assert {d["district"] for d in content["districts"]} == districts
        assert {s["site"]["district"] for s in content["sites"]} == districts
        assert {d["district"] for d in content["coverage"]["districts"]} == districts
        assert body["scoped"] is (districts != {"yinzhou", "haishu"})

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_canonical_bytes_only_for_a_city_wide_scope(self, client, published, who, make, districts):
        r = await client.get(f"{URL}/versions/1/content", headers=make())
        if districts == {"yinzhou", "haishu"}:
            assert r.status_code == 200
            assert hashlib.sha256(r.content).hexdigest() == published["content_sha256"]
        else:
            assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_every_reader_lists_the_versions(self, client, who, make, districts):
        r = await client.get(f"{URL}/versions", headers=make())
        assert r.status_code == 200 and [v["version"] for v in r.json()["items"]] == [1]

    @pytest.mark.parametrize("path", ["", "/versions", "/versions/1", "/versions/1/content"])
    async def test_the_team_reads_no_results(self, client, path):
        for headers in (as_inspector(), as_leader()):
            assert (await client.get(URL + path, headers=headers)).status_code == 403
