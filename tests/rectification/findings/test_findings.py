"""Findings from scoring become problems, idempotently by event id."""

import copy

import orjson

from services.kit.testing import principal_headers
from tests.rectification.conftest import (
    CITY,
    CITY_KEY,
    SYSTEM,
    YINZHOU,
    YINZHOU_KEY,
    count_problems,
    events,
)

FINDING = {
    "id": "7d6c1b2e-0000-4000-8000-000000000001",
    "type": "scoring.finding.created",
    "source": "scoring",
    "occurred_at": "2026-01-05T01:00:00Z",
    "data": {
        "round_code": "2026Q1",
        "sheet_id": 42,
        "finding_id": 7,
        "item_code": "C03",
        "item_title": "“三会一课”固定化常态化",
        "site": {
            "code": "330212001001",
            "name": "天童村",
            "type": "village",
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "district": "yinzhou",
        },
        "deduction_points": 3,
        "reason": "2025年第四季度党课记录缺失",
        "category": "组织生活",
        "severity": "serious",
        "level": "village_community",
        "concerns": "天童村党支部",
        "issued_by": "u-team-leader",
        "team_id": 3,
    },
}


async def post(client, body, key=None, headers=SYSTEM):
    raw = orjson.dumps(body)
    return await client.post(
        "/findings",
        content=raw,
        headers={**headers, "content-type": "application/json", "idempotency-key": key or body["id"]},
    )


class TestReceiveFinding:
    async def test_the_envelope_may_name_its_schema_version_and_only_a_known_one(self, client):
        r = await post(client, {**FINDING, "version": 1})
        assert r.status_code == 201, r.text
        later = {**FINDING, "id": "7d6c1b2e-0000-4000-8000-000000000099", "version": 2}
        r = await post(client, later)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "version", r.text
        assert await count_problems(client) == 1

    async def test_finding_becomes_an_open_problem_with_the_severity_template(self, client):
        r = await post(client, FINDING)
        assert r.status_code == 201, r.text
        pid = r.json()["problem_id"]
        p = (await client.get(f"/problems/{pid}", headers=YINZHOU)).json()
        assert p["status"] == "open"
        assert p["severity_label"] == "较重"
        assert p["round_code"] == "2026Q1"
        assert p["item_code"] == "C03"
        assert p["sheet_id"] == "42"
        assert p["issued_by"] == "u-team-leader"
        assert p["responsible_person"] is None
        assert p["deadline_at"][:10] == "2026-01-20"  # 较重: 15 days
        created = await events(client, "rectification.problem.created")
        assert created[0]["payload"]["recipients"] == [
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"}
        ]

    async def test_redelivery_changes_nothing(self, client):
        first = await post(client, FINDING)
        again = await post(client, FINDING)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replay"] == "true"
        assert await count_problems(client) == 1
        assert len(await events(client, "rectification.problem.created")) == 1

    async def test_same_event_under_another_key_gives_the_same_problem(self, client):
        first = await post(client, FINDING)
        again = await post(client, FINDING, key="another-key")
        assert again.status_code == 200
        assert again.json() == {"problem_id": first.json()["problem_id"], "created": False}
        assert await count_problems(client) == 1

    async def test_the_finding_id_is_kept(self, client):
        pid = (await post(client, FINDING)).json()["problem_id"]
        p = (await client.get(f"/problems/{pid}", headers=CITY)).json()
        assert (p["sheet_id"], p["finding_id"]) == ("42", "7")

    async def test_the_same_finding_under_another_event_id_gives_the_same_problem(self, client):
        # Scoring sends findings at lock; a sheet re-sent (a second delivery, a new event id, a
        # finding whose text changed in review) must never make a second problem for it.
        first = await post(client, FINDING)
        resent = copy.deepcopy(FINDING)
        resent["id"] = "7d6c1b2e-0000-4000-8000-00000000ffff"
        resent["occurred_at"] = "2026-01-06T01:00:00Z"
        resent["data"]["reason"] = "2025年第四季度党课记录缺失（复核后）"
        again = await post(client, resent)
        assert again.status_code == 200, again.text
        assert again.json() == {"problem_id": first.json()["problem_id"], "created": False}
        assert await count_problems(client) == 1
        assert len(await events(client, "rectification.problem.created")) == 1
        # and its own delivery key replays that answer
        replay = await post(client, resent)
        assert replay.headers["idempotent-replay"] == "true" and replay.json() == again.json()

    async def test_each_finding_of_a_sheet_is_its_own_problem(self, client):
        second = copy.deepcopy(FINDING)
        second["id"] = "7d6c1b2e-0000-4000-8000-000000000002"
        second["data"]["finding_id"] = 8
        other_sheet = copy.deepcopy(FINDING)
        other_sheet["id"] = "7d6c1b2e-0000-4000-8000-000000000003"
        other_sheet["data"]["sheet_id"] = 43
        codes = [(await post(client, body)).status_code for body in (FINDING, second, other_sheet)]
        assert codes == [201, 201, 201]
        assert await count_problems(client) == 3

    async def test_a_whole_sheet_delivered_twice_under_new_event_ids_makes_no_duplicate(self, client):
        def sheet(prefix: str) -> list[dict]:
            out = []
            for n in range(4):
                body = copy.deepcopy(FINDING)
                body["id"] = f"{prefix}-{n}"
                body["data"]["finding_id"] = 100 + n
                out.append(body)
            return out

        first = [(await post(client, b)).json()["problem_id"] for b in sheet("lock-1")]
        second = [(await post(client, b)) for b in sheet("lock-2")]
        assert [r.status_code for r in second] == [200] * 4
        assert [r.json()["problem_id"] for r in second] == first
        assert await count_problems(client) == 4

    async def test_key_reused_with_another_body_is_a_conflict(self, client):
        await post(client, FINDING)
        other = copy.deepcopy(FINDING)
        other["data"]["reason"] = "另一个问题"
        r = await post(client, other, key=FINDING["id"])
        assert r.status_code == 409
        assert await count_problems(client) == 1

    async def test_bad_severity_is_named(self, client):
        bad = copy.deepcopy(FINDING)
        bad["data"]["severity"] = "一般"
        r = await post(client, bad)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "data", "severity"]
        assert await count_problems(client) == 0

    async def test_missing_idempotency_key_is_refused(self, client):
        r = await client.post("/findings", json=FINDING, headers=SYSTEM)
        assert r.status_code == 422
        assert await count_problems(client) == 0

    async def test_only_the_services_own_principal_may_send_findings(self, client):
        # A city admin or a city-wide `system` API key is not a service: the route does not exist
        # for them (404), and nothing is written.
        for headers in (
            principal_headers(roles=["inspector"], sub="u-x"),
            CITY,
            CITY_KEY,
            YINZHOU_KEY,
        ):
            r = await post(client, FINDING, headers=headers)
            assert r.status_code == 404, r.text
            assert r.json()["title"] == "Not found"
        assert await count_problems(client) == 0
        assert await events(client) == []


