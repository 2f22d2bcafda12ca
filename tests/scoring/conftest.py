"""Scoring fixtures: the app on a fresh database, a frozen clock, and a fake sampling over MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from services.kit.clock import FrozenClock
from services.kit.testing import (
    create_postgres_database,
    drop_postgres_database,
    principal_headers,
    running_app,
)
from services.scoring.config import Settings
from services.scoring.main import build_app
from services.scoring.models import outbox_event
from services.scoring.rubric import default_definition, parse_definition
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB
from tests.rectification import fake_evidence
from tests.rectification.fake_evidence import FakeEvidence

ROUND = "2026Q1"
START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
LEADER, INSPECTOR, OUTSIDER = "u-leader", "u-insp1", "u-outsider"
TEAM = {"id": "T1", "name": "第一督查组", "leader_user_id": LEADER, "member_user_ids": [INSPECTOR, "u-insp2"]}

SITES: dict[str, dict[str, str]] = {
    "330212": {
        "code": "330212",
        "name": "鄞州区",
        "type": "district",
        "org_unit": "ningbo/yinzhou",
        "district": "yinzhou",
    },
    "330212001": {
        "code": "330212001",
        "name": "东吴镇",
        "type": "town",
        "org_unit": "ningbo/yinzhou/330212001",
        "district": "yinzhou",
    },
    "330212001201": {
        "code": "330212001201",
        "name": "勤勇村",
        "type": "village",
        "org_unit": "ningbo/yinzhou/330212001/330212001201",
        "district": "yinzhou",
    },
    "330212001202": {
        "code": "330212001202",
        "name": "天童村",
        "type": "village",
        "org_unit": "ningbo/yinzhou/330212001/330212001202",
        "district": "yinzhou",
    },
    "91330212MA0001": {
        "code": "91330212MA0001",
        "name": "宁波某科技有限公司",
        "type": "enterprise",
        "org_unit": "ningbo/yinzhou/91330212MA0001",
        "district": "yinzhou",
    },
    "330203": {
        "code": "330203",
        "name": "海曙区",
        "type": "district",
        "org_unit": "ningbo/haishu",
        "district": "haishu",
    },
    "330203001": {
        "code": "330203001",
        "name": "月湖街道",
        "type": "street",
        "org_unit": "ningbo/haishu/330203001",
        "district": "haishu",
    },
    "330203001001": {
        "code": "330203001001",
        "name": "青石社区",
        "type": "community",
        "org_unit": "ningbo/haishu/330203001/330203001001",
        "district": "haishu",
    },
}
NOT_DRAWN = "330212001299"


@dataclass
class FakeSampling:
    """Answers GET /rounds/{round}/assignments/{site} like sampling does; can be taken down."""

    drawn: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    calls: int = 0

    def draw(self, site_code: str, *, round_code: str = ROUND, team: dict[str, Any] | None = None) -> None:
        self.drawn[(round_code, site_code)] = {
            "round_code": round_code,
            "status": "published",
            "site": SITES[site_code],
            "team": team or TEAM,
            "visit_from": "2026-03-01",
            "visit_to": "2026-03-20",
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        parts = request.url.path.strip("/").split("/")
        if parts[0] == "internal":  # sampling serves the lookup on an internal route
            parts = parts[1:]
        if len(parts) == 4 and parts[0] == "rounds" and parts[2] == "assignments":
            found = self.drawn.get((parts[1], parts[3]))
            if found is None:
                return httpx.Response(
                    404,
                    json={"type": "/problems/assignment-not-found", "status": 404},
                    headers={"content-type": "application/problem+json"},
                )
            return httpx.Response(200, json=found)
        if len(parts) == 3 and parts[0] == "rounds" and parts[2] == "assignments":
            items = [a for (r, _), a in self.drawn.items() if r == parts[1]]
            if not items:
                return httpx.Response(404, json={"type": "/problems/round-not-found", "status": 404})
            offset = int(request.url.params.get("offset", 0))
            limit = int(request.url.params.get("limit", 50))
            return httpx.Response(
                200,
                json={
                    "items": items[offset : offset + limit],
                    "total": len(items),
                    "limit": limit,
                    "offset": offset,
                },
            )
        return httpx.Response(404, json={"status": 404})


@pytest.fixture(scope="module")
def module_sampling() -> FakeSampling:
    return FakeSampling()


@pytest.fixture
def sampling(module_sampling: FakeSampling) -> FakeSampling:
    """The module's fake sampling, reset: every test site drawn in ROUND for team T1, sampling up."""
    module_sampling.drawn.clear()
    module_sampling.down = False
    for code in SITES:
        module_sampling.draw(code)
    return module_sampling


