"""Score sheets' rules: opening, scoring, the review lifecycle, locking, and handing findings over.

No FastAPI here; the endpoint's session owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import i18n
from services.kit.auth import Principal
from services.kit.errors import NotFound, field_error
from services.kit.pagination import Page, PageParams, Sort
from services.scoring import calc, clients, events
from services.scoring.clients import EvidenceFile, EvidenceFiles
from services.scoring.enums import EDITABLE, RETURNABLE, SheetAction, SheetStatus
from services.scoring.errors import (
    IfMatchRequired,
    InvalidScores,
    InvalidTransition,
    SheetExists,
    SheetIncomplete,
    SheetLocked,
    SiteNotDrawn,
    StaleEtag,
    sheet_status_zh,
)
from services.scoring.models import ItemScore, Rubric, ScoreSheet, SheetFinding, SheetHistory
from services.scoring.rubric import RubricDefinition, RubricItem, RubricSection
from services.scoring.rubrics.service import (
    canonical_json,
    canonical_sha256,
    definition_of,
    get_rubric,
    rubric_for_round,
)
from services.scoring.sheets import access, repository
from services.scoring.sheets import evidence as evidence_rules
from services.scoring.sheets.errors import SheetBatchRejected
from services.scoring.sheets.schemas import (
    ExistingSheet,
    HistoryEntry,
    ItemScoreIn,
    ItemScoreRead,
    OpenedSheet,
    PollRead,
    SectionScore,
    SheetBatchCreate,
    SheetBatchRead,
    SheetFilter,
    SheetRead,
    SheetResults,
    SheetSummary,
    SheetUpdate,
    SiteRef,
    TeamRef,
)


async def readable_sheet(
    session: AsyncSession, principal: Principal, sheet_id: str, *, for_update: bool = False
) -> ScoreSheet:
    """The sheet, or 404 when it is missing or the caller may not see it (the same answer).

    `for_update` row-locks it until the transaction ends, so two writers with one ETag can't both win.
    """
    sheet = await repository.get_sheet(session, sheet_id, for_update=for_update)
    return access.require_readable(sheet, principal, sheet_id)


async def list_sheets(
    session: AsyncSession, *, where: SheetFilter, principal: Principal, sort: Sort, page: PageParams
) -> Page[SheetSummary]:
    """The sheets matching `where` that the caller may see (inside their scope, or their team's)."""
    rows, total = await repository.list_sheets(
        session, where=where, visible=access.visibility(principal), sort=sort, page=page
    )
    return Page.of([sheet_summary(s) for s in rows], total, page)


async def sheet_history(session: AsyncSession, sheet: ScoreSheet, *, page: PageParams) -> Page[HistoryEntry]:
    """A page of every change to the sheet, oldest first."""
    rows, total = await repository.sheet_history(session, sheet.id, page=page)
    return Page.of([HistoryEntry.model_validate(h) for h in rows], total, page)


def etag_of(sheet: ScoreSheet) -> str:
    """The sheet's ETag: its id and version."""
    return f'"{sheet.id}.{sheet.version}"'


def check_if_match(sheet: ScoreSheet, if_match: str | None) -> None:
    """428 without If-Match, 412 when it names another version."""
    if not if_match:
        raise IfMatchRequired(
            "Send If-Match with the ETag you last read",
            zh="请用 If-Match 请求头带上您最近读取到的 ETag",
            current_etag=etag_of(sheet),
        )
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if etag_of(sheet) not in tags and "*" not in tags:
        raise StaleEtag(
            "The sheet was changed since you read it; read it again and retry",
            zh="评分表在您读取后已被修改；请重新读取后重试",
            current_etag=etag_of(sheet),
        )


async def _assignment(
    http: httpx.AsyncClient, sampling_url: str, *, round_code: str, site_code: str
) -> clients.Assignment:
    assignment = await clients.get_assignment(http, sampling_url, round_code=round_code, site_code=site_code)
    if assignment is None:
        raise SiteNotDrawn(
            f"Site {site_code} was not drawn in round {round_code}",
            zh=f"单位 {site_code} 未在督查轮次 {round_code} 中抽中",
            errors=[
                field_error(
                    ["body", "site_code"],
                    f"not drawn in round {round_code}",
                    zh=f"未在督查轮次 {round_code} 中抽中",
                )
            ],
        )
    return assignment


def _apply_team(sheet: ScoreSheet, a: clients.Assignment) -> None:
    sheet.team_id = a.team.id
    sheet.team_name = a.team.name
    sheet.team_leader_user_id = a.team.leader_user_id
    sheet.team_member_ids = sorted(set(a.team.member_user_ids))


async def create_sheet(
    session: AsyncSession,
    *,
    http: httpx.AsyncClient,
    sampling_url: str,
    round_code: str,
    site_code: str,
    principal: Principal,
    now: datetime,
    assignment: clients.Assignment | None = None,
) -> ScoreSheet:
    """Open a draft for a site drawn in the round, by a member of the team it was assigned to."""
    if assignment is None:
        assignment = await _assignment(http, sampling_url, round_code=round_code, site_code=site_code)
        access.require_assigned(
            assignment.team_user_ids(), principal, site_code=site_code, team_id=assignment.team.id, now=False
        )
    existing = await repository.find_sheet(session, round_code=round_code, site_code=site_code)
    if existing is not None:
        raise SheetExists(
            f"Round {round_code} already has sheet {existing.id} for {site_code}",
            zh=f"督查轮次 {round_code} 已有 {site_code} 的评分表 {existing.id}",
            sheet_id=existing.id,
        )
    rubric = await rubric_for_round(session, round_code=round_code, actor=principal.sub, now=now)
    definition = definition_of(rubric)
    site = assignment.site
    applicable = definition.applicable_items(site.type)
    if not applicable:
        raise SiteNotDrawn(
            f"Rubric {rubric.version} has no items for site type {site.type!r}",
            zh=f"测评体系 {rubric.version} 没有适用于单位类型 {site.type!r} 的细项",
            errors=[
                field_error(
                    ["body", "site_code"],
                    f"site type {site.type!r} is not scored by rubric {rubric.version}",
                    zh=f"单位类型 {site.type!r} 不在测评体系 {rubric.version} 的评分范围内",
                )
            ],
        )
    assert rubric.id is not None
    sheet = _new_sheet(assignment, round_code=round_code, rubric_id=rubric.id, actor=principal.sub, now=now)
    session.add(sheet)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same site opened twice at once: the unique (round, site) decides
        raise SheetExists(
            f"Round {round_code} already has a sheet for {site_code}",
            zh=f"督查轮次 {round_code} 已有 {site_code} 的评分表",
        ) from exc
    # Core inserts: constructing SQLModel table objects one by one costs ~1 ms each (pydantic warns inside).
    await repository.insert_rows(session, ItemScore, _blank_items(sheet.id, applicable))
    _recompute(sheet, definition, {it.code: None for _, it in applicable})
    await _history(
        session,
        sheet,
        action=SheetAction.CREATED,
        actor=principal.sub,
        now=now,
        changes={"team_id": sheet.team_id},
    )
    await session.flush()
    await _emit_facts(session, [sheet], now=now)
    return sheet


def _new_sheet(
    assignment: clients.Assignment, *, round_code: str, rubric_id: int, actor: str, now: datetime
) -> ScoreSheet:
    site = assignment.site
    sheet = ScoreSheet(
        id=str(uuid.uuid4()),
        round_code=round_code,
        rubric_id=rubric_id,
        site_code=site.code,
        site_name=site.name,
        site_type=site.type,
        org_unit=site.org_unit,
        district=site.district,
        team_id="",
        team_leader_user_id="",
        status=SheetStatus.DRAFT,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _apply_team(sheet, assignment)
    return sheet


def _blank_items(sheet_id: str, applicable: list[tuple[RubricSection, RubricItem]]) -> list[dict[str, Any]]:
    return [
        {
            "sheet_id": sheet_id,
            "item_code": it.code,
            "section_code": section.code,
            "max_points": it.points,
            "points": None,
            "deduction_count": 0,
            "finding_count": 0,
            "not_applicable": False,
            "detail": {},
        }
        for section, it in applicable
    ]


def _batch_error(index: int | None, site_code: str, msg: str, kind: str) -> dict[str, Any]:
    # A listed site is named by its place in `site_codes`; a site the batch chose itself by its code alone.
    loc: list[str | int] = ["body", "site_codes", index] if index is not None else ["body"]
    return {**field_error(loc, msg, kind, zh=msg), "site_code": site_code}


def _choose_sites(
    assignments: list[clients.Assignment], batch: SheetBatchCreate, principal: Principal, round_code: str
) -> tuple[list[tuple[int | None, clients.Assignment]], list[dict[str, Any]]]:
    """The assignments a batch opens sheets for (with their index in `site_codes`), and what it refuses."""
    teams: dict[str, set[str]] = {}
    for a in assignments:
        teams.setdefault(a.team.id, set()).update(a.team_user_ids())
    if batch.team_id is not None:
        if batch.team_id not in teams:
            raise SheetBatchRejected(
                f"Round {round_code} has no team {batch.team_id}; no sheet was opened",
                zh=f"本轮（{round_code}）没有督查组 {batch.team_id}；未创建任何评分表",
                errors=[
                    field_error(
                        ["body", "team_id"],
                        f"本轮（{round_code}）没有督查组 {batch.team_id}",
                        "team_unknown",
                        zh=f"本轮（{round_code}）没有督查组 {batch.team_id}",
                    )
                ],
            )
        access.require_batch_team(batch.team_id, teams[batch.team_id], principal)

    def wanted(a: clients.Assignment) -> bool:
        return batch.team_id is None or a.team.id == batch.team_id

    if batch.site_codes is None:
        every = sorted(
            (a for a in assignments if wanted(a) and access.may_open(a, principal)), key=lambda a: a.site.code
        )
        return [(None, a) for a in every], []
    by_site = {a.site.code: a for a in assignments}
    out: list[tuple[int | None, clients.Assignment]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    every_team = access.opens_for_every_team(principal)
    for i, code in enumerate(batch.site_codes):
        found = by_site.get(code)
        if code in seen:
            errors.append(_batch_error(i, code, f"与第 {seen[code] + 1} 项重复", "duplicate"))
        elif found is None or (every_team and not access.may_open(found, principal)):
            # Outside an admin's scope reads like not drawn: the batch does not say where a site lies.
            errors.append(
                _batch_error(
                    i, code, f"站点 {code} 未在本轮（{round_code}）抽中，或不在您的范围内", "not_drawn"
                )
            )
        elif not access.may_open(found, principal):
            errors.append(
                _batch_error(i, code, f"站点 {code} 分配给督查组 {found.team.id}，您不在该组", "not_in_team")
            )
        elif not wanted(found):
            errors.append(
                _batch_error(
                    i, code, f"站点 {code} 分配给督查组 {found.team.id}，不是 {batch.team_id}", "other_team"
                )
            )
        else:
            out.append((i, found))
        seen.setdefault(code, i)
    return out, errors


async def create_sheets_batch(
    session: AsyncSession,
    *,
    http: httpx.AsyncClient,
    sampling_url: str,
    round_code: str,
    batch: SheetBatchCreate,
    principal: Principal,
    now: datetime,
) -> SheetBatchRead:
    """Open the drafts of many drawn sites at once: all of them or none (422 naming each refused site).

    A team member opens their team's sites, a city admin every team's inside their scope. Sites that
    already have a sheet are reported in `existing`, never opened twice, so the batch can be sent again.
    """
    assignments = await clients.list_assignments(http, sampling_url, round_code=round_code)
    if assignments is None:
        raise NotFound(
            f"Sampling has no round {round_code}",
            zh=f"抽样服务中没有督查轮次 {round_code}",
            round_code=round_code,
        )
    chosen, errors = _choose_sites(assignments, batch, principal, round_code)
    opened = {
        s.site_code: s
        for s in await repository.find_sheets(
            session, round_code=round_code, site_codes=[a.site.code for _, a in chosen]
        )
    }
    to_open = [(i, a) for i, a in chosen if a.site.code not in opened]
    sheets: list[ScoreSheet] = []
    if to_open:
        rubric = await rubric_for_round(session, round_code=round_code, actor=principal.sub, now=now)
        definition = definition_of(rubric)
        assert rubric.id is not None
        items: list[dict[str, Any]] = []
        for i, a in to_open:
            applicable = definition.applicable_items(a.site.type)
            if not applicable:
                errors.append(
                    _batch_error(
                        i,
                        a.site.code,
                        f"测评体系 {rubric.version} 不评此类站点（{a.site.type}）",
                        "site_type_not_scored",
                    )
                )
                continue
            sheet = _new_sheet(a, round_code=round_code, rubric_id=rubric.id, actor=principal.sub, now=now)
            _recompute(sheet, definition, {it.code: None for _, it in applicable})
            sheets.append(sheet)
            items.extend(_blank_items(sheet.id, applicable))
    if errors:
        errors.sort(key=lambda e: (e["loc"][2] if len(e["loc"]) == 3 else 0, e["site_code"]))
        total = len(batch.site_codes) if batch.site_codes is not None else len(chosen)
        raise SheetBatchRejected(
            f"{len(errors)} of {total} site(s) refused; no sheet was opened",
            zh=f"{total} 个单位中有 {len(errors)} 个被拒绝；未创建任何评分表",
            errors=errors,
        )
    if sheets:
        session.add_all(sheets)
        try:
            await session.flush()
        except IntegrityError as exc:  # another request opened one of these sites at the same moment
            raise SheetExists(
                f"Another request opened sheets of round {round_code} at the same moment; send the batch "
                "again: what it opened is then reported as existing",
                zh=f"另一请求同时为督查轮次 {round_code} 创建了评分表；请重新发送本批：已创建的会报告为已存在",
            ) from exc
        # Core inserts for the item rows and the history: thousands of rows in two statements.
        await repository.insert_rows(session, ItemScore, items)
        await repository.insert_rows(
            session,
            SheetHistory,
            [
                {
                    "sheet_id": s.id,
                    "version": s.version,
                    "action": SheetAction.CREATED,
                    "actor": principal.sub,
                    "at": now,
                    "changes": {"team_id": s.team_id},
                }
                for s in sheets
            ],
        )
        await session.flush()
        # One snapshot per sheet opened, all in one INSERT.
        await _emit_facts(session, sheets, now=now)
    return SheetBatchRead(
        round_code=round_code,
        created=[
            OpenedSheet(
                id=s.id,
                site=site_ref(s),
                team_id=s.team_id,
                status=SheetStatus(s.status),
                version=s.version,
                etag=etag_of(s),
            )
            for s in sheets
        ],
        existing=[
            ExistingSheet(id=s.id, site=site_ref(s), team_id=s.team_id, status=SheetStatus(s.status))
            for s in (opened[a.site.code] for _, a in chosen if a.site.code in opened)
        ],
    )


def _recompute(
    sheet: ScoreSheet,
    definition: RubricDefinition,
    points: dict[str, Decimal | None],
    vetoed: set[str] | None = None,
    not_applicable: set[str] | None = None,
) -> calc.SheetResult:
    result = calc.sheet_result(
        definition, sheet.site_type, points, vetoed or set(), not_applicable=not_applicable or set()
    )
    sheet.score = float(result.score) if result.score is not None else None
    sheet.grade = result.grade
    sheet.veto_items = result.veto_items
    sheet.section_scores = {
        s.code: {
            "points": float(s.points),
            "max_points": float(s.max_points),
            "percent": None if s.percent is None else float(s.percent),
            "weight": float(s.weight),
        }
        for s in result.sections
    }
    return result


def _detail_from(
    data: ItemScoreIn, old: dict[str, Any], found: dict[str, EvidenceFile], actor: str, now: datetime
) -> dict[str, Any]:
    deductions = []
    for d in data.deductions or []:
        deductions.append(
            {
                "id": d.id or str(uuid.uuid4()),
                "points": d.points,
                "reason": d.reason,
                "finding": d.finding.model_dump() if d.finding else None,
            }
        )
    # Only an item marked 不适用 carries the mark, so the detail (and a locked sheet's content) of every
    # other item keeps the shape it always had.
    marked = (
        {"not_applicable": True, "not_applicable_reason": data.not_applicable_reason}
        if data.not_applicable
        else {}
    )
    return {
        **marked,
        "deductions": deductions,
        "grade": None if data.grade is None else data.grade.value,
        "rate": data.rate,
        "met": data.met,
        "veto_triggered": data.veto_triggered,
        "notes": data.notes,
        "methods": [m.value for m in dict.fromkeys(data.methods)],
        "evidence": evidence_rules.stored(
            data.evidence, old.get("evidence", []), found, actor=actor, now=now
        ),
    }


def _validate_update(
    sheet: ScoreSheet, definition: RubricDefinition, items: list[ItemScore], update: SheetUpdate
) -> None:
    errors: list[dict[str, Any]] = []
    by_code = {i.item_code: i for i in items}
    seen: set[str] = set()
    deduction_ids: dict[str, str] = {}
    # Deduction ids stay unique across the sheet: they name findings, and findings become events.
    replaced = {x.item_code for x in update.items}
    for it in items:
        if it.item_code not in replaced:
            for d in it.detail.get("deductions", []):
                deduction_ids[d["id"]] = it.item_code
    for i, data in enumerate(update.items):
        loc: list[str | int] = ["body", "items", i]
        rubric_item = definition.item(data.item_code)
        if rubric_item is None:
            errors.append(
                field_error(
                    [*loc, "item_code"],
                    f"no item {data.item_code!r} in rubric {definition.version}",
                    zh=f"测评体系 {definition.version} 中没有细项 {data.item_code!r}",
                )
            )
            continue
        if data.item_code not in by_code:
            errors.append(
                field_error(
                    [*loc, "item_code"],
                    f"{data.item_code} does not apply to site type {sheet.site_type!r}",
                    zh=f"{data.item_code} 不适用于单位类型 {sheet.site_type!r}",
                )
            )
            continue
        if data.item_code in seen:
            errors.append(
                field_error(
                    [*loc, "item_code"], f"{data.item_code} is listed twice", zh=f"{data.item_code} 重复列出"
                )
            )
        seen.add(data.item_code)
        errors.extend(calc.check_item_score(rubric_item, data.model_dump(), definition.graded_scale, loc))
        for j, d in enumerate(data.deductions or []):
            if d.id is not None:
                if d.id in deduction_ids:
                    errors.append(
                        field_error(
                            [*loc, "deductions", j, "id"],
                            f"deduction id {d.id} is already used on {deduction_ids[d.id]}",
                            zh=f"扣分编号 {d.id} 已用于 {deduction_ids[d.id]}",
                        )
                    )
                deduction_ids[d.id] = data.item_code
    if update.poll is not None:
        for group in update.poll:
            if group not in definition.satisfaction_poll.groups:
                errors.append(
                    field_error(
                        ["body", "poll", group],
                        f"unknown group; known: {', '.join(definition.satisfaction_poll.groups)}",
                        zh=f"未知的组别；已知组别：{', '.join(definition.satisfaction_poll.groups)}",
                    )
                )
    if errors:
        raise InvalidScores(
            f"{len(errors)} invalid field(s); nothing was saved",
            zh=i18n.invalid_fields_zh(errors, "；未保存任何内容"),
            errors=errors,
        )


def points_of(
    items: list[ItemScore], definition: RubricDefinition, poll: dict[str, Any] | None
) -> dict[str, Decimal | None]:
    """Each item's points as exact, unrounded decimals (None while unscored): the score is rounded once."""
    rate = calc.poll_rate(poll, definition)
    out: dict[str, Decimal | None] = {}
    for i in items:
        it = definition.item(i.item_code)
        exact = (
            None
            if i.points is None or it is None
            else calc.item_points(it, i.detail, definition.graded_scale, rate, exact=True)
        )
        out[i.item_code] = calc.dec(i.points) if exact is None and i.points is not None else exact
    return out


def not_applicable_items(items: list[ItemScore]) -> set[str]:
    """The items marked not applicable (不适用) at the sheet's site."""
    return {i.item_code for i in items if i.detail.get("not_applicable")}


def vetoed_items(definition: RubricDefinition, items: list[ItemScore]) -> set[str]:
    """The veto items the sheet fails."""
    out = set()
    for i in items:
        rubric_item = definition.item(i.item_code)
        if rubric_item is not None and i.points is not None and calc.item_vetoed(rubric_item, i.detail):
            out.add(i.item_code)
    return out


async def load_sheet_context(
    session: AsyncSession, sheet: ScoreSheet
) -> tuple[Rubric, RubricDefinition, list[ItemScore]]:
    """The sheet's rubric, parsed definition and item rows; read once per transaction (writes update them in place)."""
    rubric = await get_rubric(session, sheet.rubric_id)  # identity map after the first call
    key = ("scoring.items", sheet.id)
    items: list[ItemScore] | None = session.info.get(key)
    if items is None:
        items = await repository.sheet_items(session, sheet.id)
        session.info[key] = items
    return rubric, definition_of(rubric), items


def _require_editable(sheet: ScoreSheet) -> None:
    if sheet.status == SheetStatus.LOCKED:
        raise SheetLocked(
            f"Sheet {sheet.id} is locked (SHA-256 {sheet.content_sha256}); it can no longer change",
            zh=f"评分表 {sheet.id} 已锁定（SHA-256 {sheet.content_sha256}），不能再修改",
        )
    if sheet.status not in EDITABLE:
        raise InvalidTransition(
            f"Sheet {sheet.id} is {sheet.status}; only draft or returned sheets can be edited",
            zh=f"评分表 {sheet.id} 当前为{sheet_status_zh(sheet.status)}；只有草稿或已退回的评分表可以编辑",
            sheet_status=sheet.status,
            allowed=sorted(EDITABLE),
        )


async def update_sheet(
    session: AsyncSession,
    *,
    sheet: ScoreSheet,
    update: SheetUpdate,
    principal: Principal,
    if_match: str | None,
    now: datetime,
    emit: bool = True,
    files: EvidenceFiles = evidence_rules.NO_FILES,
) -> ScoreSheet:
    """Save item scores, the satisfaction poll and notes on a draft or returned sheet.

    Evidence is named by file id at the evidence service (`files`, asked as the caller): a file the
    item does not hold yet must exist there and lie in the caller's scope (422 naming it otherwise;
    503 when evidence cannot answer, and nothing is saved).

    A change sends reporting the sheet's snapshot unless `emit` is false (a submit that saves its last
    changes sends one snapshot, of the submitted sheet).
    """
    access.require_team(sheet, principal)
    _require_editable(sheet)
    check_if_match(sheet, if_match)
    _, definition, items = await load_sheet_context(session, sheet)
    _validate_update(sheet, definition, items, update)
    by_code = {i.item_code: i for i in items}
    found = await evidence_rules.resolve(
        files, update, details={c: i.detail for c, i in by_code.items()}, principal=principal
    )
    changes: dict[str, Any] = {}
    if update.poll is not None:
        new_poll = {g: c.model_dump() for g, c in update.poll.items()}
        if new_poll != sheet.poll:
            changes["poll"] = {"before": sheet.poll, "after": new_poll}
            sheet.poll = new_poll
    if update.notes is not None and update.notes != sheet.notes:
        changes["notes"] = {"before": sheet.notes, "after": update.notes}
        sheet.notes = update.notes
    rate = calc.poll_rate(sheet.poll, definition)
    item_changes: dict[str, Any] = {}
    given = {d.item_code: d for d in update.items}
    for code, row in by_code.items():
        rubric_item = definition.item(code)
        assert rubric_item is not None
        if code not in given and not (rubric_item.source and "poll" in changes):
            continue
        detail = (
            _detail_from(given[code], row.detail, found, principal.sub, now) if code in given else row.detail
        )
        points = calc.item_points(rubric_item, detail, definition.graded_scale, rate)
        new_points = None if points is None else float(points)
        if detail == row.detail and new_points == row.points:
            continue
        item_changes[code] = {
            "before": {"points": row.points, **row.detail},
            "after": {"points": new_points, **detail},
        }
        row.detail = detail
        row.points = new_points
        row.not_applicable = bool(detail.get("not_applicable"))
        row.deduction_count = len(detail.get("deductions") or [])
        row.finding_count = sum(1 for d in detail.get("deductions") or [] if d.get("finding"))
        row.updated_by, row.updated_at = principal.sub, now
        session.add(row)
    if item_changes:
        changes["items"] = item_changes
    if not changes:
        return sheet
    _recompute(
        sheet,
        definition,
        points_of(items, definition, sheet.poll),
        vetoed_items(definition, items),
        not_applicable_items(items),
    )
    sheet.version += 1
    sheet.updated_at = now
    session.add(sheet)
    await _history(session, sheet, action=SheetAction.UPDATED, actor=principal.sub, now=now, changes=changes)
    await session.flush()
    if emit:
        await _emit_fact(session, sheet, now=now)
    return sheet


async def _history(
    session: AsyncSession,
    sheet: ScoreSheet,
    *,
    action: SheetAction,
    actor: str,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    """Append one entry to the sheet's history (never updated, never deleted)."""
    row = {
        "sheet_id": sheet.id,
        "version": sheet.version,
        "action": action,
        "actor": actor,
        "at": now,
        "changes": changes,
    }
    await repository.insert_rows(session, SheetHistory, [row])


async def _move(
    session: AsyncSession,
    sheet: ScoreSheet,
    *,
    action: SheetAction,
    status: SheetStatus,
    principal: Principal,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    changes = {"status": {"before": sheet.status, "after": status.value}, **changes}
    sheet.status = status.value
    sheet.version += 1
    sheet.updated_at = now
    session.add(sheet)
    await _history(session, sheet, action=action, actor=principal.sub, now=now, changes=changes)
    await session.flush()
    await _emit_fact(session, sheet, now=now)


async def _emit_fact(session: AsyncSession, sheet: ScoreSheet, *, now: datetime) -> None:
    """Send reporting the sheet as it now stands (its version is the revision), in this transaction."""
    _, definition, items = await load_sheet_context(session, sheet)
    titles = {i.item_code: it.title for i in items if (it := definition.item(i.item_code)) is not None}
    await events.to_reporting(
        session,
        event_type=events.SHEET_CHANGED,
        payloads=[events.sheet_changed_fact(sheet, items, item_titles=titles, changed_at=now)],
        now=now,
    )


async def _emit_facts(session: AsyncSession, sheets: list[ScoreSheet], *, now: datetime) -> None:
    """Send reporting new sheets (blank: no deduction yet), one snapshot each, in one INSERT."""
    await events.to_reporting(
        session,
        event_type=events.SHEET_CHANGED,
        payloads=[events.sheet_changed_fact(s, [], item_titles={}, changed_at=now) for s in sheets],
        now=now,
    )


async def submit_sheet(
    session: AsyncSession,
    *,
    sheet: ScoreSheet,
    principal: Principal,
    if_match: str | None,
    now: datetime,
    http: httpx.AsyncClient,
    sampling_url: str,
    last_changes: SheetUpdate | None = None,
    files: EvidenceFiles = evidence_rules.NO_FILES,
) -> ScoreSheet:
    """Hand a complete sheet to the team leader for review (its findings wait for the lock).

    `last_changes` are saved first, in the same transaction: a refused submit saves nothing.
    """
    if last_changes is not None:
        await update_sheet(
            session,
            sheet=sheet,
            update=last_changes,
            principal=principal,
            if_match=if_match,
            now=now,
            emit=False,
            files=files,
        )
        if_match = etag_of(sheet)
    access.require_team(sheet, principal)
    _require_editable(sheet)
    check_if_match(sheet, if_match)
    _, _, items = await load_sheet_context(session, sheet)
    # An item marked not applicable counts as scored: it has left the denominator.
    skipped = not_applicable_items(items)
    missing = [i.item_code for i in items if i.points is None and i.item_code not in skipped]
    if missing:
        raise SheetIncomplete(
            f"{len(missing)} item(s) are not scored yet: {', '.join(missing)}",
            zh=f"有 {len(missing)} 个细项尚未评分：{', '.join(missing)}",
            errors=[field_error(["items", code], "not scored", zh="尚未评分") for code in missing],
        )
    if sheet.score is None:  # every item marked not applicable: nothing is left to score the site on
        raise SheetIncomplete(
            "Every item is marked not applicable; a sheet needs at least one scored item",
            zh="所有细项都标记为不适用；评分表至少需要一个已评分的细项",
            errors=[
                field_error(["items"], "every item is marked not applicable", zh="所有细项都标记为不适用")
            ],
        )
    # Sampling may have re-assigned the site since the sheet was opened: ask again, refresh the team.
    assignment = await _assignment(http, sampling_url, round_code=sheet.round_code, site_code=sheet.site_code)
    access.require_assigned(
        assignment.team_user_ids(), principal, site_code=sheet.site_code, team_id=assignment.team.id, now=True
    )
    _apply_team(sheet, assignment)
    sheet.submitted_by, sheet.submitted_at, sheet.return_reason = principal.sub, now, None
    await _move(
        session,
        sheet,
        action=SheetAction.SUBMITTED,
        status=SheetStatus.SUBMITTED,
        principal=principal,
        now=now,
        changes={},
    )
    await events.to_notify(
        session,
        event_type=events.SUBMITTED,
        payload=events.sheet_submitted(sheet),
        now=now,
    )
    await session.flush()
    return sheet


async def review_sheet(
    session: AsyncSession, *, sheet: ScoreSheet, principal: Principal, if_match: str | None, now: datetime
) -> ScoreSheet:
    """Confirm a submitted sheet as the team leader."""
    access.require_leader(sheet, principal)
    if sheet.status != SheetStatus.SUBMITTED:
        raise InvalidTransition(
            f"Sheet {sheet.id} is {sheet.status}; only a submitted sheet can be reviewed",
            zh=f"评分表 {sheet.id} 当前为{sheet_status_zh(sheet.status)}；只有已提交的评分表可以审核",
            sheet_status=sheet.status,
            allowed=[SheetStatus.SUBMITTED],
        )
    check_if_match(sheet, if_match)
    sheet.reviewed_by, sheet.reviewed_at = principal.sub, now
    await _move(
        session,
        sheet,
        action=SheetAction.REVIEWED,
        status=SheetStatus.REVIEWED,
        principal=principal,
        now=now,
        changes={},
    )
    return sheet


async def return_sheet(
    session: AsyncSession,
    *,
    sheet: ScoreSheet,
    reason: str,
    principal: Principal,
    if_match: str | None,
    now: datetime,
) -> ScoreSheet:
    """Send a submitted or reviewed sheet back for rework, with the reason."""
    access.require_readable(sheet, principal, sheet.id)
    if sheet.status == SheetStatus.LOCKED:
        raise SheetLocked(
            f"Sheet {sheet.id} is locked; it can no longer be returned",
            zh=f"评分表 {sheet.id} 已锁定，不能再退回",
        )
    if sheet.status not in RETURNABLE:
        raise InvalidTransition(
            f"Sheet {sheet.id} is {sheet.status}; only submitted or reviewed sheets can be returned",
            zh=f"评分表 {sheet.id} 当前为{sheet_status_zh(sheet.status)}；只有已提交或已审核的评分表可以退回",
            sheet_status=sheet.status,
            allowed=sorted(RETURNABLE),
        )
    access.require_may_return(sheet, principal, submitted=sheet.status == SheetStatus.SUBMITTED)
    check_if_match(sheet, if_match)
    sheet.return_reason = reason
    sheet.reviewed_by = sheet.reviewed_at = None
    await _move(
        session,
        sheet,
        action=SheetAction.RETURNED,
        status=SheetStatus.RETURNED,
        principal=principal,
        now=now,
        changes={"reason": reason},
    )
    await events.to_notify(
        session,
        event_type=events.RETURNED,
        payload=events.sheet_returned(sheet, returned_by=principal.sub),
        now=now,
    )
    return sheet


def sheet_content(sheet: ScoreSheet, rubric: Rubric, items: list[ItemScore]) -> dict[str, Any]:
    """The content a lock fixes: site, team, rubric version, every item's score and detail, poll and results."""
    return {
        "sheet_id": sheet.id,
        "round_code": sheet.round_code,
        "rubric": {"version": rubric.version, "sha256": rubric.definition_sha256},
        "site": events.site_of(sheet),
        "team_id": sheet.team_id,
        "items": [
            {"item_code": i.item_code, "points": i.points, "detail": i.detail}
            for i in sorted(items, key=lambda i: i.item_code)
        ],
        "poll": sheet.poll,
        "notes": sheet.notes,
        "score": sheet.score,
        "grade": sheet.grade,
        "veto_items": sheet.veto_items,
        "sections": sheet.section_scores,
        "submitted_by": sheet.submitted_by,
        "reviewed_by": sheet.reviewed_by,
    }


async def _hand_over_findings(
    session: AsyncSession,
    sheet: ScoreSheet,
    definition: RubricDefinition,
    items: list[ItemScore],
    now: datetime,
) -> None:
    """Queue each finding of the sheet for rectification, once: findings bind when the sheet is locked.

    Nothing goes before the lock, so a deduction changed, re-sent without its id or removed while the
    sheet is returned and reworked never reaches rectification; `sheet_finding` and the deterministic
    event id keep the hand-over single even if a lock were ever replayed.
    """
    sent = await repository.sent_finding_ids(session, sheet.id)
    for row in items:
        rubric_item = definition.item(row.item_code)
        assert rubric_item is not None
        for d in row.detail.get("deductions") or []:
            if not d.get("finding") or d["id"] in sent:
                continue
            event_id = events.finding_event_id(sheet.id, d["id"])
            await repository.insert_rows(
                session,
                SheetFinding,
                [
                    {
                        "sheet_id": sheet.id,
                        "finding_id": d["id"],
                        "item_code": row.item_code,
                        "event_id": event_id,
                        "enqueued_at": now,
                    }
                ],
            )
            await events.to_rectification(
                session,
                payload=events.finding_created(
                    sheet,
                    item_code=row.item_code,
                    item_title=rubric_item.title,
                    deduction=d,
                    finding=d["finding"],
                ),
                event_id=event_id,
                now=now,
            )


async def lock_sheet(
    session: AsyncSession, *, sheet: ScoreSheet, principal: Principal, if_match: str | None, now: datetime
) -> ScoreSheet:
    """Lock a reviewed sheet for good, fix its content hash and hand its findings to rectification."""
    access.require_readable(sheet, principal, sheet.id)
    if sheet.status == SheetStatus.LOCKED:
        raise SheetLocked(f"Sheet {sheet.id} is already locked", zh=f"评分表 {sheet.id} 已锁定")
    if sheet.status != SheetStatus.REVIEWED:
        raise InvalidTransition(
            f"Sheet {sheet.id} is {sheet.status}; only a reviewed sheet can be locked",
            zh=f"评分表 {sheet.id} 当前为{sheet_status_zh(sheet.status)}；只有已审核的评分表可以锁定",
            sheet_status=sheet.status,
            allowed=[SheetStatus.REVIEWED],
        )
    check_if_match(sheet, if_match)
    rubric, definition, items = await load_sheet_context(session, sheet)
    sheet.content_sha256 = canonical_sha256(sheet_content(sheet, rubric, items))
    sheet.locked_by, sheet.locked_at = principal.sub, now
    await _move(
        session,
        sheet,
        action=SheetAction.LOCKED,
        status=SheetStatus.LOCKED,
        principal=principal,
        now=now,
        changes={"content_sha256": sheet.content_sha256},
    )
    await _hand_over_findings(session, sheet, definition, items, now)
    await events.to_notify(
        session,
        event_type=events.LOCKED,
        payload=events.sheet_locked(sheet),
        now=now,
    )
    return sheet


async def sheet_out(session: AsyncSession, sheet: ScoreSheet) -> tuple[SheetRead, str]:
    """The sheet as the API shows it, and its ETag."""
    rubric, definition, items = await load_sheet_context(session, sheet)
    return sheet_read(sheet, rubric, definition, items), etag_of(sheet)


async def sheet_content_json(session: AsyncSession, sheet: ScoreSheet) -> bytes:
    """The canonical content whose SHA-256 a locked sheet carries."""
    rubric, _, items = await load_sheet_context(session, sheet)
    return canonical_json(sheet_content(sheet, rubric, items))


def site_ref(sheet: ScoreSheet) -> SiteRef:
    """The site as the sheet stored it."""
    return SiteRef(
        code=sheet.site_code,
        name=sheet.site_name,
        type=sheet.site_type,
        org_unit=sheet.org_unit,
        district=sheet.district,
    )


def sheet_summary(sheet: ScoreSheet) -> SheetSummary:
    """The sheet as a list shows it."""
    return SheetSummary(
        id=sheet.id,
        round_code=sheet.round_code,
        site=site_ref(sheet),
        team_id=sheet.team_id,
        status=SheetStatus(sheet.status),
        version=sheet.version,
        score=sheet.score,
        grade=sheet.grade,
        veto_items=sheet.veto_items,
        updated_at=sheet.updated_at,
    )


def sheet_read(
    sheet: ScoreSheet, rubric: Rubric, definition: RubricDefinition, items: list[ItemScore]
) -> SheetRead:
    """The whole sheet as the API shows it, its results recomputed from its items."""
    result = calc.sheet_result(
        definition,
        sheet.site_type,
        points_of(items, definition, sheet.poll),
        vetoed_items(definition, items),
        not_applicable=not_applicable_items(items),
    )
    out_items = []
    for row in items:
        it = definition.item(row.item_code)
        assert it is not None
        d = row.detail
        out_items.append(
            ItemScoreRead.model_validate(
                {
                    **d,
                    "item_code": row.item_code,
                    "title": it.title,
                    "section_code": row.section_code,
                    "scoring_type": it.scoring_type,
                    "max_points": row.max_points,
                    "expected_methods": it.methods,
                    "veto": it.veto,
                    "points": row.points,
                    "deductions": d.get("deductions") or [],
                    "notes": d.get("notes") or "",
                    "methods": d.get("methods") or [],
                    "evidence": d.get("evidence") or [],
                    "veto_triggered": bool(d.get("veto_triggered")),
                    "not_applicable": bool(d.get("not_applicable")),
                    "not_applicable_reason": d.get("not_applicable_reason"),
                    "updated_by": row.updated_by,
                    "updated_at": row.updated_at,
                }
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
        status=SheetStatus(sheet.status),
        version=sheet.version,
        etag=etag_of(sheet),
        poll=None if sheet.poll is None else {g: PollRead.model_validate(c) for g, c in sheet.poll.items()},
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
            not_applicable_items=sorted(not_applicable_items(items)),
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
