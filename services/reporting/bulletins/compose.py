"""The quarterly bulletin (党建争强通报), composed from a round's facts: pure functions, no I/O.

The same figures in two shapes: an official document (DOCX, PDF) and a workbook (XLSX) whose sheets
carry every row (the document lists each type's first ten units and refers to the workbook).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from services.kit.workdays import local_date
from services.reporting import stats
from services.reporting.facts import ProblemFact, RoundFacts
from services.reporting.render.model import (
    Block,
    Heading,
    OfficialDocument,
    Paragraph,
    Sheet,
    Table,
    Workbook,
)
from services.reporting.reports.compose import change_text, cn_date, score_text

UNITS_IN_DOCUMENT = 10
# Overdue units named in the document itself (most overdue first); the workbook lists every one.
OVERDUE_UNITS_IN_DOCUMENT = 20


def title(facts: RoundFacts) -> str:
    return f"关于{facts.name}党建争强情况的通报"


def _district_rows(facts: RoundFacts, previous: RoundFacts | None) -> list[list[str]]:
    return [
        [
            "—" if r.rank is None else str(r.rank),
            r.name,
            score_text(r.composite),
            r.grade or "—",
            str(r.grassroots_count),
            change_text(r.rank_change),
        ]
        for r in stats.district_ranking(facts, previous)
    ]


def overdue_by_unit(facts: RoundFacts, now: datetime) -> list[tuple[str, list[ProblemFact]]]:
    """Overdue problems grouped by responsible unit, the units with most first."""
    groups: dict[str, list[ProblemFact]] = defaultdict(list)
    for p in stats.overdue_problems(facts, now):
        groups[p.responsible_unit].append(p)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _days_overdue(p: ProblemFact, now: datetime) -> int:
    return max((local_date(now) - local_date(p.deadline_at)).days, 0)


def document(
    facts: RoundFacts, previous: RoundFacts | None, now: datetime, *, issuer_mark: str
) -> OfficialDocument:
    """The bulletin as an official document (A4 landscape: its tables are wide)."""
    dist = stats.score_distribution(facts)
    blocks: list[Block] = [
        Paragraph(
            text=f"根据{facts.name}安排，现将各区县（市）、功能区及基层党组织督查结果通报如下。"
            f"本轮共锁定评分表{dist.locked}份，平均得分{score_text(dist.mean)}分。"
        ),
        Heading(level=1, text="一、区县（市）综合排名"),
        Table(
            caption="表1 区县（市）综合得分排名",
            columns=["排名", "区县（市）", "综合得分", "等次", "基层点位数", "较上轮变化"],
            rows=_district_rows(facts, previous),
        ),
        Heading(level=1, text="二、基层党组织排名"),
    ]
    numerals = "一二三四五六七八九十"
    for i, t in enumerate(stats.unit_rankings(facts)):
        shown = t.units[:UNITS_IN_DOCUMENT]
        blocks.append(Heading(level=2, text=f"（{numerals[i % 10]}）{t.label}（共{len(t.units)}个）"))
        blocks.append(
            Table(
                columns=["名次", "单位", "所属区县（市）", "得分", "等次"],
                rows=[
                    [str(u.rank), u.site_name, u.district_name, score_text(u.score), u.grade or "—"]
                    for u in shown
                ],
            )
        )
        if len(t.units) > len(shown):
            blocks.append(Paragraph(text=f"（列前{len(shown)}名，完整名单见通报附表。）"))
    blocks.append(Heading(level=1, text="三、等次分布"))
    blocks.append(
        Table(
            columns=["等次", "数量", "占比"],
            rows=[[g, str(dist.grades[g]), stats.percent_text(dist.grade_rates[g])] for g in stats.GRADES],
        )
    )
    blocks.append(Heading(level=1, text="四、逾期未整改问题通报"))
    groups = overdue_by_unit(facts, now)
    if not groups:
        blocks.append(Paragraph(text="截至通报时，本轮无逾期未整改问题。"))
    else:
        total = sum(len(ps) for _, ps in groups)
        blocks.append(
            Paragraph(
                text=f"截至{cn_date(local_date(now))}，共有{len(groups)}个责任单位的{total}个问题逾期未整改，"
                "现予通报，请相关单位立即整改到位。"
            )
        )
        shown_groups = groups[:OVERDUE_UNITS_IN_DOCUMENT]
        blocks.append(
            Table(
                columns=["责任单位", "逾期问题数", "问题（点位）", "最长逾期天数"],
                rows=[
                    [
                        facts.unit_name(unit),
                        str(len(ps)),
                        "；".join(f"{p.title}（{p.site.name}）" for p in ps[:5])
                        + ("等" if len(ps) > 5 else ""),
                        str(max(_days_overdue(p, now) for p in ps)),
                    ]
                    for unit, ps in shown_groups
                ],
                widths=[2, 1, 5, 1],
            )
        )
        if len(groups) > len(shown_groups):
            blocks.append(
                Paragraph(
                    text=f"（列逾期问题最多的{len(shown_groups)}个单位，其余{len(groups) - len(shown_groups)}个单位"
                    "见通报附表。）"
                )
            )
    blocks.append(Heading(level=1, text="五、典型做法"))
    practices = stats.good_practices(facts)
    if not practices:
        blocks.append(Paragraph(text="本轮暂无可推荐的典型做法。"))
    for i, p in enumerate(practices, 1):
        blocks.append(
            Paragraph(
                text=f"{i}. {p.district_name}{p.site_name}（{p.site_type_label}），得分{score_text(p.score)}分。"
            )
        )
    today: date = local_date(now)
    return OfficialDocument(
        title=title(facts),
        blocks=blocks,
        issuer_mark=issuer_mark,
        signature=issuer_mark,
        dated=today,
        landscape=True,
    )


def workbook(facts: RoundFacts, previous: RoundFacts | None, now: datetime) -> Workbook:
    """The bulletin's figures, every row, numbers as numbers."""
    ranking = stats.district_ranking(facts, previous)
    dist = stats.score_distribution(facts)
    units = [(t, u) for t in stats.unit_rankings(facts) for u in t.units]
    overdue = stats.overdue_problems(facts, now)
    practices = stats.good_practices(facts)
    return Workbook(
        properties_title=title(facts),
        sheets=[
            Sheet(
                name="区县排名",
                title=f"{facts.name} 区县（市）综合排名",
                columns=["排名", "区县（市）", "综合得分", "等次", "基层点位数", "上轮排名", "名次变化"],
                rows=[
                    [r.rank, r.name, r.composite, r.grade, r.grassroots_count, r.previous_rank, r.rank_change]
                    for r in ranking
                ],
                number_formats={2: "0.00"},
            ),
            Sheet(
                name="基层单位排名",
                title=f"{facts.name} 基层党组织排名（按类型）",
                columns=["类型", "名次", "单位", "所属区县（市）", "得分", "等次"],
                rows=[[t.label, u.rank, u.site_name, u.district_name, u.score, u.grade] for t, u in units],
                number_formats={4: "0.00"},
            ),
            Sheet(
                name="等次分布",
                columns=["等次", "数量", "占比（%）"],
                rows=[[g, dist.grades[g], dist.grade_rates[g]] for g in stats.GRADES],
                number_formats={2: "0.0"},
            ),
            Sheet(
                name="逾期问题",
                title="逾期未整改问题（按责任单位）",
                columns=["责任单位", "点位", "所属区县（市）", "问题", "严重程度", "整改期限", "逾期天数"],
                rows=[
                    [
                        facts.unit_name(p.responsible_unit),
                        p.site.name,
                        facts.district_name(p.site.district),
                        p.title,
                        stats.SEVERITY_LABELS.get(p.severity, p.severity),
                        local_date(p.deadline_at).isoformat(),
                        _days_overdue(p, now),
                    ]
                    for _, ps in overdue_by_unit(facts, now)
                    for p in ps
                ]
                if overdue
                else [],
            ),
            Sheet(
                name="典型做法",
                columns=["单位", "所属区县（市）", "类型", "得分", "等次"],
                rows=[[p.site_name, p.district_name, p.site_type_label, p.score, p.grade] for p in practices],
                number_formats={3: "0.00"},
            ),
        ],
    )