# Evidence files an inspector (scope ningbo/jiangbei) may name, and one in yinzhou they may not.
INSPECTOR_UNIT = "ningbo/jiangbei"
PHOTO_ID, PDF_ID, OTHER_ID = "f-c09-photo", "f-c09-minutes", "f-yinzhou-photo"


def scoring_files() -> dict[str, dict[str, Any]]:
    return {
        PHOTO_ID: fake_evidence.evidence_file(
            PHOTO_ID,
            sha="a" * 64,
            name="活动室.jpg",
            org_unit=INSPECTOR_UNIT,
            captured_at="2026-03-10T01:30:00Z",
        ),
        PDF_ID: fake_evidence.evidence_file(
            PDF_ID,
            sha="c" * 64,
            name="会议记录.pdf",
            org_unit=INSPECTOR_UNIT,
            media_type="application/pdf",
            kind="pdf",
        ),
        OTHER_ID: fake_evidence.evidence_file(
            OTHER_ID, sha="d" * 64, name="别处.jpg", org_unit="ningbo/yinzhou"
        ),
    }


@pytest.fixture(scope="module")
def module_evidence() -> FakeEvidence:
    return FakeEvidence(files=scoring_files())


@pytest.fixture
def evidence(module_evidence: FakeEvidence) -> FakeEvidence:
    """The module's fake evidence service, reset: up, with the files above."""
    module_evidence.files = scoring_files()
    module_evidence.down, module_evidence.fail_with, module_evidence.ignore_scope = False, None, False
    module_evidence.requests.clear()
    module_evidence.principals.clear()
    return module_evidence


@pytest.fixture(scope="module")
def module_clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def clock(module_clock: FrozenClock) -> FrozenClock:
    module_clock.set(START)
    return module_clock


@pytest.fixture(scope="module")
async def module_client(
    tmp_path_factory: pytest.TempPathFactory,
    module_sampling: FakeSampling,
    module_clock: FrozenClock,
    module_evidence: FakeEvidence,
) -> AsyncIterator[httpx.AsyncClient]:
    """One app and database per test module (a fresh PostgreSQL database costs seconds); tests clean up after themselves."""
    if TEST_DB == "postgres":
        url = await create_postgres_database(POSTGRES_ADMIN_URL, "t_scoring")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('scoring') / 'scoring.db'}"
    settings = Settings(
        database_url=url,
        environment="test",
        outbox_enabled=False,
        access_log=False,
        evidence_url=fake_evidence.URL,
    )

    def peers(request: httpx.Request) -> httpx.Response:
        if request.url.host == fake_evidence.HOST:
            return module_evidence.handler(request)
        return module_sampling.handler(request)

    app = build_app(settings, clock=module_clock, http_transport=httpx.MockTransport(peers))
    try:
        async with running_app(app) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
    finally:
        if TEST_DB == "postgres":
            await drop_postgres_database(POSTGRES_ADMIN_URL, url)


CLEANED = (
    "outbox_event",
    "idempotency_key",
    "sheet_finding",
    "sheet_history",
    "item_score",
    "score_sheet",
    "results_publication",
    "published_results",
    "round_rubric",
)


@pytest.fixture
async def client(
    module_client: httpx.AsyncClient, sampling: FakeSampling, clock: FrozenClock, evidence: FakeEvidence
) -> AsyncIterator[httpx.AsyncClient]:
    """The module's client; afterwards every table is emptied except the migrated default rubric."""
    yield module_client
    async with module_client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        for table in CLEANED:
            await conn.execute(text(f"DELETE FROM {table}"))
        await conn.execute(text("DELETE FROM rubric WHERE created_by <> 'migration'"))
        await conn.execute(text("UPDATE rubric SET is_default = true"))


# Headers are signed when a test asks for them, never at import; a test may hold them while a busy
# machine runs it slowly, so they stay valid for an hour rather than the gateway's seconds.
LONG_TTL = 3600


def as_inspector(sub: str = INSPECTOR) -> dict[str, str]:
    return principal_headers(roles=["inspector"], scope="ningbo/jiangbei", sub=sub, ttl=LONG_TTL)


def as_leader(sub: str = LEADER) -> dict[str, str]:
    return principal_headers(roles=["team_leader"], scope="ningbo/jiangbei", sub=sub, ttl=LONG_TTL)


def as_admin() -> dict[str, str]:
    return principal_headers(roles=["city_admin"], scope="ningbo", sub="u-admin", ttl=LONG_TTL)


def as_district_admin(district: str) -> dict[str, str]:
    return principal_headers(
        roles=["district_admin"], scope=f"ningbo/{district}", sub=f"u-{district}-admin", ttl=LONG_TTL
    )


DEFINITION = parse_definition(default_definition())


