"""The scope matrix (tests/e2e/scope_matrix.py), end to end through the gateway against real processes.

A small city is seeded through the API: the demo directory of Yinzhou and Haishu, the inspector
pool, a round drawn over both districts and published, the demo score sheets (and the findings they
send to rectification), problems, extensions, people, notifications and two ``system`` API keys
created by a city admin (one city-wide, one scoped to Yinzhou), and a webhook subscription of each
district pointed at a receiver the test runs on 127.0.0.1. Then every cell is tried.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.scope_matrix import (
    CALLERS,
    LEAK_MARKERS,
    NOT_IN_OPENAPI,
    ROWS,
    SUBSCRIPTION_IN,
    SUBSCRIPTION_OUT,
    Caller,
    Row,
    cells,
    expected,
)
from tests.fuzz.stack import Stack, drop_databases, start_stack

# Seeding a small city takes a few minutes on a loaded machine; the cells as many again.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]

ROUND = "2026Q1"
DISTRICTS = ("yinzhou", "haishu")
BEIJING = ZoneInfo("Asia/Shanghai")
ADMIN = Caller("seed", ("city_admin",), "ningbo", "u-admin")


@dataclass
class Matrix:
    stack: Stack
    seeds: dict[str, Any]
    keys: dict[str, str]  # caller name -> API key
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    calendar_tokens: dict[str, str] = field(default_factory=dict)
    # (prepare, target) -> a fresh object that the callers a row refuses are tried on (they must not
    # change it, so one serves them all)
    spares: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.stack.gateway_url, timeout=60.0)

    def sub(self, caller: Caller) -> str:
        return caller.sub.format(**self.seeds) if caller.sub else f"key-{caller.name}"

    def headers(self, caller: Caller) -> dict[str, str]:
        if caller.api_key:
            return {"X-API-Key": self.keys[caller.name]}
        token = self.stack.token(roles=list(caller.roles), scope=caller.scope, sub=self.sub(caller), ttl=3600)
        return {"Authorization": f"Bearer {token}"}

    def admin(self) -> dict[str, str]:
        return self.headers(ADMIN)


def fill(value: Any, seeds: dict[str, Any]) -> Any:
    """Replace ``{name}`` placeholders; a string that is exactly one placeholder takes the seed's value."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in seeds:
            return seeds[value[1:-1]]
        if "{" in value and "{{" not in value:
            return value.format(**seeds)
        return value
    if isinstance(value, dict):
        return {k: fill(v, seeds) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, seeds) for v in value]
    return value


def mark(what: str, started: list[float] = [time.monotonic()]) -> None:  # noqa: B006
    print(f"[matrix seed] {time.monotonic() - started[0]:7.1f}s {what}", file=sys.stderr, flush=True)


async def ok(resp: httpx.Response) -> Any:
    if resp.is_error:
        raise AssertionError(
            f"seeding: {resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text[:1500]}"
        )
    return resp.json() if resp.content else None


async def run_module(stack: Stack, module: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        env={**os.environ, **stack.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"{module}: {out.decode(errors='replace')[-3000:]}"


# ----------------------------------------------------------------------------------------- seeding


MATRIX_PDF = b"%PDF-1.4\n%matrix\n%%EOF\n"


def matrix_jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 0, 0)).save(buf, format="JPEG")
    return buf.getvalue()