class TestConcurrentDeliveries:
    async def test_twin_deliveries_make_one_problem_and_the_loser_is_told_to_retry(self, client):
        import asyncio

        results = await asyncio.gather(*(post(client, FINDING) for _ in range(4)))
        assert {r.status_code for r in results} <= {201, 503}
        assert any(r.status_code == 201 for r in results)
        assert all(r.headers.get("retry-after") == "1" for r in results if r.status_code == 503)
        assert await count_problems(client) == 1
        retry = await post(client, FINDING)
        assert retry.status_code == 201
        assert retry.json() == next(r.json() for r in results if r.status_code == 201)

    async def test_twin_deliveries_of_one_finding_under_two_event_ids_make_one_problem(self, client):
        import asyncio

        bodies = []
        for n in range(4):
            body = copy.deepcopy(FINDING)
            body["id"] = f"twin-{n}"
            bodies.append(body)
        results = await asyncio.gather(*(post(client, b) for b in bodies))
        assert {r.status_code for r in results} <= {200, 201, 503}
        assert await count_problems(client) == 1
        for b, r in zip(bodies, results, strict=True):
            if r.status_code == 503:
                assert (await post(client, b)).status_code == 200


class TestContractWithScoring:
    def test_the_payload_scoring_builds_is_accepted_field_for_field(self):
        # Unknown body fields are refused (InputModel): every key scoring sends must be declared here.
        from types import SimpleNamespace

        from services.rectification.findings.schemas import FindingEnvelope
        from services.scoring.events import FINDING_CREATED, finding_created

        sheet = SimpleNamespace(
            id=42,
            round_code="2026Q1",
            site_code="330212001001",
            site_name="天童村",
            site_type="village",
            org_unit="ningbo/yinzhou/dongwu/tiantong",
            district="yinzhou",
            team_leader_user_id="u-team-leader",
            team_id=3,
        )
        data = finding_created(
            sheet,  # type: ignore[arg-type]
            item_code="C03",
            item_title="“三会一课”固定化常态化",
            deduction={"id": 7, "points": 3, "reason": "党课记录缺失"},
            finding={
                "category": "组织生活",
                "severity": "serious",
                "level": "village_community",
                "concerns": None,
            },
        )
        envelope = FindingEnvelope.model_validate({**FINDING, "type": FINDING_CREATED, "data": data})
        assert envelope.data.finding_id == "7" and envelope.data.sheet_id == "42"
