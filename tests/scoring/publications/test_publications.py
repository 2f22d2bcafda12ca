"""Published results: refused while incomplete unless overridden, immutable hashed versions that read
back byte for byte, idempotent re-publication, the live view marked provisional, the event's new fields."""

import hashlib
import json

from services.kit.testing import principal_headers
from tests.scoring.conftest import (
    ROUND,
    as_admin,
    as_district_admin,
    as_inspector,
    filled_sheet,
    outbox_rows,
    to_status,
)

# Yinzhou: its own sheet and a village; Haishu: its own sheet.
YINZHOU, VILLAGE, HAISHU = "330212", "330212001201", "330203"
REASON = "年度考核时间节点已到，经部务会研究同意先行发布"


def publish_url(round_code: str = ROUND) -> str:
    return f"/rounds/{round_code}/results/publish"


def as_leader_of_city() -> dict[str, str]:
    return principal_headers(roles=["leader"], scope="ningbo", sub="u-city-leader", ttl=3600)


async def drawn_only(sampling, *codes: str) -> None:
    sampling.drawn.clear()
    for code in codes:
        sampling.draw(code)


async def lock(client, code: str, **kwargs) -> dict:
    return await to_status(client, await filled_sheet(client, code, **kwargs), "locked")


async def published_events(client) -> list[dict]:
    return [e["payload"] for e in await outbox_rows(client) if e["event_type"] == "scoring.results.published"]


async def versions_count(client) -> int:
    return (await client.get(f"/rounds/{ROUND}/results/published/versions", headers=as_admin())).json()[
        "total"
    ]


class TestRefusedWhileIncomplete:
    async def test_409_with_the_counts_and_nothing_written(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE, HAISHU)
        await lock(client, YINZHOU)
        await to_status(client, await filled_sheet(client, VILLAGE), "reviewed")
        r = await client.post(publish_url(), headers=as_admin())
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["type"] == "/problems/results-incomplete"
        assert (body["expected"], body["locked"], body["missing"]) == (3, 1, 2)
        assert body["districts"] == [
            {"district": "haishu", "expected": 1, "locked": 0, "missing": 1},
            {"district": "yinzhou", "expected": 2, "locked": 1, "missing": 1},
        ]
        assert "1 of 3" in body["detail"] and "override_reason" in body["detail"]
        assert await versions_count(client) == 0 and await published_events(client) == []
        missing = await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())
        assert missing.status_code == 404 and missing.json()["type"] == "/problems/results-not-published"

    async def test_nothing_locked_is_409_even_with_an_override(self, client, sampling):
        await drawn_only(sampling, VILLAGE)
        await to_status(client, await filled_sheet(client, VILLAGE), "reviewed")
        r = await client.post(publish_url(), json={"override_reason": REASON}, headers=as_admin())
        assert r.status_code == 409 and r.json()["type"] == "/problems/nothing-to-publish"

    async def test_sampling_unreachable_is_503_and_nothing_written(self, client, sampling):
        await drawn_only(sampling, VILLAGE)
        await lock(client, VILLAGE)
        sampling.down = True
        r = await client.post(publish_url(), headers=as_admin())
        assert r.status_code == 503 and r.json()["type"] == "/problems/sampling-unavailable"
        sampling.down = False
        assert await versions_count(client) == 0 and await published_events(client) == []

    async def test_bad_bodies_are_422_naming_the_field(self, client, sampling):
        await drawn_only(sampling, VILLAGE)
        await lock(client, VILLAGE)
        for body, loc in (
            ({"override": REASON}, ["body", "override"]),
            ({"override_reason": ""}, ["body", "override_reason"]),
            ({"override_reason": "x" * 2001}, ["body", "override_reason"]),
        ):
            r = await client.post(publish_url(), json=body, headers=as_admin())
            assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, r.text
        assert await versions_count(client) == 0

    async def test_only_a_city_wide_city_admin_publishes(self, client, sampling):
        await drawn_only(sampling, VILLAGE)
        await lock(client, VILLAGE)
        for headers in (
            as_district_admin("yinzhou"),
            as_leader_of_city(),
            as_inspector(),
            principal_headers(roles=["city_admin"], scope="ningbo/yinzhou", ttl=3600),
        ):
            r = await client.post(publish_url(), json={"override_reason": REASON}, headers=headers)
            assert r.status_code == 403
        assert await versions_count(client) == 0