async def seed(m: Matrix) -> None:
    from services.sampling import demo as sampling_demo

    s = m.seeds
    admin = m.admin()
    async with m.client() as c:
        # The directory of the two districts (synthetic demo rows) and the inspector pool.
        rows = [
            r
            for r in sampling_demo.city_rows()
            if r.get("district")  # every district and zone (the pool's home districts), no more
            or str(r.get("parent_code", ""))[:6] in {sampling_demo.DISTRICTS[d][0] for d in DISTRICTS}
        ]
        await ok(await c.post("/api/v1/sampling/sites/import", json=rows, headers=admin, timeout=300))
        mark("sites imported")
        await ok(
            await c.post(
                "/api/v1/sampling/inspectors/import", json=sampling_demo.inspector_rows(), headers=admin
            )
        )
        mark("pool imported")
        body = {**sampling_demo.DEMO_ROUND, "districts": list(DISTRICTS), "team_count": 2}
        await ok(await c.post("/api/v1/sampling/rounds", json=body, headers=admin))
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/freeze", headers=admin))
        await ok(
            await c.post(
                f"/api/v1/sampling/rounds/{ROUND}/draws", json={"public_value": "matrix 5-2-7"}, headers=admin
            )
        )
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/reveal", headers=admin))
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/publish", headers=admin))
        mark("round published")
        s["round"] = ROUND
        s["plan_body"] = sampling_demo.DEMO_ROUND["plan"]
        assignments = (
            await ok(await c.get(f"/api/v1/sampling/rounds/{ROUND}/assignments?limit=500", headers=admin))
        )["items"]

        def assignment(district: str) -> dict[str, Any]:
            village = [
                a for a in assignments if a["site"]["district"] == district and a["site"]["type"] == "village"
            ]
            return (village or [a for a in assignments if a["site"]["district"] == district])[0]

        a_in, a_out = assignment("yinzhou"), assignment("haishu")
        s["assigned_in"], s["assigned_out"] = a_in["site"]["code"], a_out["site"]["code"]
        s["visit_in"], s["visit_out"] = a_in["visit_from"], a_out["visit_from"]
        team = a_in["team"]
        s["team_leader_sub"] = team["leader_user_id"]
        s["inspector_sub"] = team["member_user_ids"][0]
        # The teams visiting each district (their numbers), and the Haishu team's leader.
        teams = (await ok(await c.get(f"/api/v1/sampling/rounds/{ROUND}/teams", headers=admin)))["items"]
        number = {t["id"]: str(t["number"]) for t in teams}
        s["team_in"], s["team_out"] = number[a_in["team"]["id"]], number[a_out["team"]["id"]]
        s["visitor_out"] = a_out["team"]["leader_user_id"]
        assert s["team_in"] != s["team_out"], "the matrix needs a different team in each district"

        # Sites: a village and its town in each district.
        for tag, district in (("in", "yinzhou"), ("out", "haishu")):
            dcode = sampling_demo.DISTRICTS[district][0]
            town = f"{dcode}001"
            village = f"{town}001"
            site = await ok(await c.get(f"/api/v1/sampling/sites/by-code/{village}", headers=admin))
            s[f"site_{tag}"], s[f"village_{tag}"], s[f"town_{tag}"] = site["id"], village, town
            s[f"village_{tag}_name"] = site["name"]
            s[f"site_code_{tag}"], s[f"site_unit_{tag}"] = village, site["org_unit"]
        pool = (await ok(await c.get("/api/v1/sampling/inspectors?limit=500", headers=admin)))["items"]
        s["inspector_in"] = next(i["id"] for i in pool if i["home_district"] == "yinzhou")
        s["inspector_out"] = next(i["id"] for i in pool if i["home_district"] == "haishu")

    # notify's directory: the demo's people the matrix names (the callers, both districts' admins and
    # responsible people, the round's teams), then the score sheets of the round (and their findings).
    from services.notify import demo as notify_demo

    team_members = {
        u for a in assignments for u in [a["team"]["leader_user_id"], *a["team"]["member_user_ids"]]
    }
    wanted = {"u-admin", "u-leader", *(f"u-{d}-{r}" for d in DISTRICTS for r in ("admin", "responsible"))}
    async with m.client() as c:
        for user_id, person in notify_demo.people():
            if user_id in wanted or user_id in team_members:
                await ok(await c.put(f"/api/v1/notify/people/{user_id}", json=person, headers=admin))
    mark("directory")
    await run_module(m.stack, "services.scoring.demo")

    mark("scoring demo")
    async with m.client() as c:
        # The Yinzhou team's members belong to Yinzhou in the directory, like their tokens.
        for sub in (s["inspector_sub"], s["team_leader_sub"]):
            await ok(
                await c.put(
                    f"/api/v1/notify/people/{sub}",
                    json={"name": sub, "org_unit": "ningbo/yinzhou", "roles": ["inspector", "team_leader"]},
                    headers=admin,
                )
            )
        s["person_in"], s["person_out"] = "u-yinzhou-responsible", "u-haishu-responsible"
        sheets = (await ok(await c.get(f"/api/v1/scoring/rounds/{ROUND}/sheets?limit=500", headers=admin)))[
            "items"
        ]
        s["sheet_in"] = next(x["id"] for x in sheets if x["site"]["code"] == s["assigned_in"])
        s["sheet_out"] = next(x["id"] for x in sheets if x["site"]["code"] == s["assigned_out"])
        s["rubric"] = (await ok(await c.get("/api/v1/scoring/rubrics", headers=admin)))["items"][0]["id"]
        rubric = await ok(await c.get(f"/api/v1/scoring/rubrics/{s['rubric']}", headers=admin))
        s["rubric_new"] = {"version": "matrix-1", "name": rubric["name"]}
        s["rubric_definition"] = {"definition": rubric["definition"]}
        templates = (await ok(await c.get("/api/v1/rectification/schedule-templates", headers=admin)))[
            "items"
        ]
        general = next(t for t in templates if t["severity"] == "general")
        s["schedule_template_body"] = {
            k: v for k, v in general.items() if k not in ("severity", "severity_label", "customised")
        }

        # API keys, created by a city admin through the gateway.
        for name, scope in (("key_city", "ningbo"), ("key_yinzhou", "ningbo/yinzhou")):
            created = await ok(
                await c.post(
                    "/api/v1/auth/api-keys",
                    json={"name": f"matrix {name}", "roles": ["system"], "scope": scope},
                    headers=admin,
                )
            )
            m.keys[name] = created["key"]

        mark("keys")
        # Problems (with an extension asked for) in each district.
        # In Yinzhou, a finding of the Yinzhou team's sheet, issued by its team leader (scoring sent it to
        # rectification): the team leader's own problem is the one tried (the matrix's data says so).
        s["problem_issued"] = await issued_problem(m, c, s["team_leader_sub"])
        for tag in ("in", "out"):
            if tag == "in":
                pid = await advance_problem(m, c, s["problem_issued"], "yinzhou", "in_progress")
            else:
                pid = await fresh_problem(m, c, tag, "in_progress")
            s[f"problem_{tag}"] = pid
            district = "yinzhou" if tag == "in" else "haishu"
            resp_headers = m.headers(
                Caller("r", ("responsible",), f"ningbo/{district}", f"u-{district}-responsible")
            )
            ext = await ok(
                await c.post(
                    f"/api/v1/rectification/problems/{pid}/extensions",
                    json={"reason": "matrix", "new_deadline_on": "2030-12-31"},
                    headers=resp_headers,
                )
            )
            s[f"extension_{tag}"] = ext["id"]

        mark("problems")
        # Notifications to a person of each district, and a message in every person's inbox.
        for tag, who in (("in", "u-yinzhou-responsible"), ("out", "u-haishu-responsible")):
            sent = await ok(
                await c.post(
                    "/api/v1/notify/notifications",
                    json={
                        "event_type": "notify.message",
                        "data": {"title": "矩阵", "body": "matrix"},
                        "recipients": [{"kind": "person", "user_id": who}],
                    },
                    headers={**admin, "Idempotency-Key": f"matrix-{tag}"},
                )
            )
            s[f"notification_{tag}"] = sent["id"]
            got = await ok(await c.get(f"/api/v1/notify/notifications/{sent['id']}", headers=admin))
            deliveries = got.get("deliveries") or []
            s[f"delivery_{tag}"] = deliveries[0]["id"] if deliveries else 987654321
        people = [m.sub(x) for x in CALLERS if not x.api_key] + ["u-haishu-admin"]
        await ok(
            await c.post(
                "/api/v1/notify/notifications",
                json={
                    "event_type": "notify.message",
                    "data": {"title": "矩阵", "body": "inbox"},
                    "recipients": [{"kind": "person", "user_id": p} for p in people],
                },
                headers={**admin, "Idempotency-Key": "matrix-inbox"},
            )
        )
        s["other_message"] = await first_message(
            m, c, Caller("h", ("district_admin",), "ningbo/haishu", "u-haishu-admin")
        )
        for x in CALLERS:
            s[f"message_{x.name}"] = await first_message(m, c, x)
            created = await c.post("/api/v1/rectification/calendar-token", headers=m.headers(x))
            if created.status_code in (200, 201):
                m.calendar_tokens[x.name] = created.json()["token"]
        mark("inbox")
        # A webhook subscription of each district, to the local receiver, made by the city admin.
        for tag, body in (("in", SUBSCRIPTION_IN), ("out", SUBSCRIPTION_OUT)):
            sub = await ok(
                await c.post("/api/v1/notify/webhooks/subscriptions", json=fill(body, s), headers=admin)
            )
            s[f"subscription_{tag}"] = sub["id"]
        for area in ("sampling", "scoring", "rectification", "notify", "reporting"):
            r = await c.get(f"/api/v1/{area}/outbox/events?limit=1&status=sent", headers=admin)
            items = r.json().get("items", []) if r.status_code == 200 else []
            s[f"outbox_{area}"] = items[0]["id"] if items else 987654321
    await reporting_knows_the_round(m, assignments)
    m.seeds["special_report"] = await reporting_issues_a_report(m)
    mark("reporting")
    async with m.client() as c:
        for tag, district in (("in", "yinzhou"), ("out", "haishu")):
            f = await ok(
                await c.post(
                    "/api/v1/evidence/files",
                    files={"file": (f"{district}.jpg", matrix_jpeg(), "image/jpeg")},
                    data={"purpose": "problem", "ref": "matrix", "org_unit": f"ningbo/{district}"},
                    headers=admin,
                )
            )
            s[f"file_{tag}"] = f["id"]
    mark("evidence")


