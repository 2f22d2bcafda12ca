"""The annual assessment (年度党建考核): pure functions, no I/O.

Per district, over the year's rounds with published results:

- the quarterly composites (each round's published ranking) and their mean;
- rectification over the problems of those rounds (`stats` rules: 整改率, 按期整改率, overdue at now);
- vetoes: locked sheets with a vetoed item (一票否决);
- score = mean × w₁ + 整改率 × w₂ + 按期整改率 × w₃ − overdue × d₁ − vetoes × d₂ (not below 0), a rate with
  nothing to count (no problems, none due) counting as 100 %; no composite at all: no score;
- grade: 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60, else 差.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from services.kit.workdays import local_date
from services.reporting import stats
from services.reporting.assessments.schemas import (
    AssessmentRead,
    DistrictAssessment,
    Grade,
    QuarterScore,
    RectificationFigures,
    RoundRef,
    WeightsRead,
)
from services.reporting.facts import ProblemFact, RoundFacts
from services.reporting.render.model import OfficialDocument, Paragraph, Sheet, Table, Workbook
from services.reporting.reports.compose import score_text

GRADE_FLOORS: tuple[tuple[float, str], ...] = ((90, "好"), (80, "较好"), (60, "一般"))


def grade_of(score: float) -> Grade:
    for floor, grade in GRADE_FLOORS:
        if score >= floor:
            return Grade(grade)
    return Grade.POOR


def _pct(weight: float) -> str:
    return f"{weight:g}%"


def _district(
    slug: str,
    name: str,
    rounds: list[RoundFacts],
    problems: list[ProblemFact],
    vetoes: int,
    w: WeightsRead,
    now: datetime,
) -> DistrictAssessment:
    quarters = []
    for r in rounds:
        row = next((d for d in (r.results.districts if r.results else []) if d.district == slug), None)
        quarters.append(
            QuarterScore(
                round_code=r.code,
                round_name=r.name,
                quarter=r.quarter,
                rank=row.rank if row else None,
                composite=row.composite if row else None,
            )
        )
    composites = [q.composite for q in quarters if q.composite is not None]
    mean = stats.round2(sum(composites) / len(composites)) if composites else None
    facts = RoundFacts(
        code="", name="", year=None, quarter=None, drawn_at=None, as_of=None, problems=problems
    )
    rect = stats.rectification(facts, now)
    figures = RectificationFigures(
        total=rect.total,
        closed=rect.closed,
        rate=rect.rate,
        due=rect.due,
        closed_on_time=rect.closed_on_time,
        on_time_rate=rect.on_time_rate,
        overdue=rect.overdue,
    )
    lines: list[str] = []
    score: float | None = None
    grade: Grade | None = None
    if mean is None:
        lines.append("本年度暂无已发布的季度综合得分，不计算年度得分")
    else:
        parts: list[float] = []
        q_text = "、".join(
            f"{q.round_name} {score_text(q.composite)}" for q in quarters if q.composite is not None
        )
        lines.append(f"季度综合得分：{q_text}")
        part = stats.round2(mean * w.composite_weight / 100) or 0.0
        parts.append(part)
        lines.append(f"季度综合得分均值 {score_text(mean)} × {_pct(w.composite_weight)} = {part:.2f}")
        for label, rate, weight in (
            ("整改率", rect.rate, w.rectification_weight),
            ("按期整改率", rect.on_time_rate, w.on_time_weight),
        ):
            value = 100.0 if rate is None else rate
            part = stats.round2(value * weight / 100) or 0.0
            parts.append(part)
            note = "（无应计问题，按100%计）" if rate is None else ""
            lines.append(f"{label} {value:.1f}%{note} × {_pct(weight)} = {part:.2f}")
        overdue_off = stats.round2(rect.overdue * w.overdue_deduction) or 0.0
        veto_off = stats.round2(vetoes * w.veto_deduction) or 0.0
        lines.append(f"逾期问题 {rect.overdue} 个 × {w.overdue_deduction:g} = −{overdue_off:.2f}")
        lines.append(f"一票否决 {vetoes} 项 × {w.veto_deduction:g} = −{veto_off:.2f}")
        raw = sum(parts) - overdue_off - veto_off
        score = max(stats.round2(raw) or 0.0, 0.0)
        grade = grade_of(score)
        sum_text = " + ".join(f"{p:.2f}" for p in parts) + f" − {overdue_off:.2f} − {veto_off:.2f}"
        lines.append(
            f"年度得分 = {sum_text} = {score:.2f}" + ("（不低于0分）" if raw < 0 else "") + f"，等次：{grade}"
        )
    return DistrictAssessment(
        rank=None,
        district=slug,
        name=name,
        quarters=quarters,
        composite_mean=mean,
        rectification=figures,
        vetoes=vetoes,
        score=score,
        grade=grade,
        explanation=lines,
    )


def assess(year: int, rounds: list[RoundFacts], weights: WeightsRead, now: datetime) -> AssessmentRead:
    """The year's assessment of every district from its published rounds (in quarter order)."""
    published = [r for r in rounds if r.results is not None]
    names: dict[str, str] = {}
    problems: dict[str, list[ProblemFact]] = defaultdict(list)
    vetoes: dict[str, int] = defaultdict(int)
    for r in published:
        names.update(r.district_names)
        for d in r.results.districts if r.results else []:
            names.setdefault(d.district, r.district_name(d.district))
        for p in r.problems:
            problems[p.site.district].append(p)
        for s in stats.locked_sheets(r):
            if s.veto_items:
                vetoes[s.site.district] += 1
    rows = [
        _district(slug, names[slug], published, problems.get(slug, []), vetoes.get(slug, 0), weights, now)
        for slug in sorted(names)
    ]
    ordered = sorted(rows, key=lambda d: (d.score is None, -(d.score or 0), d.district))
    ranked: list[DistrictAssessment] = []
    for i, row in enumerate(ordered):
        rank = None
        if row.score is not None:
            rank = ranked[-1].rank if ranked and ranked[-1].score == row.score else i + 1
        ranked.append(row.model_copy(update={"rank": rank}))
    return AssessmentRead(
        year=year,
        weights=weights,
        note="本年度未设置考核权重，按默认权重计算"
        if weights.defaults
        else f"按{year}年度设定的考核权重计算",
        rounds=[RoundRef(round_code=r.code, round_name=r.name, quarter=r.quarter) for r in published],
        districts=ranked,
        generated_at=now,
    )


