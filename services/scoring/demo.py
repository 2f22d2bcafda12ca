"""Demo data: score sheets for the demo round drawn by sampling (``python -m services.scoring.demo``).

Batched: one request to sampling for the round's assignments (every later question about them is
answered from it), one batch per team opening the drafts, then each sheet's lifecycle through the
service's own functions. Idempotent: each sheet is moved only as far as it has not gone yet (a load
interrupted halfway is finished, nothing is done twice), and a sheet holding other scores than the
demo's is left alone. Scores are random but seeded by the site code, so every run on every machine
produces the same sheets: most locked, some returned for rework, a few still with the team, with
deductions and findings; the locked sheets' findings go to rectification through the outbox
(findings bind at lock; the running scoring process relays them, and `make run`'s loader returns once
they are delivered, so rectification's demo finds them all).
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit import orgunit, outbox
from services.kit.auth import Principal
from services.kit.clock import SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.http import make_service_client
from services.kit.migrations import upgrade_to_head
from services.scoring import clients
from services.scoring.config import Settings
from services.scoring.enums import FindingLevel, Grade, Severity, SheetStatus, SiteType
from services.scoring.errors import SamplingUnavailable
from services.scoring.main import MIGRATIONS_DIR
from services.scoring.models import ScoreSheet, outbox_event
from services.scoring.publications import service as publications
from services.scoring.sheets import repository, service
from services.scoring.sheets.schemas import SheetBatchCreate, SheetUpdate

DEMO_ROUND = "2026Q1"
# `make run`'s loader waits this long at most for the findings to reach rectification (its demo
# builds on them), checking this often; the relay itself passes every outbox_poll_seconds (0.5 s).
FINDINGS_WAIT_SECONDS = 120.0
# The demo round is published before every sheet is locked, as a city may for a leaders' meeting;
# the reason is recorded in the published version.
DEMO_PUBLISH_REASON = "演示数据：市委专题会议需要阶段性结果"
DEMO_PUBLISHER = "u-admin"
FINDINGS_CHECK_SECONDS = 0.1
SHEETS_PER_TRANSACTION = 25

REASONS = {
    "A": ["书记抓党建述职评议问题清单未建立", "专题研究基层党建会议记录不全", "村级组织运转经费未足额拨付"],
    "B": ["党建办与其他科室混岗", "后进支部整顿方案未落实", "流动党员底数不清", "党建台账事后补记"],
    "C": [
        "“三会一课”记录不全",
        "主题党日活动内容单一",
        "党费收缴台账不规范",
        "党员积分未公示",
        "换届资料归档不全",
    ],
    "D": ["网格党小组未实际运转", "矛盾纠纷排查台账缺失", "联户党员走访记录不实", "志愿服务活动记录不全"],
}
CATEGORIES = {"A": "主体责任", "B": "直接责任", "C": "组织建设", "D": "社会治理"}
GRADES = list(Grade)
LIFECYCLE = [
    SheetStatus.LOCKED,
    SheetStatus.RETURNED,
    SheetStatus.REVIEWED,
    SheetStatus.SUBMITTED,
    SheetStatus.DRAFT,
]


def _scores(rng: random.Random, definition: Any, site_type: str, site_name: str) -> dict[str, Any]:
    items = []
    for section, it in definition.applicable_items(site_type):
        body: dict[str, Any] = {"item_code": it.code, "methods": it.methods, "notes": ""}
        if it.scoring_type == "deduction":
            deductions = []
            if rng.random() < 0.35:
                points = min(it.points, rng.choice([0.5, 1, 1, 2, 3]))
                d: dict[str, Any] = {"points": points, "reason": rng.choice(REASONS[section.code])}
                if rng.random() < 0.5:
                    d["finding"] = {
                        "category": CATEGORIES[section.code],
                        "severity": rng.choices(list(Severity), [70, 25, 5])[0],
                        "level": FindingLevel.VILLAGE_COMMUNITY
                        if site_type in (SiteType.VILLAGE, SiteType.COMMUNITY)
                        else FindingLevel.UNIT,
                        "concerns": site_name,
                    }
                deductions.append(d)
            body["deductions"] = deductions
            if it.veto and rng.random() < 0.03:
                body["veto_triggered"] = True
        elif it.scoring_type == "graded":
            body["grade"] = rng.choices(GRADES, [50, 32, 14, 4])[0]
        elif it.scoring_type == "check":
            body["met"] = rng.random() < 0.9
        elif it.scoring_type == "rate" and not it.source:
            body["rate"] = round(rng.uniform(0.7, 1.0), 2)
        items.append(body)
    poll = {}
    for group, (lo, hi) in {"party_member": (20, 40), "resident": (30, 60)}.items():
        n = rng.randint(lo, hi)
        satisfied = int(n * rng.uniform(0.7, 0.92))
        basic = int((n - satisfied) * rng.uniform(0.5, 0.9))
        poll[group] = {
            "satisfied": satisfied,
            "basically_satisfied": basic,
            "dissatisfied": n - satisfied - basic,
        }
    return {"items": items, "poll": poll}


def _target(rng: random.Random) -> SheetStatus:
    return rng.choices(LIFECYCLE, [75, 10, 6, 5, 4])[0]


class _Listed(httpx.AsyncBaseTransport):
    """Sampling's answers about the round, from the one listing the loader read.

    Opening a team's sheets lists the round's assignments and every submit asks again whether its
    site is still assigned; both are answered here, so the whole load costs sampling one listing
    instead of a request per sheet. Nothing else is answered: any other request is a bug (404).
    """

    def __init__(self, round_code: str, assignments: list[clients.Assignment]) -> None:
        self.round_code = round_code
        self.items = [a.model_dump(mode="json") for a in assignments]
        self.by_site = {a.site.code: item for a, item in zip(assignments, self.items, strict=True)}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if request.method == "GET" and parts[:3] == ["internal", "rounds", self.round_code]:
            if parts[3:] == ["assignments"]:
                offset = int(request.url.params.get("offset", 0))
                limit = int(request.url.params.get("limit", 50))
                page = self.items[offset : offset + limit]
                return httpx.Response(
                    200, json={"items": page, "total": len(self.items), "limit": limit, "offset": offset}
                )
            if len(parts) == 5 and parts[3] == "assignments" and parts[4] in self.by_site:
                return httpx.Response(200, json=self.by_site[parts[4]])
        return httpx.Response(404, json={"status": 404, "detail": "not in the demo's listing"})


def _author(a: clients.Assignment) -> str:
    """Who opens and fills a team's sheets: its first member (the leader of a team without members)."""
    return (a.team.member_user_ids or [a.team.leader_user_id])[0]