async def reporting_issues_a_report(m: Matrix) -> int:
    """An issued 专报 of the round: its results reach reporting (scoring's results event, sent to the
    intake as scoring would when none was published), then one city admin drafts and submits it, a
    second reviews it, and it is issued with a number of its own."""
    from services.kit.http import make_service_client
    from services.kit.settings import DEV_PRINCIPAL_SECRET

    admin = m.admin()
    reviewer = {
        "Authorization": f"Bearer {m.stack.token(roles=['city_admin'], scope='ningbo', sub='u-matrix-reviewer', ttl=3600)}"
    }
    async with m.client() as c:
        draft = await c.post(f"/api/v1/reporting/rounds/{ROUND}/special-reports", headers=admin)
        if draft.status_code == 409:  # no published results yet: scoring's event, as scoring sends it
            results = {
                "round_code": ROUND,
                "version": 1,
                "published_at": "2026-03-20T02:00:00Z",
                "content_sha256": "0" * 64,
                "complete": False,
                "districts": [
                    {"rank": r, "district": d, "composite": c_, "grade": g, "section_a": c_,
                     "grassroots_mean": c_, "grassroots_count": 1, "complete": False}
                    for r, d, c_, g in ((1, "yinzhou", 92.5, "好"), (2, "haishu", 85.0, "较好"))
                ],
            }  # fmt: skip
            envelope = {
                "id": f"matrix-results-{uuid.uuid4()}",
                "type": "scoring.results.recorded",
                "source": "scoring",
                "occurred_at": "2026-03-20T02:00:00Z",
                "data": results,
            }
            async with make_service_client(service="scoring", secret=DEV_PRINCIPAL_SECRET) as peer:
                r = await peer.post(f"{m.stack.service_urls['reporting']}/events", json=envelope)
            assert r.status_code == 202, f"reporting refused the results: {r.status_code} {r.text[:1500]}"
            draft = await c.post(f"/api/v1/reporting/rounds/{ROUND}/special-reports", headers=admin)
        report = await ok(draft)
        etag = draft.headers["ETag"]
        r = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/submit", headers={**admin, "If-Match": etag}
        )
        await ok(r)
        r = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/review",
            json={"decision": "approve"},
            headers={**reviewer, "If-Match": r.headers["ETag"]},
        )
        await ok(r)
        r = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/issue",
            json={"doc_number": f"甬组督〔{datetime.now(BEIJING).year}〕{900 + next(m.counter)}号"},
            headers={**admin, "If-Match": r.headers["ETag"]},
        )
        issued = await ok(r)
        assert issued["status"] == "issued", issued
        return int(report["id"])


