"""The 专报's rules: drafting from the data, editing, review by a second person, issue.

No FastAPI here. The request's session owns the transaction: issuing renders both files, stores
them with their SHA-256 and enqueues the event in that one transaction, so a failure anywhere leaves
the report approved, its number unused and no event sent.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import outbox
from services.kit.auth import Principal
from services.kit.errors import UnprocessableEntity, field_error
from services.kit.pagination import Page, PageParams
from services.kit.workdays import local_date
from services.reporting.config import Settings
from services.reporting.models import SpecialReport, outbox_event
from services.reporting.render.model import Chart, OfficialDocument
from services.reporting.reports import compose, events, repository, source
from services.reporting.reports.access import require_reviewer, require_visible, sees_drafts
from services.reporting.reports.errors import (
    DocNumberTaken,
    GenerationFailed,
    InvalidDocNumber,
    ReportIfMatchRequired,
    ReportStateConflict,
    StaleReport,
)
from services.reporting.reports.rendering import Renderers, in_thread
from services.reporting.reports.schemas import (
    STATUS_LABELS,
    DocumentFile,
    IssueIn,
    ReportStatus,
    ReviewDecision,
    ReviewIn,
    Section,
    SpecialReportDraft,
    SpecialReportRead,
    SpecialReportSummary,
    SpecialReportUpdate,
)

EDITABLE = (ReportStatus.DRAFT, ReportStatus.RETURNED)
# 甬组督〔2026〕3号: the issuer's short name, the year in 〔〕 (六角括号), the sequence number, 号.
DOC_NUMBER = re.compile(r"^(?P<issuer>[\u4e00-\u9fff]{1,10})〔(?P<year>\d{4})〕(?P<seq>[1-9]\d{0,4})号$")


def etag_of(report: SpecialReport) -> str:
    return f'"sr{report.id}.v{report.version}"'


def check_if_match(report: SpecialReport, if_match: str | None, *, required: bool) -> None:
    """428 without If-Match (when required), 412 when it names another version."""
    if not if_match:
        if required:
            raise ReportIfMatchRequired(
                "Send If-Match with the ETag you last read",
                zh="请在 If-Match 请求头中带上您最近读取到的 ETag",
                current_etag=etag_of(report),
            )
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if etag_of(report) not in tags and "*" not in tags:
        raise StaleReport(
            "The report was changed since you read it; read it again and retry",
            zh="专报在您读取后已被修改，请重新读取后再试",
            current_etag=etag_of(report),
        )


_ACTIONS_ZH = {"edited": "修改", "submitted": "提交审核", "reviewed": "审核", "issued": "印发"}


def _require_status(report: SpecialReport, action: str, *allowed: ReportStatus) -> None:
    if report.status not in allowed:
        label = STATUS_LABELS.get(report.status, report.status)
        raise ReportStateConflict(
            f"Special report {report.id} is {report.status} ({label}): it cannot be {action}"
            + (" — an issued report is immutable" if report.status == ReportStatus.ISSUED else ""),
            zh=f"专报 {report.id} 当前为“{label}”状态，不能{_ACTIONS_ZH.get(action, action)}"
            + ("——已印发的专报不可更改" if report.status == ReportStatus.ISSUED else ""),
            report_id=report.id,
            report_status=report.status,
            allowed=[s.value for s in allowed],
        )


def _touch(report: SpecialReport, now: datetime) -> None:
    report.version += 1
    report.updated_at = now


def read(report: SpecialReport) -> SpecialReportRead:
    files: list[DocumentFile] = []
    if report.status == ReportStatus.ISSUED:
        for fmt, blob, sha in (
            ("docx", report.docx, report.docx_sha256),
            ("pdf", report.pdf, report.pdf_sha256),
        ):
            if blob is not None and sha is not None:
                files.append(
                    DocumentFile(
                        format=fmt,
                        sha256=sha,
                        size=len(blob),
                        url=f"/special-reports/{report.id}/document.{fmt}",
                    )
                )
    return SpecialReportRead(
        id=report.id or 0,
        round_code=report.round_code,
        title=report.title,
        status=ReportStatus(report.status),
        status_label=STATUS_LABELS[report.status],
        version=report.version,
        sections=[Section.model_validate(s) for s in report.sections],
        author_id=report.author_id,
        created_at=report.created_at,
        updated_at=report.updated_at,
        data_as_of=report.data_as_of,
        submitted_at=report.submitted_at,
        reviewer_id=report.reviewer_id,
        reviewed_at=report.reviewed_at,
        review_comment=report.review_comment,
        doc_number=report.doc_number,
        issued_by=report.issued_by,
        issued_at=report.issued_at,
        issued_on=report.issued_on,
        files=files,
    )


def _summary(report: SpecialReport) -> SpecialReportSummary:
    return SpecialReportSummary(
        id=report.id or 0,
        round_code=report.round_code,
        title=report.title,
        status=ReportStatus(report.status),
        status_label=STATUS_LABELS[report.status],
        author_id=report.author_id,
        updated_at=report.updated_at,
        doc_number=report.doc_number,
        issued_at=report.issued_at,
    )


async def draft_report(
    session: AsyncSession,
    *,
    round_code: str,
    draft_in: SpecialReportDraft,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> SpecialReport:
    """Draft a 专报 from the round's data (404 unknown round, 409 results not published)."""
    facts = await source.published_round_facts(session, round_code)
    previous = await source.previous_round_facts(session, round_code)
    # Every figure computed once (a round of 10,000 sheets and 20,000 problems drafts in well under a second).
    figures = compose.Figures.of(
        facts, previous, now, yellow_days=settings.light_yellow_days, red_days=settings.light_red_days
    )
    sections = compose.sections_of(figures, now)
    report = SpecialReport(
        round_code=round_code,
        title=draft_in.title or compose.default_title(facts),
        status=ReportStatus.DRAFT,
        sections=[s.model_dump() for s in sections],
        tables=compose.tables_of(figures),
        charts=compose.charts_of(figures.ranking),
        author_id=principal.sub,
        author_name=principal.name,
        created_at=now,
        updated_at=now,
        data_as_of=facts.as_of,
    )
    return await repository.add(session, report)