def full_items(
    site_type: str, *, grade: str = "好", overrides: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """A score for every item that applies to `site_type` (full marks unless overridden)."""
    out = []
    for _, it in DEFINITION.applicable_items(site_type):
        body: dict[str, Any] = {"item_code": it.code, "methods": it.methods[:1]}
        if it.scoring_type == "deduction":
            body["deductions"] = []
        elif it.scoring_type == "graded":
            body["grade"] = grade
        elif it.scoring_type == "check":
            body["met"] = True
        body.update((overrides or {}).get(it.code, {}))
        out.append(body)
    return out


FULL_POLL = {
    "party_member": {"satisfied": 10, "basically_satisfied": 0, "dissatisfied": 0},
    "resident": {"satisfied": 20, "basically_satisfied": 0, "dissatisfied": 0},
}


async def open_sheet(client: httpx.AsyncClient, site_code: str, *, round_code: str = ROUND) -> dict[str, Any]:
    r = await client.post(
        f"/rounds/{round_code}/sheets", json={"site_code": site_code}, headers=as_inspector()
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def patch(
    client: httpx.AsyncClient,
    sheet: dict[str, Any],
    body: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.patch(
        f"/sheets/{sheet['id']}",
        json=body,
        headers={**(headers or as_inspector()), "If-Match": sheet["etag"]},
    )


async def act(
    client: httpx.AsyncClient,
    sheet: dict[str, Any],
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/sheets/{sheet['id']}/{action}", json=body, headers={**headers, "If-Match": sheet["etag"]}
    )


async def filled_sheet(
    client: httpx.AsyncClient,
    site_code: str,
    *,
    overrides: dict[str, dict[str, Any]] | None = None,
    grade: str = "好",
    poll: dict[str, Any] | None = None,
    round_code: str = ROUND,
) -> dict[str, Any]:
    sheet = await open_sheet(client, site_code, round_code=round_code)
    body: dict[str, Any] = {"items": full_items(SITES[site_code]["type"], grade=grade, overrides=overrides)}
    if any(it.source for _, it in DEFINITION.applicable_items(SITES[site_code]["type"])):
        body["poll"] = poll or FULL_POLL
    r = await patch(client, sheet, body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def to_status(client: httpx.AsyncClient, sheet: dict[str, Any], status: str) -> dict[str, Any]:
    """Drive a filled sheet forward to `status` (submitted, reviewed or locked)."""
    steps = {
        "draft": ("submit", as_inspector()),
        "returned": ("submit", as_inspector()),
        "submitted": ("review", as_leader()),
        "reviewed": ("lock", as_admin()),
    }
    while sheet["status"] != status:
        action, headers = steps[sheet["status"]]
        r = await act(client, sheet, action, headers)
        assert r.status_code == 200, r.text
        sheet = r.json()
    return sheet


async def outbox_rows(client: httpx.AsyncClient, *, facts: bool = False) -> list[Any]:
    """The outbox's events for notify and rectification, oldest first; with `facts`, reporting's only."""
    async with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        is_fact = outbox_event.c.target == "reporting"
        stmt = (
            select(outbox_event)
            .where(is_fact if facts else ~is_fact)
            .order_by(outbox_event.c.created_at, outbox_event.c.id)
        )
        return list((await conn.execute(stmt)).mappings().all())


def problem(r, *fragments: str) -> str:
    """Assert `r` is a 422 problem+json; return its errors as text for the field checks."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    text = str(r.json().get("errors", r.json()))
    for f in fragments:
        assert f in text, (f, text)
    return text


# The scope tests' world (tests/scoring/scope.py, */test_scope.py): two districts, own sheet and one site each.
YINZHOU_VILLAGE, HAISHU_COMMUNITY = "330212001201", "330203001001"
SCOPE_PLAN = [
    ("330212", {"A01": {"deductions": [{"points": 8, "reason": "述职评议流于形式"}]}}),
    (YINZHOU_VILLAGE, {"C01": {"deductions": [{"points": 8, "reason": "未按期换届"}]}}),
    ("330203", {"A02": {"met": False}}),
    (HAISHU_COMMUNITY, {}),
]


@pytest.fixture(scope="module")
async def scope_world(module_client, module_sampling, module_clock) -> dict[str, dict[str, Any]]:
    """Two districts' locked sheets in ROUND (SCOPE_PLAN) for the scope tests, built once per test module."""
    module_sampling.drawn.clear()
    module_sampling.down = False
    for code in SITES:
        module_sampling.draw(code)
    module_clock.set(START)
    out = {}
    for code, overrides in SCOPE_PLAN:
        sheet = await filled_sheet(module_client, code, overrides=overrides)
        out[code] = await to_status(module_client, sheet, "locked")
    return out