async def reporting_knows_the_round(m: Matrix, assignments: list[dict[str, Any]]) -> None:
    """Reporting's read model holds the round: sampling's draw event reaches it through the outbox;
    if it has not within a minute, the draw is sent to reporting's intake directly, as sampling would."""
    from services.kit.http import make_service_client
    from services.kit.settings import DEV_PRINCIPAL_SECRET

    async with m.client() as c:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = await c.get(f"/api/v1/reporting/rounds/{ROUND}/dashboard", headers=m.admin())
            if r.status_code == 200:
                return
            await asyncio.sleep(1.0)
    draw = {
        "round_code": ROUND,
        "name": "2026年第1季度基层党建专项督查",
        "year": 2026,
        "quarter": 1,
        "drawn_at": "2026-03-02T02:00:00Z",
        "revision": 1,
        "districts": [{"code": "yinzhou", "name": "鄞州区"}, {"code": "haishu", "name": "海曙区"}],
        "visits": [
            {
                "site": {k: a["site"][k] for k in ("code", "name", "type", "org_unit", "district")},
                "team_id": None,
                "team_name": None,
                "visit_on": None,
                "follow_up": False,
            }
            for a in assignments
        ],
    }
    envelope = {
        "id": f"matrix-draw-{uuid.uuid4()}",
        "type": "sampling.round.drawn",
        "source": "sampling",
        "occurred_at": "2026-03-02T02:00:00Z",
        "data": draw,
    }
    async with make_service_client(service="sampling", secret=DEV_PRINCIPAL_SECRET) as peer:
        r = await peer.post(f"{m.stack.service_urls['reporting']}/events", json=envelope)
    assert r.status_code == 202, f"reporting refused the round's draw: {r.status_code} {r.text[:1500]}"