async def list_reports(
    session: AsyncSession,
    *,
    round_code: str,
    status: ReportStatus | None,
    principal: Principal,
    page: PageParams,
) -> Page[SpecialReportSummary]:
    """The round's reports (404 unknown round); readers who see issued ones only get those."""
    await source.round_header(session, round_code)
    if sees_drafts(principal):
        statuses = None if status is None else [status.value]
    else:
        statuses = [ReportStatus.ISSUED.value] if status in (None, ReportStatus.ISSUED) else []
    rows, total = await repository.list_for_round(session, round_code, statuses=statuses, page=page)
    return Page.of([_summary(r) for r in rows], total, page)


async def readable(
    session: AsyncSession, principal: Principal, report_id: int, *, for_update: bool = False
) -> SpecialReport:
    return require_visible(
        principal, await repository.get(session, report_id, for_update=for_update), report_id
    )


async def update_report(
    session: AsyncSession,
    *,
    report: SpecialReport,
    update: SpecialReportUpdate,
    if_match: str | None,
    now: datetime,
) -> SpecialReport:
    """Edit the title or sections (draft or returned only; If-Match required)."""
    _require_status(report, "edited", *EDITABLE)
    check_if_match(report, if_match, required=True)
    if update.sections is not None:
        keys = [s.key for s in update.sections]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise UnprocessableEntity(
                f"Section keys must be unique: {', '.join(dupes)} repeated",
                zh=f"章节的 key 不能重复：{'、'.join(dupes)} 出现了多次",
                errors=[
                    field_error(
                        ["body", "sections"],
                        f"duplicate section key {dupes[0]!r}",
                        zh=f"章节 key {dupes[0]!r} 重复",
                    )
                ],
            )
        report.sections = [s.model_dump() for s in update.sections]
    if update.title is not None:
        report.title = update.title
    _touch(report, now)
    await session.flush()
    return report