def title(year: int) -> str:
    return f"{year}年度各区县（市）党建工作考核结果"


def _weights_text(w: WeightsRead) -> str:
    return (
        f"考核权重：季度综合得分均值{_pct(w.composite_weight)}、整改率{_pct(w.rectification_weight)}、"
        f"按期整改率{_pct(w.on_time_weight)}；每个逾期问题扣{w.overdue_deduction:g}分，"
        f"每项一票否决扣{w.veto_deduction:g}分" + ("（默认权重）" if w.defaults else "") + "。"
    )


def document(a: AssessmentRead, *, issuer_mark: str) -> OfficialDocument:
    quarters = [q.round_name for q in a.rounds]
    blocks: list[Paragraph | Table] = [
        Paragraph(
            text=f"根据{'、'.join(quarters) or '本年度各轮督查'}结果及问题整改情况，现将{a.year}年度考核结果报告如下。"
        ),
        Paragraph(text=_weights_text(a.weights)),
        Table(
            caption="表1 年度考核得分",
            columns=[
                "排名",
                "区县（市）",
                "季度均分",
                "整改率",
                "按期整改率",
                "逾期",
                "否决",
                "年度得分",
                "等次",
            ],
            rows=[
                [
                    "—" if d.rank is None else str(d.rank),
                    d.name,
                    score_text(d.composite_mean),
                    stats.percent_text(d.rectification.rate),
                    stats.percent_text(d.rectification.on_time_rate),
                    str(d.rectification.overdue),
                    str(d.vetoes),
                    score_text(d.score),
                    d.grade.value if d.grade else "—",
                ]
                for d in a.districts
            ],
        ),
    ]
    for d in a.districts:
        blocks.append(Paragraph(text=f"{d.name}：" + "；".join(d.explanation) + "。"))
    return OfficialDocument(
        title=title(a.year),
        blocks=list(blocks),
        issuer_mark=issuer_mark,
        signature=issuer_mark,
        dated=local_date(a.generated_at),
        landscape=True,
    )


def workbook(a: AssessmentRead) -> Workbook:
    codes = [q.round_name for q in a.rounds]
    return Workbook(
        properties_title=title(a.year),
        sheets=[
            Sheet(
                name="年度考核",
                title=title(a.year),
                columns=[
                    "排名",
                    "区县（市）",
                    *codes,
                    "季度均分",
                    "整改率（%）",
                    "按期整改率（%）",
                    "逾期问题",
                    "一票否决",
                    "年度得分",
                    "等次",
                ],
                rows=[
                    [
                        d.rank,
                        d.name,
                        *[q.composite for q in d.quarters],
                        d.composite_mean,
                        d.rectification.rate,
                        d.rectification.on_time_rate,
                        d.rectification.overdue,
                        d.vetoes,
                        d.score,
                        d.grade.value if d.grade else None,
                    ]
                    for d in a.districts
                ],
            ),
            Sheet(
                name="得分说明",
                columns=["区县（市）", "说明"],
                rows=[[d.name, line] for d in a.districts for line in d.explanation],
            ),
            Sheet(name="考核权重", columns=["说明"], rows=[[_weights_text(a.weights)]]),
        ],
    )