async def issued_problem(m: Matrix, c: httpx.AsyncClient, issuer: str) -> int:
    """A new Yinzhou problem `issuer` (the team leader) issued: a finding of the scoring demo, relayed
    by scoring's outbox after the demo returned. Waits until it is there or no finding is left to relay
    (bounded by a generous deadline; the findings name their sheet's team leader as issuer)."""
    admin = m.admin()
    deadline = time.monotonic() + 300
    while True:
        pending = (
            await ok(
                await c.get(
                    "/api/v1/scoring/outbox/events?status=pending&limit=500", headers=admin, timeout=120
                )
            )
        )["items"]
        relaying = [e for e in pending if e["path"] == "/findings"]
        found = (
            await ok(await c.get("/api/v1/rectification/problems?limit=500", headers=admin, timeout=120))
        )["items"]
        issued = [
            p
            for p in found
            if p["district"] == "yinzhou" and p["issued_by"] == issuer and p["responsible_person"] is None
        ]
        if issued:
            return int(issued[0]["id"])
        if not relaying:
            failed = (await ok(await c.get("/api/v1/scoring/outbox/dead-letters?limit=500", headers=admin)))[
                "items"
            ]
            raise AssertionError(
                f"no Yinzhou finding of {issuer} reached rectification and none is left to relay; "
                f"problems by (district, issuer): {sorted({(p['district'], p['issued_by']) for p in found})}; "
                f"findings refused: {[(e['id'], e['last_error']) for e in failed if e['path'] == '/findings'][:5]}"
            )
        assert time.monotonic() < deadline, f"{len(relaying)} findings still waiting in scoring's outbox"
        await asyncio.sleep(0.5)