async def submit_report(
    session: AsyncSession, *, report: SpecialReport, principal: Principal, if_match: str | None, now: datetime
) -> SpecialReport:
    """Send a draft (or a returned report) for review."""
    _require_status(report, "submitted", *EDITABLE)
    check_if_match(report, if_match, required=True)
    report.status = ReportStatus.IN_REVIEW
    report.submitted_at = now
    report.reviewer_id = None
    report.reviewed_at = None
    _touch(report, now)
    await session.flush()
    return report


async def review_report(
    session: AsyncSession,
    *,
    report: SpecialReport,
    review: ReviewIn,
    principal: Principal,
    if_match: str | None,
    now: datetime,
) -> SpecialReport:
    """Approve, or return with a comment (a city admin other than the author)."""
    _require_status(report, "reviewed", ReportStatus.IN_REVIEW)
    check_if_match(report, if_match, required=True)
    require_reviewer(principal, report)
    if review.decision == ReviewDecision.RETURN and not review.comment:
        raise UnprocessableEntity(
            "Returning a report needs a comment saying what to change",
            zh="退回专报须填写意见，说明需要修改什么",
            errors=[field_error(["body", "comment"], "required when decision is return", zh="退回时必填")],
        )
    report.status = (
        ReportStatus.APPROVED if review.decision == ReviewDecision.APPROVE else ReportStatus.RETURNED
    )
    report.reviewer_id = principal.sub
    report.reviewed_at = now
    report.review_comment = review.comment
    _touch(report, now)
    await session.flush()
    return report


def parse_doc_number(doc_number: str, *, issuer: str, year: int) -> tuple[str, int, int]:
    """(issuer, year, sequence) of a 发文字号; 422 naming `doc_number` when it is not this issuer's
    number of this year in the form 甬组督〔2026〕3号."""
    m = DOC_NUMBER.match(doc_number.strip())
    example = f"{issuer}〔{year}〕3号"
    if m is None:
        raise InvalidDocNumber(
            f"{doc_number!r} is not a document number like {example}",
            zh=f"{doc_number!r} 不是形如 {example} 的发文字号",
            errors=[
                field_error(["body", "doc_number"], f"expected the form {example}", zh=f"应形如 {example}")
            ],
        )
    if m["issuer"] != issuer:
        raise InvalidDocNumber(
            f"Document numbers of this service start with {issuer}, not {m['issuer']}",
            zh=f"本服务的发文字号以 {issuer} 开头，而不是 {m['issuer']}",
            errors=[
                field_error(
                    ["body", "doc_number"], f"the issuer must be {issuer}", zh=f"机关代字应为 {issuer}"
                )
            ],
        )
    if int(m["year"]) != year:
        raise InvalidDocNumber(
            f"The year of {doc_number} must be the year of issue, {year}",
            zh=f"{doc_number} 的年份应为印发年份 {year}",
            errors=[field_error(["body", "doc_number"], f"the year must be {year}", zh=f"年份应为 {year}")],
        )
    return m["issuer"], int(m["year"]), int(m["seq"])


async def compose_document(
    session: AsyncSession,
    report: SpecialReport,
    *,
    renderers: Renderers,
    settings: Settings,
    doc_number: str | None,
    dated: datetime,
    draft: bool,
) -> OfficialDocument:
    """The report as an official document (a draft is marked 草稿 on every page)."""
    charts: list[tuple[str, str | None, bytes]] = []
    for c in report.charts:
        png = await in_thread(renderers.chart, Chart.model_validate(c["chart"]), "png")
        charts.append((c["after"], c.get("caption"), png))
    return compose.document(
        title=report.title,
        sections=[Section.model_validate(s) for s in report.sections],
        tables=report.tables,
        charts=charts,
        issuer_mark=settings.issuer_mark,
        addressee=settings.special_report_addressee,
        doc_number=doc_number,
        dated=local_date(dated),
        draft=draft,
    )


