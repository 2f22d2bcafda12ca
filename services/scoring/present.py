"""Turn stored sheets into their API shape."""

from __future__ import annotations

from services.scoring import calc
from services.scoring.models import ItemScore, Rubric, ScoreSheet
from services.scoring.rubric import RubricDefinition
from services.scoring.schemas import (
    ItemScoreRead,
    SectionScore,
    SheetRead,
    SheetResults,
    SheetSummary,
    SiteRef,
    TeamRef,
)
from services.scoring.service import etag_of, points_of, vetoed_items


def site_ref(sheet: ScoreSheet) -> SiteRef:
    return SiteRef(
        code=sheet.site_code,
        name=sheet.site_name,
        type=sheet.site_type,
        org_unit=sheet.org_unit,
        district=sheet.district,
    )


def sheet_summary(sheet: ScoreSheet) -> SheetSummary:
    return SheetSummary(
        id=sheet.id,
        round_code=sheet.round_code,
        site=site_ref(sheet),
        team_id=sheet.team_id,
        status=sheet.status,  # type: ignore[arg-type]
        version=sheet.version,
        score=sheet.score,
        grade=sheet.grade,
        veto_items=sheet.veto_items,
        updated_at=sheet.updated_at,
    )


def sheet_read(
    sheet: ScoreSheet, rubric: Rubric, definition: RubricDefinition, items: list[ItemScore]
) -> SheetRead:
    result = calc.sheet_result(definition, sheet.site_type, points_of(items), vetoed_items(definition, items))
    out_items = []
    for row in items:
        it = definition.item(row.item_code)
        assert it is not None
        d = row.detail
        out_items.append(
            ItemScoreRead(
                item_code=row.item_code,
                title=it.title,
                section_code=row.section_code,
                scoring_type=it.scoring_type,
                max_points=row.max_points,
                expected_methods=it.methods,
                veto=it.veto,
                points=row.points,
                deductions=d.get("deductions") or [],
                grade=d.get("grade"),
                rate=d.get("rate"),
                met=d.get("met"),
                veto_triggered=bool(d.get("veto_triggered")),
                notes=d.get("notes") or "",
                methods=d.get("methods") or [],
                evidence=d.get("evidence") or [],
                updated_by=row.updated_by,
                updated_at=row.updated_at,
            )
        )
    return SheetRead(
        id=sheet.id,
        round_code=sheet.round_code,
        rubric_id=sheet.rubric_id,
        rubric_version=rubric.version,
        site=site_ref(sheet),
        team=TeamRef(
            id=sheet.team_id,
            name=sheet.team_name,
            leader_user_id=sheet.team_leader_user_id,
            member_user_ids=sheet.team_member_ids,
        ),
        status=sheet.status,  # type: ignore[arg-type]
        version=sheet.version,
        etag=etag_of(sheet),
        poll=sheet.poll,
        notes=sheet.notes,
        items=out_items,
        results=SheetResults(
            sections=[
                SectionScore(
                    code=s.code,
                    title=s.title,
                    weight=float(s.weight),
                    points=float(s.points),
                    max_points=float(s.max_points),
                    percent=None if s.percent is None else float(s.percent),
                    scored_items=s.scored_items,
                    items=s.items,
                )
                for s in result.sections
            ],
            score=None if result.score is None else float(result.score),
            grade=result.grade,
            grade_before_veto=result.grade_before_veto,
            veto_items=result.veto_items,
            scored_items=result.scored_items,
            items=result.items,
            complete=result.complete,
        ),
        return_reason=sheet.return_reason,
        content_sha256=sheet.content_sha256,
        created_by=sheet.created_by,
        created_at=sheet.created_at,
        updated_at=sheet.updated_at,
        submitted_by=sheet.submitted_by,
        submitted_at=sheet.submitted_at,
        reviewed_by=sheet.reviewed_by,
        reviewed_at=sheet.reviewed_at,
        locked_by=sheet.locked_by,
        locked_at=sheet.locked_at,
    )