async def first_message(m: Matrix, c: httpx.AsyncClient, caller: Caller) -> Any:
    """The id of a message in `caller`'s inbox (waits for notify to file it), or a missing id."""
    if caller.api_key:
        return 987654321
    for _ in range(100):
        r = await c.get("/api/v1/notify/inbox", headers=m.headers(caller))
        if r.status_code == 200 and r.json().get("items"):
            return r.json()["items"][0]["id"]
        await asyncio.sleep(0.1)
    return 987654321


STATES = ("new", "assigned", "in_progress", "submitted")


async def fresh_problem(m: Matrix, c: httpx.AsyncClient, tag: str, state: str) -> int:
    """A problem of Yinzhou (in) or Haishu (out), moved by its own people to `state`."""
    from tests.e2e.scope_matrix import PROBLEM_BODY_IN, PROBLEM_BODY_OUT

    district = "yinzhou" if tag == "in" else "haishu"
    admin = m.admin()
    body = fill(PROBLEM_BODY_IN if tag == "in" else PROBLEM_BODY_OUT, m.seeds)
    problem = await ok(await c.post("/api/v1/rectification/problems", json=body, headers=admin))
    return await advance_problem(m, c, int(problem["id"]), district, state)


async def advance_problem(m: Matrix, c: httpx.AsyncClient, pid: int, district: str, state: str) -> int:
    """Move a new problem to `state` (assigned to the district's responsible person, who starts it)."""
    admin = m.admin()
    target = STATES.index(state)
    base = f"/api/v1/rectification/problems/{pid}"
    person = f"u-{district}-responsible"
    if target >= 1:
        await ok(
            await c.post(
                f"{base}/assign",
                json={"responsible_person": {"user_id": person, "org_unit": f"ningbo/{district}"}},
                headers=admin,
            )
        )
    responsible = m.headers(Caller("r", ("responsible",), f"ningbo/{district}", person))
    if target >= 2:
        await ok(await c.post(f"{base}/start", json={"plan": "matrix"}, headers=responsible))
    if target >= 3:
        evidence = await evidence_of(m, c, district)
        await ok(
            await c.post(
                f"{base}/submit",
                json={"note": "matrix", "evidence": [{"file_id": evidence, "note": "matrix"}]},
                headers=responsible,
            )
        )
    return pid


async def evidence_of(m: Matrix, c: httpx.AsyncClient, district: str) -> str:
    """A photo of the district at the evidence service (uploaded once by the city admin), by id."""
    key = f"evidence_{district}"
    if key not in m.seeds:
        f = await ok(
            await c.post(
                "/api/v1/evidence/files",
                files={"file": (f"{district}.jpg", matrix_jpeg(), "image/jpeg")},
                data={"purpose": "problem", "ref": "matrix", "org_unit": f"ningbo/{district}"},
                headers=m.admin(),
            )
        )
        m.seeds[key] = f["id"]
    return str(m.seeds[key])


async def prepare(m: Matrix, c: httpx.AsyncClient, row: Row, caller: Caller, target: str) -> dict[str, Any]:
    """Per-cell objects: a fresh one for each cell that changes or removes it."""
    n = next(m.counter)
    extra: dict[str, Any] = {
        "new_code": f"{'330212' if target != 'out' else '330203'}001{(900 + n) % 1000:03d}",
        "new_user": f"u-matrix-{n}",
        "new_round_body": {**_round_body(m, n)},
        "me": m.sub(caller) if not caller.api_key else "u-yinzhou-responsible",
        "my_message": m.seeds.get(f"message_{caller.name}", 987654321),
        "my_calendar_token": m.calendar_tokens.get(caller.name, "no-token"),
    }
    if row.prepare is None:
        return extra
    if caller.name not in row.allowed:
        # A refusal is tried on a real object too (so that a wrong 404 for a missing one cannot pass).
        spare = (row.prepare, target)
        if spare not in m.spares:
            m.spares[spare] = await make(m, c, row.prepare, caller, target, {**extra})
        return {**extra, **m.spares[spare]}
    return await make(m, c, row.prepare, caller, target, extra)