class TestOverride:
    async def test_an_override_publishes_an_incomplete_round_and_records_why(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE, HAISHU)
        await lock(client, YINZHOU)
        await lock(client, VILLAGE)
        r = await client.post(publish_url(), json={"override_reason": REASON}, headers=as_admin())
        assert r.status_code == 201, r.text
        v = r.json()
        assert (
            v["version"],
            v["complete"],
            v["override_reason"],
            v["expected_sheets"],
            v["locked_sheets"],
        ) == (
            1,
            False,
            REASON,
            3,
            2,
        )
        assert v["published_by"] == "u-admin"
        latest = (await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())).json()
        assert latest["override_reason"] == REASON and latest["content"]["coverage"]["complete"] is False
        assert latest["content"]["coverage"]["missing"] == 1
        # every district sampling assigned a site in appears: Haishu (its sheet not even opened) last, unranked
        rows = [(d["district"], d["rank"], d["complete"]) for d in latest["content"]["districts"]]
        assert rows == [("yinzhou", 1, True), ("haishu", None, False)]
        haishu = latest["content"]["districts"][1]
        assert [m["code"] for m in haishu["missing"]] == ["no_counted_sheet"]

    async def test_a_complete_round_records_no_override(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE)
        await lock(client, YINZHOU)
        await lock(client, VILLAGE)
        r = await client.post(publish_url(), json={"override_reason": REASON}, headers=as_admin())
        assert r.status_code == 201
        assert (r.json()["complete"], r.json()["override_reason"]) == (True, None)


class TestVersions:
    async def test_published_content_reads_back_byte_for_byte_and_hashes(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE)
        yinzhou = await lock(
            client, YINZHOU, overrides={"A01": {"deductions": [{"points": 8, "reason": "述职流于形式"}]}}
        )
        village = await lock(client, VILLAGE)
        published = await client.post(publish_url(), headers=as_admin())
        assert published.status_code == 201
        sha = published.json()["content_sha256"]
        raw = await client.get(f"/rounds/{ROUND}/results/published/versions/1/content", headers=as_admin())
        assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
        assert hashlib.sha256(raw.content).hexdigest() == sha
        latest = (await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())).json()
        assert latest["content"] == json.loads(raw.content) and latest["scoped"] is False
        assert (latest["version"], latest["content_sha256"], latest["complete"]) == (1, sha, True)
        content = latest["content"]
        assert content["rubric"]["version"] == "2026.1" and content["coverage"]["expected"] == 2
        [row] = content["districts"]
        # 40 % × 92 + 60 % × 100 = 96.80
        assert (row["district"], row["rank"], row["composite"], row["own_score"]) == (
            "yinzhou",
            1,
            96.8,
            92.0,
        )
        hashes = {s["site"]["code"]: s["content_sha256"] for s in content["sites"]}
        assert hashes == {YINZHOU: yinzhou["content_sha256"], VILLAGE: village["content_sha256"]}

    async def test_republishing_identical_content_makes_no_new_version(self, client, sampling, clock):
        await drawn_only(sampling, VILLAGE)
        await lock(client, VILLAGE)
        first = await client.post(publish_url(), headers=as_admin())
        events = await published_events(client)
        clock.advance(hours=1)
        again = await client.post(publish_url(), headers=as_admin())
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert await versions_count(client) == 1 and await published_events(client) == events

    async def test_a_new_lock_makes_version_2_and_version_1_stays_as_published(self, client, sampling, clock):
        await drawn_only(sampling, YINZHOU, VILLAGE)
        await lock(client, YINZHOU)
        await to_status(client, await filled_sheet(client, VILLAGE, grade="较好"), "reviewed")
        v1 = (await client.post(publish_url(), json={"override_reason": REASON}, headers=as_admin())).json()
        before = (await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())).json()
        live = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()
        assert (live["provisional"], live["published_version"], live["published_sha256"]) == (
            True,
            1,
            v1["content_sha256"],
        )
        # the village is locked after publication: the live numbers move, the published ones do not
        clock.advance(days=1)
        sheets = (await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())).json()["items"]
        reviewed = next(s for s in sheets if s["site"]["code"] == VILLAGE)
        reviewed = (await client.get(f"/sheets/{reviewed['id']}", headers=as_admin())).json()
        await to_status(client, reviewed, "locked")
        live = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()
        assert live["items"][0]["composite"] != before["content"]["districts"][0]["composite"]
        assert live["published_version"] == 1
        assert (await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())).json() == before
        v2 = await client.post(publish_url(), headers=as_admin())
        assert v2.status_code == 201
        assert (v2.json()["version"], v2.json()["complete"], v2.json()["override_reason"]) == (2, True, None)
        assert v2.json()["content_sha256"] != v1["content_sha256"]
        listed = (await client.get(f"/rounds/{ROUND}/results/published/versions", headers=as_admin())).json()
        assert [(v["version"], v["complete"]) for v in listed["items"]] == [(1, False), (2, True)]
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 50, 0)
        assert "content" not in listed["items"][0]
        one = (await client.get(f"/rounds/{ROUND}/results/published/versions/1", headers=as_admin())).json()
        assert one == before
        latest = (await client.get(f"/rounds/{ROUND}/results/published", headers=as_admin())).json()
        assert latest["version"] == 2 and latest["published_at"] != before["published_at"]
        live = (
            await client.get(f"/rounds/{ROUND}/rankings/sites?site_type=village", headers=as_admin())
        ).json()
        assert (live["provisional"], live["published_version"]) == (True, 2)

    async def test_an_unknown_version_is_404(self, client, sampling):
        await drawn_only(sampling, VILLAGE)
        await lock(client, VILLAGE)
        await client.post(publish_url(), headers=as_admin())
        for path in ("versions/2", "versions/2/content"):
            r = await client.get(f"/rounds/{ROUND}/results/published/{path}", headers=as_admin())
            assert r.status_code == 404 and r.json()["type"] == "/problems/results-not-published"
        r = await client.get(f"/rounds/{ROUND}/results/published/versions/0", headers=as_admin())
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["path", "version"]
        empty = (await client.get("/rounds/2030Q1/results/published/versions", headers=as_admin())).json()
        assert (empty["items"], empty["total"]) == ([], 0)