async def _open_drafts(
    sessionmaker: Any,
    listed: httpx.AsyncClient,
    settings: Settings,
    round_code: str,
    assignments: list[clients.Assignment],
    clock: SystemClock,
) -> int:
    """Open every missing draft, one batch per team (its first member opens them); returns how many."""
    teams: dict[str, clients.Assignment] = {}
    for a in assignments:
        teams.setdefault(a.team.id, a)
    opened = 0
    for team_id, a in sorted(teams.items()):
        inspector = Principal(sub=_author(a), roles=("inspector",), scope="ningbo", name="demo")
        async with sessionmaker() as session, session.begin():
            result = await service.create_sheets_batch(
                session,
                http=listed,
                sampling_url=settings.sampling_url,
                round_code=round_code,
                batch=SheetBatchCreate(team_id=team_id),
                principal=inspector,
                now=clock.now(),
            )
        opened += len(result.created)
    return opened


async def _advance(
    session: Any,
    http: httpx.AsyncClient,
    settings: Settings,
    sheet: ScoreSheet,
    a: clients.Assignment,
    clock: SystemClock,
) -> SheetStatus | None:
    """Move the demo sheet from wherever it stands to its seeded target; its target, or None when the
    sheet holds other scores than the demo's (somebody else's work: left alone).

    Every step is the service's own (history, events, findings at lock), each taken only if the sheet
    has not taken it yet: a load interrupted after the drafts were opened, or between sheets, is
    finished by the next run and nothing is done twice.
    """
    rng = random.Random(f"{a.round_code}/{a.site.code}")
    inspector = Principal(sub=_author(a), roles=("inspector",), scope="ningbo", name="demo")
    leader = Principal(sub=a.team.leader_user_id, roles=("team_leader",), scope="ningbo", name="demo")
    admin = Principal(sub="u-city-admin", roles=("city_admin",), scope="ningbo", name="demo")
    _, definition, _ = await service.load_sheet_context(session, sheet)
    update = SheetUpdate.model_validate(_scores(rng, definition, a.site.type, a.site.name))
    target = _target(rng)
    if sheet.status == SheetStatus.DRAFT and sheet.version == 1:  # as opened: nobody has scored it
        await service.update_sheet(
            session,
            sheet=sheet,
            update=update,
            principal=inspector,
            if_match=service.etag_of(sheet),
            now=clock.now(),
        )
    elif sheet.poll != {g: c.model_dump() for g, c in (update.poll or {}).items()}:
        return None
    if target == SheetStatus.DRAFT:
        return target
    if sheet.status == SheetStatus.DRAFT:
        await service.submit_sheet(
            session,
            sheet=sheet,
            principal=inspector,
            if_match=service.etag_of(sheet),
            now=clock.now(),
            http=http,
            sampling_url=settings.sampling_url,
        )
    if target == SheetStatus.RETURNED:
        if sheet.status == SheetStatus.SUBMITTED:
            await service.return_sheet(
                session,
                sheet=sheet,
                reason="扣分依据需补充原始记录照片",
                principal=leader,
                if_match=service.etag_of(sheet),
                now=clock.now(),
            )
        return target
    if target == SheetStatus.SUBMITTED:
        return target
    if sheet.status == SheetStatus.SUBMITTED:
        await service.review_sheet(
            session, sheet=sheet, principal=leader, if_match=service.etag_of(sheet), now=clock.now()
        )
    if target == SheetStatus.LOCKED and sheet.status == SheetStatus.REVIEWED:
        await service.lock_sheet(
            session, sheet=sheet, principal=admin, if_match=service.etag_of(sheet), now=clock.now()
        )
    return target


