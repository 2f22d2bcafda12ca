"""A small round the documents' tests share: three districts, their sites, sheets and problems —
as plain facts (for the pure composition) and as read-model rows (for the routes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.reporting.facts import (
    DeductionFact,
    PersonFact,
    ProblemFact,
    RankingRow,
    ResultsFact,
    RoundFacts,
    SheetFact,
    SiteFact,
    VisitFact,
)
from services.reporting.models import Problem, ResultsVersion, Round, Sheet, Visit
from services.reporting.render.model import Chart, OfficialDocument, Workbook
from services.reporting.reports.rendering import Renderers

# 10:00 in Ningbo on 3 April 2026.
NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)
DISTRICTS = {"haishu": "海曙区", "yinzhou": "鄞州区", "cixi": "慈溪市"}


def site(code: str, name: str, district: str, type_: str = "village") -> SiteFact:
    return SiteFact(
        code=code, name=name, type=type_, org_unit=f"ningbo/{district}/t/{code}", district=district
    )


SITES = [
    site("hs1", "望春村", "haishu"),
    site("hs2", "白云社区", "haishu", "community"),
    site("yz1", "天童村", "yinzhou"),
    site("yz2", "勤勇村", "yinzhou"),
    site("cx1", "浒山社区", "cixi", "community"),
    site("cx2", "龙山村", "cixi"),
]
SCORES = {"hs1": 96.5, "hs2": 91.0, "yz1": 84.0, "yz2": 78.5, "cx1": 88.0, "cx2": 58.0}


def _grade(score: float) -> str:
    return "好" if score >= 90 else "较好" if score >= 80 else "一般" if score >= 60 else "差"


def _deductions(code: str) -> list[DeductionFact]:
    out = []
    if code != "hs1":
        out.append(
            DeductionFact(
                item_code="B03",
                item_title="三会一课记录不规范",
                section_code="B",
                points=2.0,
                reason="缺少近三个月会议记录",
            )
        )
    if code in ("yz2", "cx2"):
        out.append(
            DeductionFact(
                item_code="C01",
                item_title="党员活动阵地不达标",
                section_code="C",
                points=4.0,
                reason="活动室被挪作他用",
            )
        )
    return out


def problem(pid: int, s: SiteFact, *, status: str = "open", deadline: datetime, **kw: Any) -> ProblemFact:
    fields: dict[str, Any] = {
        "problem_id": pid,
        "site": s,
        "responsible_unit": s.org_unit,
        "responsible_person": PersonFact(user_id=f"u-{s.code}", name="李娜"),
        "item_code": "B03",
        "item_title": "三会一课记录不规范",
        "category": "组织生活",
        "severity": "serious",
        "level": "village_community",
        "title": "三会一课记录不规范",
        "description": f"{s.name}缺少近三个月的三会一课记录",
        "status": status,
        "created_at": datetime(2026, 3, 10, 2, tzinfo=UTC),
        "deadline_at": deadline,
    }
    return ProblemFact(**(fields | kw))


def round_facts(
    *, code: str = "2026Q1", quarter: int = 1, published: bool = True, ranks: dict[str, int] | None = None
) -> RoundFacts:
    ranks = ranks or {"haishu": 1, "yinzhou": 2, "cixi": 3}
    composites = {"haishu": 93.75, "cixi": 73.0, "yinzhou": 81.25}
    if ranks != {"haishu": 1, "yinzhou": 2, "cixi": 3}:
        composites = {d: 95.0 - 5 * r for d, r in ranks.items()}
    past = NOW - timedelta(days=5)
    future = NOW + timedelta(days=20)
    problems = [
        problem(1, SITES[2], deadline=past),  # yinzhou: overdue
        problem(2, SITES[3], deadline=past, status="in_progress"),  # yinzhou: overdue
        problem(3, SITES[5], deadline=future),  # cixi: open, green
        problem(
            4,
            SITES[1],
            deadline=past,
            status="closed",
            closed_at=past - timedelta(days=1),
            closed_on_time=True,
        ),  # haishu: closed on time
        problem(5, SITES[4], deadline=future, status="withdrawn"),  # not counted
    ]
    results = (
        ResultsFact(
            version=1,
            published_at=NOW - timedelta(days=10),
            content_sha256="c" * 64,
            complete=True,
            districts=[
                RankingRow(
                    rank=ranks[d],
                    district=d,
                    composite=composites[d],
                    grade=_grade(composites[d]),
                    grassroots_count=2,
                )
                for d in DISTRICTS
            ],
        )
        if published
        else None
    )
    return RoundFacts(
        code=code,
        name=f"2026年第{'一二三四'[quarter - 1]}季度基层党建专项督查",
        year=2026,
        quarter=quarter,
        drawn_at=datetime(2026, 3, 2, 2, tzinfo=UTC) + timedelta(days=91 * (quarter - 1)),
        as_of=NOW - timedelta(hours=1),
        district_names=dict(DISTRICTS),
        unit_names={s.org_unit: s.name for s in SITES},
        visits=[
            VisitFact(site=s, team_id="1", team_name="第一督查组", visit_on=date(2026, 3, 10)) for s in SITES
        ],
        sheets=[
            SheetFact(
                sheet_id=f"{code}-{s.code}",
                site=s,
                team_id="1",
                team_name="第一督查组",
                status="locked",
                score=SCORES[s.code],
                grade=_grade(SCORES[s.code]),
                veto_items=["A01"] if s.code == "cx2" else [],
                deductions=_deductions(s.code),
                locked_at=NOW - timedelta(days=12),
            )
            for s in SITES
        ],
        problems=problems,
        results=results,
    )


def _site_cols(s: SiteFact) -> dict[str, Any]:
    return {
        "site_code": s.code,
        "site_name": s.name,
        "site_type": s.type,
        "org_unit": s.org_unit,
        "district": s.district,
    }


def rows_of(facts: RoundFacts) -> list[Any]:
    """The read-model rows the projection would hold for `facts`."""
    out: list[Any] = [
        Round(
            code=facts.code,
            name=facts.name,
            year=facts.year,
            quarter=facts.quarter,
            drawn_at=facts.drawn_at,
            revision=1,
            district_names=facts.district_names,
            as_of=facts.as_of,
            last_seq=1,
        )
    ]
    out += [
        Visit(
            round_code=facts.code,
            team_id=v.team_id,
            team_name=v.team_name,
            visit_on=v.visit_on,
            **_site_cols(v.site),
        )
        for v in facts.visits
    ]
    out += [
        Sheet(
            sheet_id=s.sheet_id,
            round_code=facts.code,
            revision=1,
            team_id=s.team_id,
            team_name=s.team_name,
            status=s.status,
            score=s.score,
            grade=s.grade,
            veto_items=s.veto_items,
            deductions=[d.model_dump() for d in s.deductions],
            changed_at=NOW,
            locked_at=s.locked_at,
            **_site_cols(s.site),
        )
        for s in facts.sheets
    ]
    out += [
        Problem(
            problem_id=p.problem_id + (1000 * (facts.quarter or 0)),
            revision=1,
            round_code=facts.code,
            responsible_unit=p.responsible_unit,
            responsible_person=p.responsible_person.model_dump() if p.responsible_person else None,
            item_code=p.item_code,
            item_title=p.item_title,
            category=p.category,
            severity=p.severity,
            level=p.level,
            title=p.title,
            description=p.description,
            status=p.status,
            created_at=p.created_at,
            deadline_at=p.deadline_at,
            closed_at=p.closed_at,
            closed_on_time=p.closed_on_time,
            changed_at=NOW,
            **_site_cols(p.site),
        )
        for p in facts.problems
    ]
    if facts.results:
        r = facts.results
        out.append(
            ResultsVersion(
                round_code=facts.code,
                version=r.version,
                published_at=r.published_at,
                content_sha256=r.content_sha256,
                complete=r.complete,
                districts=[d.model_dump() for d in r.districts],
            )
        )
    return out


async def seed(app: Any, *rounds: RoundFacts) -> None:
    """Write `rounds` into the read model, as if their events had arrived."""
    async with app.state.sessionmaker() as session:
        for facts in rounds:
            session.add_all(rows_of(facts))
        await session.commit()


class FakeRenderers:
    """Renderers that write the composed document's text (so tests read it back), counting calls;
    `fail` makes the PDF raise (a failure during generation)."""

    def __init__(self) -> None:
        self.fail = False
        self.calls: list[str] = []
        self.documents: list[OfficialDocument] = []

    def _doc(self, fmt: str, doc: OfficialDocument) -> bytes:
        self.calls.append(fmt)
        self.documents.append(doc)
        if fmt == "pdf" and self.fail:
            raise RuntimeError("font missing")
        text = [fmt, doc.title, doc.doc_number or "", "草稿" if doc.draft else ""]
        for b in doc.blocks:
            text += [getattr(b, "text", ""), *("|".join(r) for r in getattr(b, "rows", []))]
        return "\n".join(text).encode()

    def renderers(self) -> Renderers:
        return Renderers(
            docx=lambda d: self._doc("docx", d),
            pdf=lambda d: self._doc("pdf", d),
            xlsx=self._xlsx,
            chart=self._chart,
        )

    def _xlsx(self, wb: Workbook) -> bytes:
        self.calls.append("xlsx")
        return "\n".join(f"{s.name}:{s.rows}" for s in wb.sheets).encode()

    def _chart(self, chart: Chart, fmt: str) -> bytes:
        self.calls.append(f"chart.{fmt}")
        return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(chart.title.encode()).digest()