class TestEvent:
    async def test_both_audiences_carry_version_hash_completeness_and_override(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE, HAISHU)
        await lock(client, YINZHOU)
        await lock(client, HAISHU)
        v = (await client.post(publish_url(), json={"override_reason": REASON}, headers=as_admin())).json()
        events = await published_events(client)
        assert sorted(e["org_unit"] for e in events) == ["ningbo", "ningbo/haishu", "ningbo/yinzhou"]
        for e in events:
            assert (e["version"], e["content_sha256"], e["complete"], e["override_reason"]) == (
                1,
                v["content_sha256"],
                False,
                REASON,
            )
        yinzhou = next(e for e in events if e["district"] == "yinzhou")
        # the district's own completeness (its grassroots village is not locked) is apart
        assert yinzhou["district_complete"] is False and [d["district"] for d in yinzhou["districts"]] == [
            "yinzhou"
        ]


class TestReadScope:
    async def test_district_admin_reads_its_own_rows_leaders_and_city_admins_all(self, client, sampling):
        await drawn_only(sampling, YINZHOU, VILLAGE, HAISHU)
        for code in (YINZHOU, VILLAGE, HAISHU):
            await lock(client, code)
        v = (await client.post(publish_url(), headers=as_admin())).json()
        url = f"/rounds/{ROUND}/results/published"
        for headers in (as_admin(), as_leader_of_city()):
            whole = (await client.get(url, headers=headers)).json()
            assert whole["scoped"] is False
            assert {d["district"] for d in whole["content"]["districts"]} == {"yinzhou", "haishu"}
            r = await client.get(f"{url}/versions/1/content", headers=headers)
            assert hashlib.sha256(r.content).hexdigest() == v["content_sha256"]
        own = (await client.get(url, headers=as_district_admin("yinzhou"))).json()
        assert own["scoped"] is True and own["content_sha256"] == v["content_sha256"]
        assert [(d["district"], d["rank"]) for d in own["content"]["districts"]] == [
            (d["district"], d["rank"]) for d in whole["content"]["districts"] if d["district"] == "yinzhou"
        ]
        assert {s["site"]["district"] for s in own["content"]["sites"]} == {"yinzhou"}
        assert [d["district"] for d in own["content"]["coverage"]["districts"]] == ["yinzhou"]
        assert "haishu" not in json.dumps(own, ensure_ascii=False)
        versioned = (await client.get(f"{url}/versions/1", headers=as_district_admin("yinzhou"))).json()
        assert versioned == own
        forbidden = await client.get(f"{url}/versions/1/content", headers=as_district_admin("yinzhou"))
        assert forbidden.status_code == 403
        assert (await client.get(url, headers=as_inspector())).status_code == 403
        listed = await client.get(f"{url}/versions", headers=as_district_admin("yinzhou"))
        assert listed.status_code == 200 and listed.json()["total"] == 1