async def make(
    m: Matrix, c: httpx.AsyncClient, prepare: str, caller: Caller, target: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """The fresh object `prepare` names, for `caller`, inside (in) or outside (out) Yinzhou."""
    n = next(m.counter)
    admin = m.admin()
    kind, _, state = prepare.partition(":")
    if kind == "fresh_site":
        town = m.seeds["town_in" if target != "out" else "town_out"]
        code = f"{'330212' if target != 'out' else '330203'}001{(900 + n) % 1000:03d}"
        site = await ok(
            await c.post(
                "/api/v1/sampling/sites",
                json={"code": code, "type": "village", "name": f"矩阵村{n}", "parent_code": town},
                headers=admin,
            )
        )
        extra["fresh_site"] = site["id"]
    elif kind == "fresh_round":
        body = _round_body(m, n)
        await ok(await c.post("/api/v1/sampling/rounds", json=body, headers=admin))
        extra["fresh_round"] = body["code"]
    elif kind == "fresh_problem":
        extra["fresh_problem"] = await fresh_problem(m, c, "in" if target != "out" else "out", state)
    elif kind == "fresh_subscription":
        body = {**(SUBSCRIPTION_IN if target != "out" else SUBSCRIPTION_OUT), "name": f"matrix{n}"}
        sub = await ok(
            await c.post("/api/v1/notify/webhooks/subscriptions", json=fill(body, m.seeds), headers=admin)
        )
        extra["fresh_subscription"] = sub["id"]
    elif kind == "calendar_token":
        created = await c.post("/api/v1/rectification/calendar-token", headers=m.headers(caller))
        if created.status_code in (200, 201):
            extra["my_calendar_token"] = created.json()["token"]
    elif kind == "fresh_key":
        scope = "ningbo/yinzhou" if target != "out" else "ningbo/haishu"
        key = await ok(
            await c.post(
                "/api/v1/auth/api-keys",
                json={"name": "matrix", "roles": ["system"], "scope": scope},
                headers=admin,
            )
        )
        extra["fresh_key"] = key["id"]
    return extra


def _round_body(m: Matrix, n: int) -> dict[str, Any]:
    from services.sampling import demo as sampling_demo

    return {
        **sampling_demo.DEMO_ROUND,
        "code": f"2030Q1-m{n}",
        "districts": list(DISTRICTS),
        "team_count": 2,
    }


# ----------------------------------------------------------------------------------------- the stack


@pytest.fixture(scope="module")
async def matrix(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB

    tmp = tmp_path_factory.mktemp("matrix")
    pg = POSTGRES_ADMIN_URL if TEST_DB == "postgres" else None
    receiver = await asyncio.start_server(receive_webhook, "127.0.0.1", 0)
    port = receiver.sockets[0].getsockname()[1]
    try:
        stack = await start_stack(
            tmp,
            postgres_admin_url=pg,
            # webhooks go to the local receiver only
            env_extra={"NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true"},
            gateway_env={"GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000", "GATEWAY_RATE_LIMIT_BURST": "100000"},
        )
        try:
            m = Matrix(stack, seeds={"receiver_url": f"http://127.0.0.1:{port}/matrix-hook"}, keys={})
            await seed(m)
            yield m
        finally:
            stack.stop()
            if pg:
                await drop_databases(stack, pg)
    finally:
        receiver.close()
        await receiver.wait_closed()


async def receive_webhook(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A webhook receiver that accepts every request (204), one per connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


# ----------------------------------------------------------------------------------------- the cells


def leaked(resp: httpx.Response) -> list[str]:
    """The Haishu markers found in an answer (XLSX read cell by cell)."""
    ctype = resp.headers.get("content-type", "")
    if "spreadsheetml" in ctype:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(resp.content), read_only=True)
        text = json.dumps(
            [
                [str(v) for v in row if v is not None]
                for ws in wb.worksheets
                for row in ws.iter_rows(values_only=True)
            ],
            ensure_ascii=False,
        )
    else:
        text = resp.text
    # A JSON body's slug appears quoted; CSV/ICS text carries the slug bare in org units anyway.
    return [marker for marker in LEAK_MARKERS if marker in text]


async def send(
    m: Matrix, c: httpx.AsyncClient, row: Row, caller: Caller | None, target: str
) -> httpx.Response:
    seeds = dict(m.seeds)
    if caller is not None:
        seeds.update(await prepare(m, c, row, caller, target))
    path = row.path.format(**{k: fill(v, seeds) for k, v in row.params_for(target).items()})
    headers = dict(row.headers)
    if row.method == "POST":
        headers["Idempotency-Key"] = f"matrix-{uuid.uuid4()}"
    if caller is not None and row.kind != "public":
        headers.update(m.headers(caller))
    body = fill(row.body_for(target), seeds)
    kwargs: dict[str, Any] = {"headers": headers, "params": row.query}
    if row.multipart:
        kwargs["data"] = body
        kwargs["files"] = {"file": ("矩阵.pdf", MATRIX_PDF, "application/pdf")}
    elif body is not None:
        kwargs["json"] = body
    if row.stream:
        async with c.stream(row.method, path, **kwargs) as resp:
            # the answer's status and headers are enough; the stream itself would never end
            return httpx.Response(resp.status_code, headers=resp.headers, request=resp.request)
    return await c.request(row.method, path, **kwargs)


def row_id(row: Row) -> str:
    return f"{row.method} {row.path}"


@pytest.mark.parametrize("row", ROWS, ids=row_id)
async def test_scope_matrix_row(matrix: Matrix, row: Row) -> None:
    failures: list[str] = []
    async with matrix.client() as c:
        seen: dict[tuple[str, str], httpx.Response] = {}
        for r, caller, target in (cell for cell in cells() if cell[0] is row):
            key = (caller.name if caller else "-", "list" if r.op == "list" else target)
            if key not in seen:
                seen[key] = await send(matrix, c, r, caller, target)
            resp = seen[key]
            want = expected(r, caller, target)
            who = caller.name if caller else "anonymous"
            if resp.status_code not in want:
                failures.append(
                    f"{who}/{target}: {resp.status_code} not in {sorted(want)}: {resp.text[:200]}"
                )
                continue
            out_rows = (
                r.op == "list"
                and target == "out"
                and r.leak_check
                and caller is not None
                and not caller.city_wide
                and resp.is_success
            )
            if out_rows and (found := leaked(resp)):
                failures.append(f"{who}/out: a Haishu row in the list ({', '.join(found)})")
    assert not failures, f"{row_id(row)}:\n  " + "\n  ".join(failures)


async def test_every_route_has_a_row(matrix: Matrix) -> None:
    """A route of the merged OpenAPI without a row in the matrix fails the suite."""
    async with matrix.client() as c:
        doc = (await c.get("/openapi.json")).json()
    routes = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "put", "post", "patch", "delete")
    }
    rows = {(r.method, r.path) for r in ROWS}
    missing = sorted(routes - rows)
    print(
        f"\nscope matrix: {len(ROWS)} rows, {len(CALLERS)} callers, {len(cells())} cells; "
        f"{len(routes)} routes in the merged OpenAPI"
    )
    assert not missing, f"routes without a row in tests/e2e/scope_matrix.py: {missing}"
    # internal and never-routed paths are covered by rows of their own and must stay out of the document
    listed = sorted(NOT_IN_OPENAPI & routes)
    assert not listed, f"internal or never-routed paths listed in the merged OpenAPI: {listed}"
