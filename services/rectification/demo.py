"""Demo data: ``python -m services.rectification.demo`` (idempotent).

Problems in every state (open, in progress, submitted, returned, closed on time and late) and every
light (green, yellow, red, overdue), entered as they would have been over the past weeks: each
scenario runs the real service functions with the clock set back, then its timers are rescheduled
from now (so no backlog of old reminders fires). Problems that arrived from the demo round's
findings (scoring → POST /findings) are given responsible people and moved along too: the
first six of the demo round, the same six on every run, and nothing outside the demo.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.kit.auth import Principal
from services.kit.clock import SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.migrations import upgrade_to_head
from services.kit.workdays import local_date
from services.rectification import events
from services.rectification.clients import (
    DirectoryPerson,
    DirectorySite,
    EvidenceFile,
    FixedDirectory,
    FixedEvidence,
)
from services.rectification.config import Settings
from services.rectification.deadlines import service as deadlines
from services.rectification.deadlines.policy import Policy, policy_from
from services.rectification.enums import Level, Severity, SiteType
from services.rectification.extensions import service as extensions
from services.rectification.extensions.schemas import ExtensionCreate
from services.rectification.findings.schemas import SiteRef
from services.rectification.main import MIGRATIONS_DIR
from services.rectification.problems import repository, service
from services.rectification.problems.schemas import (
    AssignBatchIn,
    AssignBatchItem,
    EvidenceIn,
    PersonIn,
    ProblemCreate,
    SiteIn,
)

# The demo city admin of notify's directory (`u-admin`): messages to the issuer (a problem submitted
# for 销号) reach a real person, not an identity notify does not know.
CITY = Principal(sub="u-admin", roles=("city_admin",), scope="ningbo", name="市委组织部督查科")
EVIDENCE = [EvidenceIn(file_id="demo-evidence-1", note="演示数据")]
# The demo's evidence file as the evidence service would describe it (no unit: any demo person may name it).
FILES = FixedEvidence(
    known={
        "demo-evidence-1": EvidenceFile(
            id="demo-evidence-1",
            sha256="9f2c" * 16,
            name="整改佐证.pdf",
            media_type="application/pdf",
            kind="pdf",
        )
    }
)

SITES = {
    "tiantong": SiteRef(
        code="330212105201",
        name="天童村",
        type="village",
        org_unit="ningbo/yinzhou/dongwu/tiantong",
        district="yinzhou",
    ),
    "yuehu": SiteRef(
        code="330203002001",
        name="月湖社区",
        type="community",
        org_unit="ningbo/haishu/yuehu/yuehu",
        district="haishu",
    ),
    "zhenhai_firm": SiteRef(
        code="330211900012",
        name="宁波某新材料有限公司",
        type="enterprise",
        org_unit="ningbo/zhenhai/zhaobaoshan/xcl",
        district="zhenhai",
    ),
}
PEOPLE = {
    "tiantong": DirectoryPerson(
        user_id="u-zhang-wei", name="张伟", org_unit="ningbo/yinzhou/dongwu/tiantong"
    ),
    "yuehu": DirectoryPerson(user_id="u-chen-jing", name="陈静", org_unit="ningbo/haishu/yuehu/yuehu"),
    "zhenhai_firm": DirectoryPerson(
        user_id="u-wang-lei", name="王磊", org_unit="ningbo/zhenhai/zhaobaoshan/xcl"
    ),
}
# The demo's own people and sites, standing in for notify's and sampling's directories.
DIRECTORY = FixedDirectory(
    people={p.user_id: p for p in PEOPLE.values()},
    sites={s.code: DirectorySite(**s.model_dump()) for s in SITES.values()},
)


@dataclass
class Scenario:
    name: str
    site: str
    severity: str
    category: str
    description: str
    created_days_ago: int
    deadline_in_days: int  # from today; negative = already past
    steps: list[tuple[int, str]] = field(default_factory=list)  # (days ago, action)


SCENARIOS = [
    Scenario(
        "open-green", "tiantong", "general", "组织生活", "“三会一课”记录不全，缺2025年第四季度党课记录", 2, 28
    ),
    Scenario(
        "open-yellow", "yuehu", "serious", "阵地建设", "党群服务中心功能室被挪作他用", 9, 6, [(8, "start")]
    ),
    Scenario(
        "in-progress-red",
        "zhenhai_firm",
        "severe",
        "党员管理",
        "党员组织关系未及时转接",
        5,
        2,
        [(4, "start"), (2, "progress")],
    ),
    Scenario(
        "in-progress-overdue",
        "tiantong",
        "serious",
        "党费收缴",
        "党费收缴台账与实际不符",
        20,
        -3,
        [(18, "start")],
    ),
    Scenario(
        "submitted",
        "yuehu",
        "general",
        "党务公开",
        "党务公开栏内容未按季度更新",
        15,
        15,
        [(14, "start"), (3, "submit")],
    ),
    Scenario(
        "returned-red",
        "zhenhai_firm",
        "serious",
        "组织建设",
        "支部委员会未按期换届",
        12,
        3,
        [(11, "start"), (6, "submit"), (4, "return")],
    ),
    Scenario(
        "closed-on-time",
        "tiantong",
        "general",
        "制度上墙",
        "村务监督制度未上墙",
        25,
        5,
        [(24, "start"), (10, "submit"), (8, "close")],
    ),
    Scenario(
        "closed-late",
        "yuehu",
        "severe",
        "满意度",
        "群众反映网格员联系不到位",
        20,
        -13,
        [(19, "start"), (10, "submit"), (9, "close")],
    ),
    Scenario(
        "extension-pending",
        "zhenhai_firm",
        "general",
        "党员教育",
        "党员积分管理未落实",
        10,
        10,
        [(9, "start"), (1, "extend")],
    ),
    Scenario(
        "extension-approved",
        "tiantong",
        "serious",
        "网格化党建",
        "网格党小组长空缺",
        8,
        4,
        [(7, "start"), (3, "extend"), (2, "approve")],
    ),
]


def marker(name: str) -> str:
    return f"demo:{name}"


async def _run_scenario(session, sc: Scenario, *, today: datetime, policy: Policy, round_code: str) -> None:
    created = today - timedelta(days=sc.created_days_ago)
    deadline_on = local_date(today) + timedelta(days=sc.deadline_in_days)
    problem_in = ProblemCreate(
        site=SiteIn(code=SITES[sc.site].code),
        round_code=round_code,
        level=Level.VILLAGE_COMMUNITY
        if SITES[sc.site].type in (SiteType.VILLAGE, SiteType.COMMUNITY)
        else Level.UNIT,
        category=sc.category,
        severity=Severity(sc.severity),
        description=sc.description,
        responsible_person=PersonIn(user_id=PEOPLE[sc.site].user_id),
        deadline_on=deadline_on,
    )
    problem = await service.create_problem(
        session,
        principal=CITY,
        problem_in=problem_in,
        directory=DIRECTORY,
        files=FILES,
        now=created,
        policy=policy,
    )
    problem.source_event_id = marker(sc.name)
    person = Principal(sub=PEOPLE[sc.site].user_id, roles=("responsible",), scope=PEOPLE[sc.site].org_unit)
    extension_id = None
    for days_ago, action in sc.steps:
        at = today - timedelta(days=days_ago)
        if action == "start":
            await service.start(
                session,
                problem=problem,
                plan="按要求制定整改方案并落实",
                principal=person,
                now=at,
                policy=policy,
            )
        elif action == "progress":
            await service.report_progress(
                session,
                problem=problem,
                note="已完成一半",
                evidence=[],
                files=FILES,
                principal=person,
                now=at,
                policy=policy,
            )
        elif action == "submit":
            await service.submit(
                session,
                problem=problem,
                note="整改完成",
                evidence=EVIDENCE,
                files=FILES,
                principal=person,
                now=at,
                policy=policy,
            )
        elif action == "return":
            await service.return_for_rework(
                session, problem=problem, reason="佐证材料不充分", principal=CITY, now=at, policy=policy
            )
        elif action == "close":
            await service.close(
                session, problem=problem, note="核查属实，予以销号", principal=CITY, now=at, policy=policy
            )
        elif action == "extend":
            ext = await extensions.request_extension(
                session,
                problem=problem,
                ext_in=ExtensionCreate(
                    reason="涉及换届选举，需延期", new_deadline_on=deadline_on + timedelta(days=14)
                ),
                principal=person,
                now=at,
                policy=policy,
            )
            extension_id = ext.id
        elif action == "approve":
            assert extension_id is not None
            await extensions.decide_extension(
                session,
                problem=problem,
                extension_id=extension_id,
                approve=True,
                note="同意延期",
                principal=CITY,
                now=at,
                policy=policy,
            )
    # Reschedule from now: the scenario's past reminders are history, not a backlog to send.
    await deadlines.resync_timers(
        session,
        problem=problem,
        milestones=await service.milestones_for(session, problem),
        now=today,
        policy=policy,
    )


DEMO_ROUND = "2026Q1"  # the round sampling's demo draws and scoring's demo scores
FINDINGS_TO_ADVANCE = 6


async def _advance_findings(session, *, today: datetime, policy: Policy) -> int:
    """Give the demo round's first finding problems a responsible person and move them on.

    Only demo objects, and always the same ones: the first ``FINDINGS_TO_ADVANCE`` problems (by id)
    that scoring's demo round sent, each moved only while it has no responsible person yet. Run again,
    it changes nothing (before, every run took six more unassigned problems of any round).
    """
    first = await repository.problems_from_findings(
        session, round_code=DEMO_ROUND, limit=FINDINGS_TO_ADVANCE, except_source_prefix=marker("")
    )
    # Each is made responsible the district's responsible person, filed under the problem's own unit:
    # one assign-batch per such (person, unit) (the batch's directory knows a person once).
    todo = [(i, p) for i, p in enumerate(first) if p.responsible_person_id is None]
    groups: dict[tuple[str, str], list[int]] = {}
    for _, problem in todo:
        assert problem.id is not None
        groups.setdefault((f"u-{problem.district}-responsible", problem.org_unit), []).append(problem.id)
    for (user_id, unit), ids in groups.items():
        person = DirectoryPerson(user_id=user_id, name="责任人", org_unit=unit)
        await service.assign_batch(
            session,
            batch=AssignBatchIn(items=[AssignBatchItem(problem_id=pid, user_id=user_id) for pid in ids]),
            principal=CITY,
            directory=FixedDirectory(people={user_id: person}),
            now=today,
            policy=policy,
        )
    for i, problem in todo:
        assert problem.responsible_person_id is not None and problem.responsible_unit is not None
        actor = Principal(
            sub=problem.responsible_person_id, roles=("responsible",), scope=problem.responsible_unit
        )
        if i % 3 >= 1:
            await service.start(
                session, problem=problem, plan="制定整改方案", principal=actor, now=today, policy=policy
            )
        if i % 3 == 2:
            await service.submit(
                session,
                problem=problem,
                note="整改完成",
                evidence=EVIDENCE,
                files=FILES,
                principal=actor,
                now=today,
                policy=policy,
            )
    return len(todo)


async def run(settings: Settings | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Create whatever demo data is missing; returns counts of what was created."""
    settings = settings or Settings()
    events.configure_links(settings.calendar_base_url)
    today = now or SystemClock().now()
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        sessionmaker = make_sessionmaker(engine)
        policy = policy_from(settings)
        created = 0
        async with sessionmaker() as session:
            # File the scenarios under the demo round whose findings arrived, if any did.
            arrived = await repository.problems_from_findings(
                session, round_code=DEMO_ROUND, limit=1, except_source_prefix=marker("")
            )
            round_code = DEMO_ROUND if arrived else "DEMO"
        for sc in SCENARIOS:
            async with sessionmaker() as session, session.begin():
                if await repository.get_problem_by_source(session, marker(sc.name)) is not None:
                    continue
                await _run_scenario(session, sc, today=today, policy=policy, round_code=round_code)
                created += 1
        async with sessionmaker() as session, session.begin():
            moved = await _advance_findings(session, today=today, policy=policy)
        return {"scenarios_created": created, "findings_advanced": moved}
    finally:
        await engine.dispose()


def main() -> None:
    # sqlmodel marks AsyncSession.execute deprecated in favour of exec(); we run core statements on
    # purpose, and as __main__ this module would print the notice.
    warnings.filterwarnings("ignore", message=r"(?s).*session\.exec\(\)", category=DeprecationWarning)
    result = asyncio.run(run())
    print(
        f"rectification demo: {result['scenarios_created']} scenario problems created, "
        f"{result['findings_advanced']} finding problems assigned and advanced"
    )


if __name__ == "__main__":
    main()
