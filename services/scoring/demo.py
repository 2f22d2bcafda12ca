"""Demo data: score sheets for the demo round drawn by sampling (``python -m services.scoring.demo``).

Idempotent: sites that already have a sheet are left alone. Scores are random but seeded by the site
code, so every run on every machine produces the same sheets: most locked, some returned for
rework, a few still with the team, with deductions and findings; the locked sheets' findings go to
rectification through the outbox (findings bind at lock; the running scoring process relays them).
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

import httpx

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
from services.scoring.sheets import repository, service
from services.scoring.sheets.schemas import SheetUpdate

DEMO_ROUND = "2026Q1"

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


async def _one(
    session: Any, http: httpx.AsyncClient, settings: Settings, a: clients.Assignment, clock: SystemClock
) -> str:
    rng = random.Random(f"{a.round_code}/{a.site.code}")
    author = (a.team.member_user_ids or [a.team.leader_user_id])[0]
    inspector = Principal(sub=author, roles=("inspector",), scope="ningbo", name="demo")
    leader = Principal(sub=a.team.leader_user_id, roles=("team_leader",), scope="ningbo", name="demo")
    admin = Principal(sub="u-city-admin", roles=("city_admin",), scope="ningbo", name="demo")
    sheet = await service.create_sheet(
        session,
        http=http,
        sampling_url=settings.sampling_url,
        round_code=a.round_code,
        site_code=a.site.code,
        principal=inspector,
        now=clock.now(),
        assignment=a,
    )
    _, definition, _ = await service.load_sheet_context(session, sheet)
    update = SheetUpdate.model_validate(_scores(rng, definition, a.site.type, a.site.name))
    await service.update_sheet(
        session,
        sheet=sheet,
        update=update,
        principal=inspector,
        if_match=service.etag_of(sheet),
        now=clock.now(),
    )
    target = _target(rng)
    if target == SheetStatus.DRAFT:
        return target
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
    await service.review_sheet(
        session, sheet=sheet, principal=leader, if_match=service.etag_of(sheet), now=clock.now()
    )
    if target == SheetStatus.LOCKED:
        await service.lock_sheet(
            session, sheet=sheet, principal=admin, if_match=service.etag_of(sheet), now=clock.now()
        )
    return target


async def run(
    settings: Settings, *, round_code: str = DEMO_ROUND, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    """Create the demo sheets; returns the process exit code."""
    engine = make_engine(settings.database_url)
    http = make_service_client(
        service="scoring", secret=settings.principal_secret.get_secret_value(), transport=transport
    )
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
        made: dict[str, int] = {}
        skipped = 0
        sessionmaker = make_sessionmaker(engine)
        for a in assignments:
            async with sessionmaker() as session, session.begin():
                if (
                    await repository.find_sheet(session, round_code=a.round_code, site_code=a.site.code)
                    is not None
                ):
                    skipped += 1
                    continue
                status = await _one(session, http, settings, a, clock)
                made[status] = made.get(status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(made.items())) or "none"
        print(
            f"scoring demo: round {round_code}: created {sum(made.values())} sheets ({summary}); {skipped} already there"
        )
        return 0
    finally:
        await http.aclose()
        await engine.dispose()


def main() -> None:
    sys.exit(asyncio.run(run(Settings())))


if __name__ == "__main__":
    main()