async def wait_for_findings(engine: AsyncEngine, *, timeout: float) -> int:
    """Wait (checking every 0.1 s, up to `timeout`) until the running scoring process has handed
    every finding to rectification; returns how many are still waiting (0 once all are delivered).

    Rectification's demo builds on the findings that arrived, so the loaders after this one find
    them all, however fast they start, instead of racing the relay.
    """
    t = outbox_event
    pending = (
        select(func.count()).select_from(t).where(t.c.target == "rectification", t.c.status == outbox.PENDING)
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with engine.connect() as conn:
            left = int((await conn.execute(pending)).scalar_one())
        if left == 0 or loop.time() >= deadline:
            return left
        await asyncio.sleep(FINDINGS_CHECK_SECONDS)


async def run(
    settings: Settings,
    *,
    round_code: str = DEMO_ROUND,
    transport: httpx.AsyncBaseTransport | None = None,
    wait_delivered: float = 0.0,
) -> int:
    """Create the demo sheets; returns the process exit code.

    One request to sampling (the round's assignments), one batch per team opening the drafts, then
    each sheet's lifecycle in its own transaction. With `wait_delivered` > 0, it returns only once the
    running scoring process has relayed the findings to rectification (or that many seconds passed).
    """
    engine = make_engine(settings.database_url)
    http = make_service_client(
        service="scoring", secret=settings.principal_secret.get_secret_value(), transport=transport
    )
    listed: httpx.AsyncClient | None = None
    clock = SystemClock()
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        try:
            assignments = await clients.list_assignments(http, settings.sampling_url, round_code=round_code)
        except SamplingUnavailable as exc:
            print(f"scoring demo: {exc.detail}", file=sys.stderr)
            return 1
        if assignments is None:
            print(f"scoring demo: sampling has no round {round_code}; no demo sheets created")
            return 0
        listed = httpx.AsyncClient(transport=_Listed(round_code, assignments))
        sessionmaker = make_sessionmaker(engine)
        opened = await _open_drafts(sessionmaker, listed, settings, round_code, assignments, clock)
        made: dict[str, int] = {}
        # A transaction per SHEETS_PER_TRANSACTION sheets: the rubric and the sheets are read once
        # for all of them, and the running scoring process relays what each committed in between.
        for start in range(0, len(assignments), SHEETS_PER_TRANSACTION):
            chunk = assignments[start : start + SHEETS_PER_TRANSACTION]
            async with sessionmaker() as session, session.begin():
                sheets = {
                    s.site_code: s
                    for s in await repository.find_sheets(
                        session, round_code=round_code, site_codes=[a.site.code for a in chunk]
                    )
                }
                for a in chunk:
                    sheet = sheets[a.site.code]
                    before = (sheet.status, sheet.version)
                    target = await _advance(session, listed, settings, sheet, a, clock)
                    if target is not None and (sheet.status, sheet.version) != before:
                        made[target] = made.get(target, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(made.items())) or "none"
        moved = sum(made.values())
        print(
            f"scoring demo: round {round_code}: created {opened} sheets, brought {moved} to their demo state "
            f"({summary}); {len(assignments) - moved} already there"
        )
        # The round's results, published by the demo's city admin with a reason (not every sheet is
        # locked): the districts and the city's leaders hear of them, and reporting gets its ranking.
        # Publishing what is already the latest version publishes nothing again.
        async with sessionmaker() as session, session.begin():
            publication = await publications.publish_results(
                session,
                round_code=round_code,
                override_reason=DEMO_PUBLISH_REASON,
                principal=Principal(sub=DEMO_PUBLISHER, roles=("city_admin",), scope=orgunit.city_root()),
                http=listed,
                sampling_url=settings.sampling_url,
                now=clock.now(),
            )
        what = "published" if publication.created else "already published"
        print(f"scoring demo: round {round_code}: results {what} (version {publication.version.version})")
        if wait_delivered > 0:
            left = await wait_for_findings(engine, timeout=wait_delivered)
            if left:
                print(
                    f"scoring demo: {left} finding(s) not yet delivered to rectification after "
                    f"{wait_delivered:.0f} s; the relay keeps trying",
                    file=sys.stderr,
                )
        return 0
    finally:
        if listed is not None:
            await listed.aclose()
        await http.aclose()
        await engine.dispose()


def main() -> None:
    sys.exit(asyncio.run(run(Settings(), wait_delivered=FINDINGS_WAIT_SECONDS)))


if __name__ == "__main__":
    main()
