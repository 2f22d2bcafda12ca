"""A district's problem list (问题清单) of a round: pure functions, no I/O.

Every counted problem of the district (withdrawn and merged ones are not counted, as in `stats`),
by site then id, with its light at `now`.
"""

from __future__ import annotations

from datetime import datetime

from services.kit.workdays import local_date
from services.reporting import stats
from services.reporting.facts import ProblemFact, RoundFacts
from services.reporting.render.model import OfficialDocument, Paragraph, Sheet, Table, Workbook
from services.reporting.reports.compose import cn_date

COLUMNS = [
    "序号",
    "点位",
    "督查项目",
    "问题描述",
    "严重程度",
    "责任单位",
    "责任人",
    "整改期限",
    "状态",
    "亮灯",
]


def title(facts: RoundFacts, district: str) -> str:
    return f"{facts.district_name(district)}{facts.name}问题清单"


def problems_of(facts: RoundFacts, district: str) -> list[ProblemFact]:
    own = [p for p in stats.counted_problems(facts.problems) if p.site.district == district]
    return sorted(own, key=lambda p: (p.site.code, p.problem_id))


def _row(
    i: int, p: ProblemFact, facts: RoundFacts, now: datetime, *, yellow_days: int, red_days: int
) -> list[str]:
    lt = stats.light(p, now, yellow_days=yellow_days, red_days=red_days)
    return [
        str(i),
        p.site.name,
        p.item_title or p.category,
        p.description,
        stats.SEVERITY_LABELS.get(p.severity, p.severity),
        facts.unit_name(p.responsible_unit),
        (p.responsible_person.name or p.responsible_person.user_id) if p.responsible_person else "未指定",
        local_date(p.deadline_at).isoformat(),
        stats.PROBLEM_STATE_LABELS.get(p.status, p.status),
        "—" if lt is None else stats.LIGHT_LABELS[lt],
    ]


def rows(
    facts: RoundFacts, district: str, now: datetime, *, yellow_days: int = 7, red_days: int = 3
) -> list[list[str]]:
    return [
        _row(i, p, facts, now, yellow_days=yellow_days, red_days=red_days)
        for i, p in enumerate(problems_of(facts, district), 1)
    ]


def document(
    facts: RoundFacts,
    district: str,
    now: datetime,
    *,
    issuer_mark: str,
    yellow_days: int = 7,
    red_days: int = 3,
) -> OfficialDocument:
    body = rows(facts, district, now, yellow_days=yellow_days, red_days=red_days)
    rect = stats.rectification(
        stats.for_district(facts, district), now, yellow_days=yellow_days, red_days=red_days
    )
    intro = (
        f"{facts.district_name(district)}在{facts.name}中共被发现问题{rect.total}个，"
        f"截至{cn_date(local_date(now))}已整改销号{rect.closed}个（整改率{stats.percent_text(rect.rate)}），"
        f"逾期未整改{rect.overdue}个。请对照清单逐项整改，按期销号。"
        if body
        else f"{facts.district_name(district)}在{facts.name}中暂无交办问题。"
    )
    return OfficialDocument(
        title=title(facts, district),
        addressee=f"{facts.district_name(district)}委组织部：",
        blocks=[
            Paragraph(text=intro),
            Table(
                caption="问题清单",
                columns=COLUMNS,
                rows=body,
                widths=[0.6, 1.6, 1.6, 3.2, 0.8, 1.6, 1, 1.2, 0.9, 0.7],
            ),
        ],
        signature=issuer_mark,
        dated=local_date(now),
        landscape=True,
    )


def workbook(
    facts: RoundFacts, district: str, now: datetime, *, yellow_days: int = 7, red_days: int = 3
) -> Workbook:
    return Workbook(
        properties_title=title(facts, district),
        sheets=[
            Sheet(
                name="问题清单",
                title=title(facts, district),
                columns=COLUMNS,
                rows=[
                    [int(r[0]), *r[1:]]
                    for r in rows(facts, district, now, yellow_days=yellow_days, red_days=red_days)
                ],
            )
        ],
    )
