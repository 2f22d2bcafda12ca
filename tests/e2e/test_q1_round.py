"""The seed article's first-quarter round, end to end through the gateway against the real processes.

29 towns/streets, 70 villages/communities, 22 two-new organisations and 1 hospital, across 10
districts/counties and 6 functional zones, visited by 5 teams of about 6. Every step is taken as its
users take it (admins, team leaders, inspectors, responsible people), and after each one the test
waits until every outbox and notify's deliveries are quiet, then reads every person's inbox: each
step must have produced exactly the messages listed for it, to exactly the people listed, with their
rendered Chinese text. Time moves through the processes' test clocks (CLOCK_CONTROL), never by sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.fuzz.stack import Stack, drop_databases, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

BEIJING = ZoneInfo("Asia/Shanghai")
ROUND = "2026Q1"
# The processes' clocks start on Monday 2026-03-02, 09:00 in Beijing.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
VISIT_START = date(2026, 3, 9)
ADMIN = "u-admin"
SETTLE_TIMEOUT = 120.0

# The article's round (docs/sampling.md): a floor in every district and zone plus a city total per
# group, and one hospital; at most Q1_CAP sites a team a day (the default), over 4 days a district.
Q1_CAP = 6


@dataclass
class City:
    stack: Stack
    people: dict[str, dict[str, Any]]
    offset: timedelta = timedelta(0)
    seen: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def headers(
        self, user_id: str, *, roles: list[str] | None = None, scope: str | None = None
    ) -> dict[str, str]:
        person = self.people.get(user_id, {})
        token = self.stack.token(
            roles=roles or list(person.get("roles") or ["city_admin"]),
            scope=scope or str(person.get("org_unit") or "ningbo"),
            sub=user_id,
        )
        return {"Authorization": f"Bearer {token}"}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.stack.gateway_url, timeout=120.0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def ok(resp: httpx.Response, *expected: int) -> Any:
    if resp.status_code not in (expected or (200, 201, 202, 204)):
        raise AssertionError(
            f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text[:1500]}"
        )
    return resp.json() if resp.content else None


async def set_clocks(city: City, when: datetime) -> None:
    """Move every process's clock to `when` (the test clock endpoint CLOCK_CONTROL mounts)."""
    offset = when - datetime.now(UTC)
    city.offset = offset
    async with httpx.AsyncClient(timeout=30.0) as c:
        for url in city.stack.service_urls.values():
            await ok(await c.put(f"{url}/_test/clock", json={"offset_seconds": offset.total_seconds()}))


async def settle(city: City) -> None:
    """Wait (bounded, polling) until no service has an event due and notify has nothing left to deliver."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    admin = city.headers(ADMIN)
    async with city.client() as c:
        while True:
            busy: list[str] = []
            now = city.now()
            for svc in city.stack.service_urls:
                listed = await c.get(
                    f"/api/v1/{svc}/outbox/events", params={"status": "pending", "limit": 200}, headers=admin
                )
                if listed.status_code == 404 and svc == "evidence":
                    continue  # evidence sends no events: it has no outbox
                page = await ok(listed)
                due = [e for e in page["items"] if datetime.fromisoformat(e["next_attempt_at"]) <= now]
                failed = await ok(await c.get(f"/api/v1/{svc}/outbox/dead-letters", headers=admin))
                assert failed["total"] == 0, f"{svc} dead-lettered: {failed['items']}"
                if due:
                    busy.append(f"{svc}: {len(due)} due")
            stats = await ok(await c.get("/api/v1/notify/deliveries/stats", headers=admin))
            for ch in stats["items"]:  # the inbox (no mail or SMS gateway runs here)
                if ch["channel"] == "inbox" and ch["by_status"].get("pending"):
                    busy.append(f"notify inbox: {ch['by_status']['pending']} pending")
            if not busy:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"not quiet after {SETTLE_TIMEOUT} s: {busy}")
            await asyncio.sleep(0.25)  # polling a condition, bounded by SETTLE_TIMEOUT


async def new_messages(city: City) -> dict[str, list[dict[str, Any]]]:
    """Every person's inbox messages that are new since the last call (after `settle`)."""
    await settle(city)
    out: dict[str, list[dict[str, Any]]] = {}
    async with city.client() as c:
        for user_id in city.people:
            items: list[dict[str, Any]] = []
            offset = 0
            while True:
                page = await ok(
                    await c.get(
                        "/api/v1/notify/inbox",
                        params={"limit": 200, "offset": offset},
                        headers=city.headers(user_id),
                    )
                )
                items += page["items"]
                offset += len(page["items"])
                if offset >= page["total"] or not page["items"]:
                    break
            fresh = [m for m in items if m["id"] not in city.seen[user_id]]
            city.seen[user_id] |= {m["id"] for m in fresh}
            if fresh:
                out[user_id] = sorted(fresh, key=lambda m: m["id"])
    return out