async def issue_report(
    session: AsyncSession,
    *,
    report: SpecialReport,
    issue: IssueIn,
    principal: Principal,
    renderers: Renderers,
    settings: Settings,
    if_match: str | None,
    now: datetime,
) -> SpecialReport:
    """Issue an approved report: number it, render DOCX and PDF once, keep both and their SHA-256."""
    _require_status(report, "issued", ReportStatus.APPROVED)
    check_if_match(report, if_match, required=True)
    issuer, year, seq = parse_doc_number(
        issue.doc_number, issuer=settings.doc_number_issuer, year=local_date(now).year
    )
    holder = await repository.holder_of(session, issuer=issuer, year=year, seq=seq)
    if holder is not None:
        raise DocNumberTaken(
            f"{issue.doc_number} is already the number of special report {holder.id} ({holder.title})",
            zh=f"{issue.doc_number} 已是专报 {holder.id}（{holder.title}）的发文字号",
            doc_number=issue.doc_number,
            report_id=holder.id,
        )
    doc_number = f"{issuer}〔{year}〕{seq}号"
    try:
        doc = await compose_document(
            session,
            report,
            renderers=renderers,
            settings=settings,
            doc_number=doc_number,
            dated=now,
            draft=False,
        )
        docx = await in_thread(renderers.docx, doc)
        pdf = await in_thread(renderers.pdf, doc)
    except Exception as exc:
        # Nothing was changed nor flushed: the session rolls back with the error, the report stays approved.
        raise GenerationFailed(
            f"Special report {report.id} could not be generated ({type(exc).__name__}); it stays approved "
            "and the number was not used",
            zh=f"专报 {report.id} 未能生成（{type(exc).__name__}）；专报仍为已审核状态，发文字号未被占用",
            report_id=report.id,
        ) from exc
    round_row = await source.round_header(session, report.round_code)
    report.status = ReportStatus.ISSUED
    report.issuer, report.doc_year, report.doc_seq, report.doc_number = issuer, year, seq, doc_number
    report.issued_by = principal.sub
    report.issued_at = now
    report.issued_on = local_date(now)
    report.docx, report.pdf = docx, pdf
    report.docx_sha256 = hashlib.sha256(docx).hexdigest()
    report.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    _touch(report, now)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another request took the number between our check and our write.
        raise DocNumberTaken(
            f"{doc_number} was just used by another report",
            zh=f"{doc_number} 刚被另一份专报使用",
            doc_number=doc_number,
        ) from exc
    await outbox.enqueue(
        session,
        outbox_event,
        event_type=events.SPECIAL_REPORT_ISSUED,
        target=events.TARGET,
        path=events.PATH,
        payload=events.special_report_issued(
            report, round_name=round_row.name, base_url=settings.public_base_url
        ),
        now=now,
    )
    return report


async def document_bytes(
    session: AsyncSession,
    report: SpecialReport,
    fmt: str,
    *,
    renderers: Renderers,
    settings: Settings,
    now: datetime,
) -> tuple[bytes, str | None]:
    """(file, ETag): the stored bytes of an issued report (ETag = their SHA-256), else rendered now
    and marked 草稿 (no ETag: it changes with every edit)."""
    if report.status == ReportStatus.ISSUED:
        blob = report.docx if fmt == "docx" else report.pdf
        sha = report.docx_sha256 if fmt == "docx" else report.pdf_sha256
        assert blob is not None and sha is not None
        return blob, f'"{sha}"'
    doc = await compose_document(
        session, report, renderers=renderers, settings=settings, doc_number=None, dated=now, draft=True
    )
    try:
        return await in_thread(renderers.docx if fmt == "docx" else renderers.pdf, doc), None
    except Exception as exc:
        raise GenerationFailed(
            f"The draft could not be rendered ({type(exc).__name__})",
            zh=f"草稿未能生成文件（{type(exc).__name__}）",
        ) from exc
