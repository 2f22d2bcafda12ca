"""The 专报 drafted from a round's facts: pure functions, no I/O (every figure from `stats`).

A draft holds editable sections ({key, heading, paragraphs}), plus tables and a chart composed from
the data as it stood when drafted; :func:`document` lays them out as the official document the
renderers take (the tables and the chart placed after their sections).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.kit.workdays import local_date
from services.reporting import stats
from services.reporting.facts import RoundFacts
from services.reporting.render.model import (
    Block,
    Chart,
    Heading,
    Image,
    OfficialDocument,
    Paragraph,
    Series,
    Table,
)
from services.reporting.reports.schemas import Section

NUMERALS = "一二三四五六七八九十"


def cn_date(d: date) -> str:
    """2026年4月3日 (Arabic numerals, as GB/T 9704 prints 成文日期)."""
    return f"{d.year}年{d.month}月{d.day}日"


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def change_text(change: int | None) -> str:
    """Places gained since the previous round: 「↑2」, 「↓1」, 「持平」, or 「—」 (no previous rank)."""
    if change is None:
        return "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "持平"


@dataclass(frozen=True)
class Figures:
    """Every figure a 专报 cites, computed once from the facts (by `stats` alone)."""

    facts: RoundFacts
    previous: RoundFacts | None
    coverage: stats.Coverage
    distribution: stats.ScoreDistribution
    ranking: list[stats.DistrictRank]
    practices: list[stats.Practice]
    common: list[stats.CommonProblem]
    rectification: stats.Rectification

    @classmethod
    def of(
        cls,
        facts: RoundFacts,
        previous: RoundFacts | None,
        now: datetime,
        *,
        yellow_days: int = 7,
        red_days: int = 3,
        common_top: int = 5,
        common_examples: int = 2,
    ) -> Figures:
        return cls(
            facts=facts,
            previous=previous,
            coverage=stats.coverage(facts),
            distribution=stats.score_distribution(facts),
            ranking=stats.district_ranking(facts, previous),
            practices=stats.good_practices(facts),
            common=stats.common_problems(facts, top=common_top, examples=common_examples),
            rectification=stats.rectification(facts, now, yellow_days=yellow_days, red_days=red_days),
        )


def default_title(facts: RoundFacts) -> str:
    return f"关于{facts.name}情况的专报"


def _overview(f: Figures, now: datetime) -> list[str]:
    facts, cov, dist = f.facts, f.coverage, f.distribution
    g = dist.grades
    districts = len(facts.district_names) or len(cov.by_district)
    as_of = cn_date(local_date(facts.as_of or now))
    first = f"{facts.name}"
    if facts.drawn_at is not None:
        first += f"于{cn_date(local_date(facts.drawn_at))}完成随机抽样，"
    else:
        first += "，"
    first += f"共抽取督查点位{cov.drawn}个，涉及{districts}个区县（市）、功能区。"
    second = (
        f"截至{as_of}，已锁定评分表{dist.locked}份，平均得分{score_text(dist.mean)}分"
        f"（最高{score_text(dist.max)}分，最低{score_text(dist.min)}分），"
        f"其中评定为“好”的{g['好']}个、“较好”的{g['较好']}个、“一般”的{g['一般']}个、“差”的{g['差']}个"
    )
    second += f"，涉及一票否决的{dist.vetoed}个。" if dist.vetoed else "。"
    return [first, second]


def _coverage(f: Figures) -> list[str]:
    cov = f.coverage
    text = (
        f"本轮共抽取点位{cov.drawn}个，已完成实地督查{cov.visited}个，"
        f"督查覆盖率{stats.percent_text(cov.coverage_rate)}。"
    )
    rated = [r for r in cov.by_district if r.coverage_rate is not None]
    if rated:
        low = min(rated, key=lambda r: (r.coverage_rate or 0, r.key))
        full = [r.name for r in rated if r.coverage_rate == 100.0]
        if full:
            text += f"{'、'.join(full)}已全部完成督查；"
        if low.coverage_rate is not None and low.coverage_rate < 100.0:
            text += f"覆盖率最低的是{low.name}（{stats.percent_text(low.coverage_rate)}），需加快进度。"
        else:
            text = text.rstrip("；") + "。"
    return [text]


def _results(f: Figures) -> list[str]:
    previous = f.previous
    ranked = [r for r in f.ranking if r.rank is not None]
    if not ranked:
        return ["本轮督查结果已发布，暂无可排名的区县（市）。"]
    top = "、".join(f"{r.name}（{score_text(r.composite)}分）" for r in ranked[:3])
    paras = [f"从综合得分看，排名前三位的是{top}。"]
    last = ranked[-1]
    if len(ranked) > 3:
        paras[0] += f"排名末位的是{last.name}（{score_text(last.composite)}分）。"
    if previous is not None and previous.results is not None:
        up = [r for r in ranked if (r.rank_change or 0) > 0]
        down = [r for r in ranked if (r.rank_change or 0) < 0]
        parts = []
        if up:
            parts.append("上升的有" + "、".join(f"{r.name}（上升{r.rank_change}位）" for r in up))
        if down:
            parts.append("下降的有" + "、".join(f"{r.name}（下降{-(r.rank_change or 0)}位）" for r in down))
        moved = "；".join(parts) if parts else "各区县（市）排名均与上轮持平"
        paras.append(f"与上一轮（{previous.name}）相比，{moved}。")
    return paras


def _practices(f: Figures) -> list[str]:
    # Only sites graded 好 or 较好 are cited as examples to follow.
    best = [p for p in f.practices if p.grade in (None, "好", "较好")]
    if not best:
        return ["本轮暂无可推荐的典型经验，待评分表全部锁定后补充。"]
    paras = [
        "督查中发现一批基层党组织标准化规范化建设扎实、领航作用发挥明显的先进典型，"
        "组织生活规范、阵地建设达标、台账资料完整，值得总结推广。主要有："
    ]
    for i, p in enumerate(best, 1):
        paras.append(
            f"{i}. {p.district_name}{p.site_name}（{p.site_type_label}），督查得分{score_text(p.score)}分"
            + (f"，评定为“{p.grade}”。" if p.grade else "。")
        )
    return paras


def _problems(f: Figures) -> list[str]:
    common = f.common
    if not common:
        return ["本轮已锁定的评分表中暂未发现共性问题。"]
    paras = ["从督查扣分情况看，主要存在以下共性问题："]
    for i, c in enumerate(common, 1):
        line = (
            f"{i}. {c.item_title}。共{c.sheets}个点位在该项被扣分，占已评点位的{stats.percent_text(c.share)}，"
            f"累计扣{score_text(c.points)}分。"
        )
        if c.examples:
            line += "如" + "；".join(f"{e.district_name}{e.site_name}：{e.reason}" for e in c.examples) + "。"
        paras.append(line)
    return paras


def _rectification(f: Figures) -> list[str]:
    rect = f.rectification
    if rect.total == 0:
        return ["本轮督查暂未交办整改问题。"]
    paras = [
        f"本轮督查共交办问题{rect.total}个，已整改销号{rect.closed}个，整改率{stats.percent_text(rect.rate)}；"
        f"已到期问题{rect.due}个，按期整改{rect.closed_on_time}个，按期整改率{stats.percent_text(rect.on_time_rate)}；"
        f"逾期未整改{rect.overdue}个。"
    ]
    overdue_districts = [r for r in rect.by_district if r.overdue]
    if overdue_districts:
        paras.append(
            "逾期问题分布在"
            + "、".join(
                f"{r.name}（{r.overdue}个）" for r in sorted(overdue_districts, key=lambda r: -r.overdue)
            )
            + "。"
        )
        units = [u for u in rect.by_unit if u.overdue][:5]
        paras.append(
            "逾期问题较多的责任单位有"
            + "、".join(f"{u.name}（{u.overdue}个）" for u in units)
            + "，需重点督办。"
        )
    else:
        paras.append("目前无逾期未整改问题。")
    return paras


NEXT_STEPS = [
    "一是抓好问题整改。对本轮督查发现的问题，督促各地逐一建立整改台账，明确责任人和整改时限，"
    "实行销号管理，对逾期未整改的问题挂牌督办。",
    "二是强化结果运用。将督查结果纳入基层党建工作责任制述职评议考核和年度党建考核，"
    "对排名靠后的区县（市）进行约谈提醒。",
    "三是推广典型经验。总结提炼督查中发现的先进典型做法，通过现场观摩、经验交流等方式推广，"
    "推动基层党组织全面进步、全面过硬。",
    "四是开展“回头看”。在下一轮督查中对本轮问题较多的点位开展“回头看”，巩固整改成效。",
]


def draft_sections(
    facts: RoundFacts,
    previous: RoundFacts | None,
    now: datetime,
    *,
    yellow_days: int = 7,
    red_days: int = 3,
    common_top: int = 5,
    common_examples: int = 2,
) -> list[Section]:
    """The seven sections of a 专报, drafted from the data (an admin edits them before review)."""
    f = Figures.of(
        facts,
        previous,
        now,
        yellow_days=yellow_days,
        red_days=red_days,
        common_top=common_top,
        common_examples=common_examples,
    )
    return sections_of(f, now)


def sections_of(f: Figures, now: datetime) -> list[Section]:
    bodies = [
        ("overview", "基本情况", _overview(f, now)),
        ("coverage", "督查覆盖", _coverage(f)),
        ("results", "督查结果", _results(f)),
        ("practices", "典型经验", _practices(f)),
        ("problems", "主要问题", _problems(f)),
        ("rectification", "整改进展", _rectification(f)),
        ("next_steps", "下一步工作", list(NEXT_STEPS)),
    ]
    return [
        Section(key=key, heading=f"{NUMERALS[i]}、{heading}", paragraphs=paras)
        for i, (key, heading, paras) in enumerate(bodies)
    ]


def draft_tables(facts: RoundFacts, previous: RoundFacts | None, now: datetime) -> list[dict[str, Any]]:
    """The tables placed after their sections: {after: section key, table: Table}."""
    return tables_of(Figures.of(facts, previous, now))


def tables_of(f: Figures) -> list[dict[str, Any]]:
    cov, ranking, rect = f.coverage, f.ranking, f.rectification
    out: list[dict[str, Any]] = [
        {
            "after": "coverage",
            "table": Table(
                caption="表1 各区县（市）督查覆盖情况",
                columns=["区县（市）", "抽取点位", "已督查", "覆盖率"],
                rows=[
                    [r.name, str(r.drawn), str(r.visited), stats.percent_text(r.coverage_rate)]
                    for r in cov.by_district
                ],
            ).model_dump(mode="json"),
        },
        {
            "after": "results",
            "table": Table(
                caption="表2 各区县（市）综合得分排名",
                columns=["排名", "区县（市）", "综合得分", "等次", "较上轮变化"],
                rows=[
                    [
                        "—" if r.rank is None else str(r.rank),
                        r.name,
                        score_text(r.composite),
                        r.grade or "—",
                        change_text(r.rank_change),
                    ]
                    for r in ranking
                ],
                widths=[1, 2, 1.5, 1, 1.5],
            ).model_dump(mode="json"),
        },
    ]
    if rect.total:
        out.append(
            {
                "after": "rectification",
                "table": Table(
                    caption="表3 各区县（市）问题整改情况",
                    columns=["区县（市）", "问题数", "已销号", "整改率", "按期整改率", "逾期"],
                    rows=[
                        [
                            r.name,
                            str(r.total),
                            str(r.closed),
                            stats.percent_text(r.rate),
                            stats.percent_text(r.on_time_rate),
                            str(r.overdue),
                        ]
                        for r in rect.by_district
                    ],
                ).model_dump(mode="json"),
            }
        )
    return out


def draft_charts(facts: RoundFacts, previous: RoundFacts | None) -> list[dict[str, Any]]:
    """The ranking as a chart, after the results section: {after, caption, chart: Chart}."""
    return charts_of(stats.district_ranking(facts, previous))


def charts_of(ranking: list[stats.DistrictRank]) -> list[dict[str, Any]]:
    ranked = [r for r in ranking if r.composite is not None]
    if not ranked:
        return []
    chart = Chart(
        kind="barh",
        title="各区县（市）综合得分",
        categories=[r.name for r in ranked],
        series=[Series(name="综合得分", values=[float(r.composite or 0) for r in ranked])],
        unit="分",
    )
    return [
        {"after": "results", "caption": "图1 各区县（市）综合得分", "chart": chart.model_dump(mode="json")}
    ]


def document(
    *,
    title: str,
    sections: list[Section],
    tables: list[dict[str, Any]],
    charts: list[tuple[str, str | None, bytes]],
    issuer_mark: str,
    addressee: str,
    doc_number: str | None,
    dated: date,
    draft: bool,
) -> OfficialDocument:
    """The 专报 as an official document: each section's heading and paragraphs, then its tables and
    charts (`charts`: (after section key, caption, PNG bytes))."""
    blocks: list[Block] = []
    for s in sections:
        blocks.append(Heading(level=1, text=s.heading))
        blocks.extend(Paragraph(text=p) for p in s.paragraphs)
        for after, caption, png in charts:
            if after == s.key:
                blocks.append(Image(png=png, width_cm=15.0, caption=caption))
        for t in tables:
            if t["after"] == s.key:
                blocks.append(Table.model_validate(t["table"]))
    return OfficialDocument(
        title=title,
        blocks=blocks,
        issuer_mark=issuer_mark,
        doc_number=doc_number,
        draft=draft,
        addressee=addressee,
        signature=issuer_mark,
        dated=dated,
        printed_by=issuer_mark,
    )