def by_type(messages: dict[str, list[dict[str, Any]]]) -> Counter[tuple[str, str]]:
    return Counter((u, m["event_type"]) for u, ms in messages.items() for m in ms)


def text(m: dict[str, Any]) -> str:
    return f"{m['title']}\n{m['body']}"


def assert_readable(m: dict[str, Any]) -> None:
    """No placeholder left, nothing empty: the failures of before (「请于 期限 前」, 「见系统」, 「近日」)."""
    t = text(m)
    assert m["title"].strip() and m["body"].strip(), m
    for bad in ("{{", "}}", "None", "见系统", "近日", " 期限 ", "undefined", "  。"):
        assert bad not in t, f"{bad!r} in {t!r}"


def cn_date(d: date) -> str:
    return f"{d.month}月{d.day}日"


@pytest.fixture(scope="module")
async def city(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[City]:
    from services.notify import demo as notify_demo
    from services.sampling import demo as sampling_demo
    from tests.conftest import POSTGRES_ADMIN_URL, TEST_DB

    tmp: Path = tmp_path_factory.mktemp("q1")
    stack = await start_stack(
        tmp,
        postgres_admin_url=POSTGRES_ADMIN_URL if TEST_DB == "postgres" else None,
        env_extra={"CLOCK_CONTROL": "true", "SAMPLING_DEMO_DATA": "false"},
        # The test reads every outbox and inbox after each step, far above one person's rate.
        gateway_env={"GATEWAY_RATE_LIMIT_ENABLED": "false"},
    )
    try:
        people = dict(notify_demo.people())
        c = City(stack, people)
        await set_clocks(c, START)
        async with c.client() as client:
            admin = c.headers(ADMIN)
            await ok(
                await client.post(
                    "/api/v1/sampling/sites/import", json=sampling_demo.city_rows(), headers=admin
                )
            )
            await ok(
                await client.post(
                    "/api/v1/sampling/inspectors/import", json=sampling_demo.inspector_rows(), headers=admin
                )
            )
            for user_id, person in people.items():
                await ok(await client.put(f"/api/v1/notify/people/{user_id}", json=person, headers=admin))
        await new_messages(c)  # nothing before the round; marks the baseline
        yield c
    finally:
        stack.stop()
        if stack.databases:
            await drop_databases(stack, POSTGRES_ADMIN_URL)


# ------------------------------------------------------------------------------------------ the round

TOWN_TYPES = {"town", "street"}
VILLAGE_TYPES = {"village", "community"}
TWO_NEW_TYPES = {"enterprise", "social_org"}


@dataclass
class Round:
    assignments: list[dict[str, Any]]
    teams: dict[int, dict[str, Any]]
    record: dict[str, Any]
    hospitals: set[str]

    def team_of(self, a: dict[str, Any]) -> dict[str, Any]:
        return self.teams[int(a["team"]["id"])]

    def people_of(self, team: dict[str, Any]) -> list[str]:
        return [team["leader_user_id"], *team["member_user_ids"]]


async def publish_round(city: City) -> Round:
    from services.sampling.demo import Q1_PLAN

    admin = city.headers(ADMIN)
    async with city.client() as c:
        body = {
            "code": ROUND,
            "title": "2026年第一季度基层党建专项督查",
            "plan": Q1_PLAN,
            "visit_start_on": VISIT_START.isoformat(),
            "visit_days_per_district": 4,
            "team_count": 5,
            "team_size": 6,
        }
        await ok(await c.post("/api/v1/sampling/rounds", json=body, headers=admin))
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/freeze", headers=admin))
        await ok(
            await c.post(
                f"/api/v1/sampling/rounds/{ROUND}/draws",
                json={"public_value": "2026-03-05 福彩3D 第2026058期 开奖号码 5-2-7"},
                headers=admin,
            )
        )
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/reveal", headers=admin))
        assert await new_messages(city) == {}, "nothing is told before the round is published"
        await ok(await c.post(f"/api/v1/sampling/rounds/{ROUND}/publish", headers=admin))
        page = await ok(
            await c.get(f"/api/v1/sampling/rounds/{ROUND}/assignments", params={"limit": 500}, headers=admin)
        )
        teams = await ok(await c.get(f"/api/v1/sampling/rounds/{ROUND}/teams", headers=admin))
        record = await ok(await c.get(f"/api/v1/sampling/rounds/{ROUND}/draws/1", headers=admin))
        hospitals = await ok(
            await c.get("/api/v1/sampling/sites", params={"subtype": "hospital", "limit": 500}, headers=admin)
        )
    assert page["total"] == len(page["items"])
    return Round(
        page["items"],
        {int(t["id"]): t for t in teams["items"]},
        record,
        {h["code"] for h in hospitals["items"]},
    )


def check_the_draw(rnd: Round) -> None:
    from services.sampling import demo as sampling_demo

    types = Counter(a["site"]["type"] for a in rnd.assignments if not a["follow_up"])
    assert sum(types[t] for t in TOWN_TYPES) == 29
    assert sum(types[t] for t in VILLAGE_TYPES) == 70
    assert sum(types[t] for t in TWO_NEW_TYPES) == 22
    assert sum(1 for a in rnd.assignments if a["site"]["code"] in rnd.hospitals) == 1
    assert types["district"] + types["zone"] == 16
    assert rnd.record["algorithm"] == "sampling-draw/2"
    strata: Counter[str] = Counter()
    for st in rnd.record["result"]["strata"]:
        strata[st["key"].split(":", 1)[1]] += st["count"]
    assert strata["town_street"] == 29 and strata["village_community"] == 70 and strata["two_new"] == 22
    assert strata["institution.hospital"] == 1
    towns_by_district = Counter(
        a["site"]["district"] for a in rnd.assignments if a["site"]["type"] in TOWN_TYPES
    )
    assert set(towns_by_district) == set(sampling_demo.DISTRICTS), (
        "a town or street in every district and zone"
    )
    assert len(rnd.teams) == 5 and all(5 <= len(rnd.people_of(t)) <= 7 for t in rnd.teams.values())


def check_the_visits(rnd: Round, cap: int) -> None:
    from services.kit.workdays import WorkCalendar

    cal = WorkCalendar()
    per_team_day: Counter[tuple[int, str]] = Counter()
    for a in rnd.assignments:
        day = date.fromisoformat(a["visit_on"])
        assert cal.is_workday(day)[0], f"{a['site']['name']} visited on {day}, not a working day"
        assert date.fromisoformat(a["visit_from"]) <= day <= date.fromisoformat(a["visit_to"])
        per_team_day[(int(a["team"]["id"]), a["visit_on"])] += 1
    assert max(per_team_day.values()) <= cap


async def test_the_articles_q1_round(city: City) -> None:
    rnd = await publish_round(city)
    check_the_draw(rnd)
    check_the_visits(rnd, cap=Q1_CAP)

    # Published: every team's people learn their own visits, every district's admins that a visit comes.
    msgs = await new_messages(city)
    expected: Counter[tuple[str, str]] = Counter()
    for team in rnd.teams.values():
        for u in rnd.people_of(team):
            expected[(u, "sampling.round.published")] += 1
    districts = {a["site"]["district"] for a in rnd.assignments}
    for d in districts:
        expected[(f"u-{d}-admin", "sampling.round.published")] += 1
    assert by_type(msgs) == expected
    for team in rnd.teams.values():
        [m] = msgs[team["leader_user_id"]]
        assert_readable(m)
        visits = [a for a in rnd.assignments if int(a["team"]["id"]) == int(team["id"])]
        for a in visits:
            assert a["site"]["name"] in m["body"], (a["site"]["name"], m["body"])
            assert cn_date(date.fromisoformat(a["visit_on"])) in m["body"] or a["visit_on"] in m["body"]
    [dm] = msgs["u-yinzhou-admin"]
    assert_readable(dm)
    assert ROUND in text(dm) and not any(a["site"]["name"] in dm["body"] for a in rnd.assignments)

    # The team's visit calendar, as JSON and iCal, says the same as the message.
    await check_calendars(city, rnd)

    # The evening before the first visit day, each team visiting that day hears of tomorrow's sites.
    first = min(date.fromisoformat(a["visit_on"]) for a in rnd.assignments)
    await set_clocks(
        city,
        datetime.combine(first - timedelta(days=1), datetime.min.time(), BEIJING).replace(hour=17, minute=50),
    )
    assert await new_messages(city) == {}, "nothing before 18:00"
    await set_clocks(
        city,
        datetime.combine(first - timedelta(days=1), datetime.min.time(), BEIJING).replace(hour=18, minute=1),
    )
    msgs = await new_messages(city)
    teams_first_day = {int(a["team"]["id"]) for a in rnd.assignments if a["visit_on"] == first.isoformat()}
    assert by_type(msgs) == Counter(
        {(u, "sampling.visit.upcoming"): 1 for t in teams_first_day for u in rnd.people_of(rnd.teams[t])}
    )
    for t in teams_first_day:
        [m] = msgs[rnd.teams[t]["leader_user_id"]]
        assert_readable(m)
        assert "明日" in text(m) and cn_date(first) in text(m)
        number = rnd.teams[t]["number"]
        assert f"/api/v1/sampling/rounds/{ROUND}/teams/{number}/visits" in text(m), (
            "a link to the team's calendar"
        )
        for a in rnd.assignments:
            if a["visit_on"] == first.isoformat() and int(a["team"]["id"]) == t:
                assert a["site"]["name"] in m["body"]

    # Visit day: a village sheet is scored with two findings, returned, resubmitted without ids, locked.
    await set_clocks(city, datetime.combine(first, datetime.min.time(), BEIJING).replace(hour=15))
    village = next(
        a
        for a in rnd.assignments
        if a["visit_on"] == first.isoformat() and a["site"]["type"] in VILLAGE_TYPES
    )
    _sheet, problems = await score_return_resubmit_lock(city, rnd, village)

    # Rectification of the two problems, then a duplicate entered by hand and merged, one withdrawn.
    await rectify(city, rnd, village, problems)

    # Results: refused while incomplete, published by override with a reason, read back identical.
    await publish_results(city, rnd)

    # Reporting: the dashboard agrees with what the producers hold; a 专报 is drafted, reviewed and
    # issued, its leaders hear of it in Chinese, and its files read back.
    await check_reporting(city, rnd)


# ------------------------------------------------------------------------------------------ scoring


def full_marks(sheet: dict[str, Any], deductions: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Every applicable item scored in full, but for the given deductions; the poll answered."""
    from services.scoring.rubric import RubricDefinition, default_definition

    definition = RubricDefinition.model_validate(default_definition())
    items = []
    for _section, it in definition.applicable_items(sheet["site"]["type"]):
        body: dict[str, Any] = {"item_code": it.code, "methods": list(it.methods)}
        if it.scoring_type == "deduction":
            body["deductions"] = deductions.get(it.code, [])
        elif it.scoring_type == "graded":
            body["grade"] = "好"
        elif it.scoring_type == "check":
            body["met"] = True
        elif it.scoring_type == "rate" and not it.source:
            body["rate"] = 1.0
        items.append(body)
    poll = {
        g: {"satisfied": 30, "basically_satisfied": 5, "dissatisfied": 0}
        for g in ("party_member", "resident")
    }
    return {"items": items, "poll": poll}


FINDINGS = {
    "C03": [
        {
            "points": 1,
            "reason": "“三会一课”记录不全，近三个月缺少支委会记录",
            "finding": {
                "category": "组织生活",
                "severity": "serious",
                "level": "village_community",
                "concerns": "{site}",
            },
        }
    ],
    "C08": [
        {
            "points": 0.5,
            "reason": "党费收缴台账不规范",
            "finding": {
                "category": "党员管理",
                "severity": "general",
                "level": "village_community",
                "concerns": "{site}",
            },
        }
    ],
}


def findings_for(site_name: str) -> dict[str, list[dict[str, Any]]]:
    return {
        code: [{**d, "finding": {**d["finding"], "concerns": site_name}} for d in ds]
        for code, ds in FINDINGS.items()
    }


async def score_return_resubmit_lock(
    city: City, rnd: Round, a: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    team = rnd.team_of(a)
    leader, author = team["leader_user_id"], team["member_user_ids"][0]
    district_admin = f"u-{a['site']['district']}-admin"
    site_name = a["site"]["name"]
    async with city.client() as c:
        r = await c.post(
            f"/api/v1/scoring/rounds/{ROUND}/sheets",
            json={"site_code": a["site"]["code"]},
            headers=city.headers(author),
        )
        sheet = await ok(r, 201)
        sid = sheet["id"]
        r = await c.patch(
            f"/api/v1/scoring/sheets/{sid}",
            json=full_marks(sheet, findings_for(site_name)),
            headers={**city.headers(author), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        r = await c.post(
            f"/api/v1/scoring/sheets/{sid}/submit",
            headers={**city.headers(author), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        msgs = await new_messages(city)
        assert by_type(msgs) == Counter({(leader, "scoring.sheet.submitted"): 1})
        [m] = msgs[leader]
        assert_readable(m)
        assert site_name in text(m) and "审核" in text(m)
        async with city.client() as c2:
            problems = await ok(
                await c2.get(
                    "/api/v1/rectification/problems", params={"sheet_id": sid}, headers=city.headers(ADMIN)
                )
            )
        assert problems["total"] == 0, "findings bind at lock, not at submit"

        # The leader sends it back; the author hears why.
        reason = "扣分依据需补充原始记录照片"
        r = await c.post(
            f"/api/v1/scoring/sheets/{sid}/return",
            json={"reason": reason},
            headers={**city.headers(leader), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        msgs = await new_messages(city)
        assert by_type(msgs) == Counter({(author, "scoring.sheet.returned"): 1})
        [m] = msgs[author]
        assert_readable(m)
        assert reason in text(m) and site_name in text(m)

        # Re-sent without their ids (as a client that rebuilds the list would), resubmitted, reviewed, locked.
        r = await c.patch(
            f"/api/v1/scoring/sheets/{sid}",
            json=full_marks(sheet, findings_for(site_name)),
            headers={**city.headers(author), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        r = await c.post(
            f"/api/v1/scoring/sheets/{sid}/submit",
            headers={**city.headers(author), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        r = await c.post(
            f"/api/v1/scoring/sheets/{sid}/review",
            headers={**city.headers(leader), "If-Match": r.headers["etag"]},
        )
        await ok(r)
        msgs = await new_messages(city)
        assert by_type(msgs) == Counter({(leader, "scoring.sheet.submitted"): 1})
        r = await c.post(
            f"/api/v1/scoring/sheets/{sid}/lock",
            headers={**city.headers(ADMIN), "If-Match": r.headers["etag"]},
        )
        sheet = await ok(r)
        assert sheet["status"] == "locked"

    msgs = await new_messages(city)
    # Locked: the leader and the district's admins; each finding became exactly one problem, told to
    # the district's admins (nobody is responsible yet).
    assert by_type(msgs) == Counter(
        {
            (leader, "scoring.sheet.locked"): 1,
            (district_admin, "scoring.sheet.locked"): 1,
            (district_admin, "rectification.problem.created"): 2,
        }
    )
    for m in msgs[district_admin]:
        assert_readable(m)
        assert site_name in text(m)
    created = sorted(
        text(m) for m in msgs[district_admin] if m["event_type"] == "rectification.problem.created"
    )
    assert any("三会一课" in t and "较重" in t for t in created) and any("党费" in t for t in created)
    async with city.client() as c:
        problems = await ok(
            await c.get(
                "/api/v1/rectification/problems", params={"sheet_id": sid}, headers=city.headers(ADMIN)
            )
        )
    assert problems["total"] == 2, "one problem per finding, however often the sheet went back"
    return sheet, sorted(problems["items"], key=lambda p: p["item_code"])


# ------------------------------------------------------------------------------------ rectification

EVIDENCE_NOTE = "近三个月支委会记录"


async def step(
    city: City, expected: dict[tuple[str, str], int], *, contains: dict[str, list[str]]
) -> dict[str, list[dict[str, Any]]]:
    """The messages since the last step are exactly `expected`; each recipient's text contains `contains`.

    Waits (bounded) until the expected ones are there (a scheduler's tick may still be due), then until
    everything is quiet, so that a message too many is seen as well.
    """
    msgs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        for user_id, fresh in (await new_messages(city)).items():
            msgs[user_id] += fresh
        have = by_type(msgs)
        if all(have[k] >= n for k, n in expected.items()) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)  # polling a condition, bounded by SETTLE_TIMEOUT
    for user_id, fresh in (await new_messages(city)).items():
        msgs[user_id] += fresh
    msgs = dict(msgs)
    assert by_type(msgs) == Counter(expected), {u: [m["event_type"] for m in ms] for u, ms in msgs.items()}
    for user_id, needles in contains.items():
        for m in msgs[user_id]:
            assert_readable(m)
        joined = "\n".join(text(m) for m in msgs[user_id])
        for needle in needles:
            assert needle in joined, (needle, joined)
    return msgs


async def rectify(city: City, rnd: Round, a: dict[str, Any], problems: list[dict[str, Any]]) -> None:
    district = a["site"]["district"]
    district_admin, responsible = f"u-{district}-admin", f"u-{district}-responsible"
    site_name = a["site"]["name"]
    first, second = problems  # C03 (较重) and C08
    issuer = first["issued_by"]
    dadmin, radmin = city.headers(district_admin), city.headers(responsible)
    p1 = f"/api/v1/rectification/problems/{first['id']}"
    async with city.client() as c:
        # Assigned: the person learns the task, the title, the site and the deadline in Beijing.
        await ok(
            await c.post(
                f"{p1}/assign", json={"responsible_person": {"user_id": responsible}}, headers=dadmin
            )
        )
        msgs = await step(
            city,
            {(responsible, "rectification.problem.assigned"): 1},
            contains={responsible: [site_name, first["title"], "整改责任人"]},
        )
        deadline = date.fromisoformat(first["deadline_on"]) if first.get("deadline_on") else None
        if deadline:
            assert deadline.isoformat() in text(msgs[responsible][0])

        # An extension is asked for: whoever decides hears of it; the decision goes back to the asker.
        await ok(
            await c.post(
                f"{p1}/start", json={"plan": "一周内补齐支部委员会会议记录，由支部书记负责"}, headers=radmin
            )
        )
        new_day = (deadline or date(2026, 4, 30)) + timedelta(days=14)
        r = await c.post(
            f"{p1}/extensions",
            json={"reason": "需等待上级批复经费", "new_deadline_on": new_day.isoformat()},
            headers=radmin,
        )
        ext = await ok(r, 201)
        await step(
            city,
            {
                (issuer, "rectification.extension.requested"): 1,
                (ADMIN, "rectification.extension.requested"): 1,
            },
            contains={ADMIN: ["需等待上级批复经费", "延期", site_name]},
        )
        await ok(
            await c.post(
                f"{p1}/extensions/{ext['id']}/decision",
                json={"approve": True, "note": "同意"},
                headers=city.headers(ADMIN),
            )
        )
        await step(
            city,
            {(responsible, "rectification.extension.decided"): 1},
            contains={responsible: ["已批准"]},
        )

        # A duplicate entered by hand, then merged into the first; the second withdrawn as mistaken.
        manual = await ok(
            await c.post(
                "/api/v1/rectification/problems",
                json={
                    "site": {"code": a["site"]["code"]},
                    "round_code": ROUND,
                    "level": "village_community",
                    "category": "组织生活",
                    "severity": "serious",
                    "description": "支委会记录缺失（与督查组发现重复）",
                },
                headers=dadmin,
            ),
            201,
        )
        assert manual["site"]["name"] == site_name, "the site's name comes from sampling's directory"
        await step(
            city,
            {(district_admin, "rectification.problem.created"): 1},
            contains={district_admin: [site_name]},
        )
        await ok(
            await c.post(
                f"/api/v1/rectification/problems/{manual['id']}/merge",
                json={"into": first["id"], "reason": "与督查组发现的问题重复"},
                headers=dadmin,
            )
        )
        await step(
            city,
            {(district_admin, "rectification.problem.merged"): 1},
            contains={district_admin: ["合并", first["title"]]},
        )
        await ok(
            await c.post(
                f"/api/v1/rectification/problems/{second['id']}/withdraw",
                json={"reason": "扣分已在复核中撤销"},
                headers=city.headers(ADMIN),
            )
        )
        await step(
            city,
            {(district_admin, "rectification.problem.withdrawn"): 1},
            contains={district_admin: ["撤销", "扣分已在复核中撤销", second["title"]]},
        )

        # The countdown: at the next reminder moment of the one live problem, its responsible person
        # hears which milestone falls due when (Beijing date) and how many days are left; the withdrawn
        # and merged problems remind nobody.
        await remind(city, rnd, first["id"], responsible, site_name)

        # 销号: submitted (the verifiers hear), returned (the responsible hears why), resubmitted, closed.
        # The responsible person uploads the evidence to the evidence service, then names it by id.
        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        uploaded = await ok(
            await c.post(
                "/api/v1/evidence/files",
                files={"file": ("支委会记录补正.pdf", pdf, "application/pdf")},
                data={"purpose": "problem", "ref": str(first["id"]), "org_unit": first["site"]["org_unit"]},
                headers=radmin,
            )
        )
        assert uploaded["kind"] == "pdf" and uploaded["name"] == "支委会记录补正.pdf"
        body = {
            "note": "已补齐近三个月支委会记录",
            "evidence": [{"file_id": uploaded["id"], "note": EVIDENCE_NOTE}],
        }
        await ok(await c.post(f"{p1}/submit", json=body, headers=radmin))
        await step(
            city,
            {
                (issuer, "rectification.problem.submitted"): 1,
                (district_admin, "rectification.problem.submitted"): 1,
            },
            contains={district_admin: ["核查", site_name]},
        )
        await ok(await c.post(f"{p1}/return", json={"reason": "佐证材料不足"}, headers=dadmin))
        await step(
            city,
            {(responsible, "rectification.problem.returned"): 1},
            contains={responsible: ["佐证材料不足"]},
        )
        await ok(await c.post(f"{p1}/submit", json=body, headers=radmin))
        await step(
            city,
            {
                (issuer, "rectification.problem.submitted"): 1,
                (district_admin, "rectification.problem.submitted"): 1,
            },
            contains={},
        )
        await ok(await c.post(f"{p1}/close", json={"note": "经核查已整改到位"}, headers=dadmin))
        await step(
            city,
            {
                (responsible, "rectification.problem.closed"): 1,
                (district_admin, "rectification.problem.closed"): 1,
            },
            contains={responsible: ["销号", first["title"]]},
        )


def upcoming_between(rnd: Round, start: datetime, end: datetime) -> Counter[tuple[str, str]]:
    """The evening-before messages due in (start, end]: one per person per team visit day."""
    out: Counter[tuple[str, str]] = Counter()
    days = {(int(a["team"]["id"]), date.fromisoformat(a["visit_on"])) for a in rnd.assignments}
    for team_id, day in days:
        eve = datetime.combine(day - timedelta(days=1), datetime.min.time(), BEIJING).replace(hour=18)
        if start < eve <= end:
            for u in rnd.people_of(rnd.teams[team_id]):
                out[(u, "sampling.visit.upcoming")] += 1
    return out


async def remind(city: City, rnd: Round, problem_id: int, responsible: str, site_name: str) -> None:
    from services.rectification.countdown import REMINDER_TIME

    async with city.client() as c:
        problem = await ok(
            await c.get(f"/api/v1/rectification/problems/{problem_id}", headers=city.headers(ADMIN))
        )
    now = city.now()
    moments: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for m in problem["milestones"]:
        if m["done_at"] or m["kind"] == "verification":
            continue
        due_on = date.fromisoformat(m["due_on"])
        for offset in (7, 3, 1):
            at = datetime.combine(due_on - timedelta(days=offset), REMINDER_TIME, BEIJING)
            if at > now:
                moments[at].append({**m, "days_left": offset})
        moments[datetime.fromisoformat(m["due_at"])].append({**m, "days_left": 0})
    at = min(moments)
    assert all(m["days_left"] > 0 for m in moments[at]), "the next moment is a reminder, not a due date"
    await set_clocks(city, at + timedelta(minutes=1))
    # Meanwhile the teams went on visiting: each evening before a visit day, its team heard of it.
    msgs = await step(
        city,
        {
            (responsible, "rectification.milestone.reminder"): len(moments[at]),
            **upcoming_between(rnd, now, at + timedelta(minutes=1)),
        },
        contains={responsible: [site_name, problem["title"]]},
    )
    joined = "\n".join(text(x) for x in msgs[responsible])
    for m in moments[at]:
        assert m["label"] in joined and f"剩余 {m['days_left']} 天" in joined, joined
        assert date.fromisoformat(m["due_on"]).isoformat() in joined, joined


# ------------------------------------------------------------------------------------------ results


async def publish_results(city: City, rnd: Round) -> None:
    from services.sampling import demo as sampling_demo

    admin = city.headers(ADMIN)
    base = f"/api/v1/scoring/rounds/{ROUND}/results"
    async with city.client() as c:
        refused = await c.post(f"{base}/publish", json={}, headers=admin)
        assert refused.status_code == 409 and refused.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert str(len(rnd.assignments) - 1) in refused.json()["detail"], refused.json()
        published = await ok(
            await c.post(
                f"{base}/publish",
                json={"override_reason": "市委专题会议需要阶段性结果（经市委组织部批准）"},
                headers=admin,
            )
        )
        latest = await ok(await c.get(f"{base}/published", headers=admin))
        first = await ok(await c.get(f"{base}/published/versions/1", headers=admin))
        raw = await c.get(f"{base}/published/versions/1/content", headers=admin)
        live = await ok(await c.get(f"/api/v1/scoring/rounds/{ROUND}/rankings/districts", headers=admin))
    # What was published reads back identical: the latest is version 1, its bytes hash to the recorded hash.
    assert latest == first and {k: latest[k] for k in published} == published
    assert published["version"] == 1 and published["override_reason"].startswith("市委专题会议")
    assert raw.status_code == 200 and hashlib.sha256(raw.content).hexdigest() == published["content_sha256"]
    assert json.loads(raw.content) == latest["content"]
    ranked = [row["district"] for row in latest["content"]["districts"]]
    assert sorted(ranked) == sorted(sampling_demo.DISTRICTS), "every district and zone appears, once"
    assert live["provisional"] is True and live["published_version"] == 1
    expected = {(f"u-{d}-admin", "scoring.results.published"): 1 for d in sampling_demo.DISTRICTS}
    expected |= {(ADMIN, "scoring.results.published"): 1, ("u-leader", "scoring.results.published"): 1}
    msgs = await step(city, expected, contains={"u-leader": [ROUND, "第 1 版", "市委专题会议"]})
    unranked = [d for d in latest["content"]["districts"] if d["rank"] is None]
    for d in unranked:
        assert "暂不排名" in text(msgs[f"u-{d['district']}-admin"][0])


# ------------------------------------------------------------------------------------------ reporting


async def paged(
    c: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = await ok(
            await c.get(url, params={**params, "limit": 200, "offset": len(items)}, headers=headers)
        )
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


async def check_reporting(city: City, rnd: Round) -> None:
    """Reporting's read model, fed only by the producers' fact events, says what the producers say."""
    import docx

    from services.sampling import demo as sampling_demo

    admin = city.headers(ADMIN)
    await settle(city)
    async with city.client() as c:
        dash = await ok(await c.get(f"/api/v1/reporting/rounds/{ROUND}/dashboard", headers=admin))
        sheets = await paged(c, f"/api/v1/scoring/rounds/{ROUND}/sheets", admin)
        problems = await paged(c, "/api/v1/rectification/problems", admin, round_code=ROUND)
        yinzhou = await ok(
            await c.get(
                f"/api/v1/reporting/rounds/{ROUND}/dashboard", headers=city.headers("u-yinzhou-admin")
            )
        )
        charts = {
            (name, fmt): await c.get(
                f"/api/v1/reporting/rounds/{ROUND}/dashboard/charts/{name}.{fmt}", headers=admin
            )
            for name in ("coverage", "grades", "ranking", "rectification")
            for fmt in ("svg", "png")
        }
    assert dash["as_of"] is not None and dash["round"]["code"] == ROUND
    # Coverage: every drawn site, the sheets by state, as scoring has them.
    assert dash["coverage"]["drawn"] == len(rnd.assignments)
    states = Counter(s["status"] for s in sheets)
    assert {k: v for k, v in dash["coverage"]["sheets"].items() if v} == dict(states)
    assert dash["scores"]["locked"] == states["locked"] >= 1
    # The ranking is the published one, with Chinese names beside the slugs.
    assert sorted(r["district"] for r in dash["ranking"]) == sorted(sampling_demo.DISTRICTS)
    names = {r["district"]: r["name"] for r in dash["ranking"]}
    assert names["yinzhou"] == "鄞州区" and names["cixi"] == "慈溪市", names
    # The common problems are the locked sheets' deductions; rectification counts rectification's problems.
    assert dash["common_problems"], "the village sheet's deductions"
    counted = [p for p in problems if p["status"] not in ("withdrawn", "merged")]
    assert dash["rectification"]["total"] == len(counted)
    by_state = Counter(p["status"] for p in counted)
    assert {k: v for k, v in dash["rectification"]["by_state"].items() if v} == dict(by_state)
    # A district admin sees their own district's sites only; the published ranking stays whole.
    assert {r["key"] for r in yinzhou["coverage"]["by_district"]} <= {"yinzhou"}
    assert yinzhou["coverage"]["drawn"] == sum(
        1 for a in rnd.assignments if a["site"]["district"] == "yinzhou"
    )
    assert len(yinzhou["ranking"]) == len(dash["ranking"])
    for (name, fmt), r in charts.items():
        assert r.status_code == 200, (name, fmt, r.text[:300])
        assert r.headers["content-type"].startswith("image/svg+xml" if fmt == "svg" else "image/png")
        assert len(r.content) > 1000

    # The 专报: drafted by one city admin, reviewed by another, issued with a number.
    reviewer = city.headers("u-admin-2", roles=["city_admin"], scope="ningbo")
    async with city.client() as c:
        draft = await c.post(f"/api/v1/reporting/rounds/{ROUND}/special-reports", headers=admin)
        report = await ok(draft)
        assert [s_["heading"] for s_ in report["sections"]][:2] == ["一、基本情况", "二、督查覆盖"]
        r = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/submit",
            headers={**admin, "If-Match": draft.headers["ETag"]},
        )
        await ok(r)
        own = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/review",
            json={"decision": "approve"},
            headers={**admin, "If-Match": r.headers["ETag"], "Accept-Language": "zh-CN"},
        )
        assert own.status_code == 403 and "另一位" in own.json()["detail"], own.text
        r = await c.post(
            f"/api/v1/reporting/special-reports/{report['id']}/review",
            json={"decision": "approve"},
            headers={**reviewer, "If-Match": r.headers["ETag"]},
        )
        await ok(r)
        number = f"甬组督〔{city.now().astimezone(BEIJING).year}〕3号"
        issued = await ok(
            await c.post(
                f"/api/v1/reporting/special-reports/{report['id']}/issue",
                json={"doc_number": number},
                headers={**admin, "If-Match": r.headers["ETag"]},
            )
        )
        assert issued["status"] == "issued" and issued["doc_number"] == number
        files = {f["format"]: f for f in issued["files"]}
        got_docx = await c.get(
            f"/api/v1/reporting/special-reports/{report['id']}/document.docx", headers=admin
        )
        got_pdf = await c.get(
            f"/api/v1/reporting/special-reports/{report['id']}/document.pdf", headers=city.headers("u-leader")
        )
        edit = await c.patch(
            f"/api/v1/reporting/special-reports/{report['id']}",
            json={"title": "改"},
            headers={**admin, "If-Match": "*"},
        )
    assert edit.status_code == 409, edit.text
    for fmt, got in (("docx", got_docx), ("pdf", got_pdf)):
        assert got.status_code == 200, got.text[:300]
        assert (
            hashlib.sha256(got.content).hexdigest() == files[fmt]["sha256"] == got.headers["etag"].strip('"')
        )
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(got_docx.content)).paragraphs)
    assert number in body and issued["title"] in body.replace("\n", ""), body[:500]
    pdf_path = city.stack.tmp / "zhuanbao.pdf"
    pdf_path.write_bytes(got_pdf.content)
    done = await asyncio.to_thread(
        subprocess.run, ["pdftotext", str(pdf_path), "-"], capture_output=True, check=True, text=True
    )
    pdf_text = done.stdout
    assert number in pdf_text and "整改" in pdf_text, pdf_text[:500]

    # The city's leaders and admins are told, in Chinese, with the number and the title.
    await step(
        city,
        {(ADMIN, "reporting.special_report.issued"): 1, ("u-leader", "reporting.special_report.issued"): 1},
        contains={"u-leader": [number, "专报"]},
    )


# ------------------------------------------------------------------------------------------ calendars


async def check_calendars(city: City, rnd: Round) -> None:
    import icalendar

    team = next(iter(rnd.teams.values()))
    leader = team["leader_user_id"]
    visits = sorted(
        (a["visit_on"], a["site"]["code"]) for a in rnd.assignments if int(a["team"]["id"]) == int(team["id"])
    )
    async with city.client() as c:
        page = await ok(
            await c.get(
                f"/api/v1/sampling/rounds/{ROUND}/teams/{team['number']}/visits",
                params={"limit": 500},
                headers=city.headers(leader),
            )
        )
        ics = await c.get(
            f"/api/v1/sampling/rounds/{ROUND}/teams/{team['number']}/visits.ics", headers=city.headers(leader)
        )
    assert sorted((v["visit_on"], v["site"]["code"]) for v in page["items"]) == visits
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(ics.content)
    events = [e for e in cal.walk("VEVENT")]
    assert len(events) == len(visits)
    assert {e.decoded("dtstart").isoformat() for e in events} == {v[0] for v in visits}
