"""Rubric versions: drafting, publishing (validated, then frozen), and binding rounds to a version.

No FastAPI here; the endpoint's session owns the transaction.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit.errors import NotFound, field_error
from services.kit.pagination import Page, PageParams
from services.scoring.enums import RubricStatus
from services.scoring.errors import (
    RoundRubricLocked,
    RubricFrozen,
    RubricInvalid,
    RubricNotFound,
    RubricVersionTaken,
)
from services.scoring.models import RoundRubric, Rubric
from services.scoring.rubric import RubricDefinition, parse_definition, validate_definition
from services.scoring.rubrics import repository
from services.scoring.rubrics.schemas import RoundRubricRead, RubricRead, RubricSummary
from services.scoring.sheets import repository as sheets_repository


def canonical_json(doc: Any) -> bytes:
    """The canonical form hashed for rubrics and locked sheets: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def canonical_sha256(doc: Any) -> str:
    """SHA-256 of the canonical form."""
    return hashlib.sha256(canonical_json(doc)).hexdigest()


_parsed: dict[tuple[int, str], RubricDefinition] = {}


def definition_of(rubric: Rubric) -> RubricDefinition:
    """The parsed rubric; published versions are frozen, so their parse is cached by id and hash."""
    if rubric.status == RubricStatus.PUBLISHED and rubric.id is not None and rubric.definition_sha256:
        key = (rubric.id, rubric.definition_sha256)
        if key not in _parsed:
            _parsed[key] = parse_definition(rubric.definition)
        return _parsed[key]
    return parse_definition(rubric.definition)


def rubric_read(rubric: Rubric) -> RubricRead:
    """A version with its document as the API shows it."""
    definition = definition_of(rubric)
    return RubricRead.model_validate(
        {
            **RubricSummary.model_validate(rubric).model_dump(),
            "definition": definition,
            "item_count": definition.item_count(),
        }
    )


async def list_rubrics(session: AsyncSession, *, page: PageParams) -> Page[RubricSummary]:
    """Every version, drafts and published, oldest first."""
    rows, total = await repository.list_rubrics(session, page=page)
    return Page.of([RubricSummary.model_validate(r) for r in rows], total, page)


async def get_rubric(session: AsyncSession, rubric_id: int) -> Rubric:
    """The version, or 404."""
    rubric = await repository.get_rubric(session, rubric_id)
    if rubric is None:
        raise RubricNotFound(
            f"No rubric version with id {rubric_id}",
            zh=f"没有编号为 {rubric_id} 的测评体系版本",
            rubric_id=rubric_id,
        )
    return rubric


async def _named_rubric(session: AsyncSession, rubric_id: int, field: str) -> Rubric:
    """The rubric a request body names; 422 naming the field when there is none."""
    rubric = await repository.get_rubric(session, rubric_id)
    if rubric is None:
        raise RubricInvalid(
            f"No rubric version with id {rubric_id}",
            zh=f"没有编号为 {rubric_id} 的测评体系版本",
            errors=[
                field_error(
                    ["body", field],
                    f"no rubric version with id {rubric_id}",
                    zh=f"没有编号为 {rubric_id} 的测评体系版本",
                )
            ],
        )
    return rubric


async def create_draft(
    session: AsyncSession,
    *,
    version: str,
    name: str | None,
    based_on_id: int | None,
    actor: str,
    now: datetime,
) -> Rubric:
    """Copy a version (the default when none is named) into a new editable draft."""
    if based_on_id is None:
        base = await repository.default_rubric(session)
        if base is None:
            raise RubricNotFound("There is no default rubric to copy", zh="没有可复制的默认测评体系")
    else:
        base = await _named_rubric(session, based_on_id, "based_on_id")
    if await repository.get_rubric_by_version(session, version) is not None:
        raise RubricVersionTaken(
            f"Rubric version {version!r} already exists",
            zh=f"测评体系版本 {version!r} 已存在",
            errors=[field_error(["body", "version"], "already exists", zh="已存在")],
        )
    definition = copy.deepcopy(base.definition)
    definition["version"] = version
    if name:
        definition["name"] = name
    rubric = Rubric(
        version=version,
        name=definition.get("name", version),
        status=RubricStatus.DRAFT,
        definition=definition,
        based_on_id=base.id,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(rubric)
    await session.flush()
    return rubric


async def update_draft(
    session: AsyncSession, *, rubric: Rubric, definition: RubricDefinition, now: datetime
) -> Rubric:
    """Replace a draft's document; its shape is checked on the way in, its rules when it is published."""
    if rubric.status != RubricStatus.DRAFT:
        raise RubricFrozen(
            f"Rubric {rubric.version} is published and frozen; draft a new version instead",
            zh=f"测评体系 {rubric.version} 已发布并冻结；请起草新版本",
        )
    parsed = definition
    if parsed.version != rubric.version:
        raise RubricInvalid(
            "The document's version must match the draft's",
            zh="文档中的版本号须与草稿的版本号一致",
            errors=[
                field_error(
                    ["body", "definition", "version"],
                    f"must be {rubric.version!r}",
                    zh=f"应为 {rubric.version!r}",
                )
            ],
        )
    # Stored as sent: only what the author wrote (and any annotation), no defaults filled in.
    rubric.definition = definition.model_dump(mode="json", exclude_unset=True)
    rubric.name = parsed.name
    rubric.updated_at = now
    session.add(rubric)
    await session.flush()
    return rubric


async def publish_rubric(
    session: AsyncSession, *, rubric: Rubric, make_default: bool, actor: str, now: datetime
) -> Rubric:
    """Validate a draft and freeze it; optionally make it the version new rounds bind."""
    if rubric.status != RubricStatus.DRAFT:
        raise RubricFrozen(
            f"Rubric {rubric.version} is already published", zh=f"测评体系 {rubric.version} 已发布"
        )
    errors = validate_definition(parse_definition(rubric.definition), base=["definition"])
    if errors:
        raise RubricInvalid(
            f"Rubric {rubric.version} fails {len(errors)} check(s); nothing was published",
            zh=f"测评体系 {rubric.version} 有 {len(errors)} 项校验未通过；未发布",
            errors=errors,
        )
    if make_default:
        await repository.clear_default_rubric(session)
    rubric.status = RubricStatus.PUBLISHED
    rubric.is_default = make_default
    rubric.definition_sha256 = canonical_sha256(rubric.definition)
    rubric.published_by = actor
    rubric.published_at = now
    rubric.updated_at = now
    session.add(rubric)
    await session.flush()
    return rubric


async def bind_round(
    session: AsyncSession, *, round_code: str, rubric_id: int, actor: str, now: datetime
) -> RoundRubric:
    """Bind a round to a published version; refused once the round has sheets on another version."""
    rubric = await _named_rubric(session, rubric_id, "rubric_id")
    if rubric.status != RubricStatus.PUBLISHED:
        raise RubricInvalid(
            "Only a published rubric version can be bound to a round",
            zh="只有已发布的测评体系版本才能指定给督查轮次",
            errors=[
                field_error(
                    ["body", "rubric_id"],
                    f"rubric {rubric.version} is a draft",
                    zh=f"测评体系 {rubric.version} 是草稿",
                )
            ],
        )
    binding = await repository.get_round_rubric(session, round_code)
    if (
        binding is not None
        and binding.rubric_id != rubric_id
        and await sheets_repository.count_round_sheets(session, round_code)
    ):
        raise RoundRubricLocked(
            f"Round {round_code} already has score sheets on another rubric version",
            zh=f"督查轮次 {round_code} 已有评分表使用另一版本的测评体系",
            rubric_id=binding.rubric_id,
        )
    if binding is None:
        binding = RoundRubric(round_code=round_code, rubric_id=rubric_id, bound_by=actor, bound_at=now)
    else:
        binding.rubric_id, binding.bound_by, binding.bound_at = rubric_id, actor, now
    session.add(binding)
    await session.flush()
    return binding


async def rubric_for_round(session: AsyncSession, *, round_code: str, actor: str, now: datetime) -> Rubric:
    """The round's version; an unbound round is bound to the current default on first use."""
    binding = await repository.get_round_rubric(session, round_code)
    if binding is not None:
        return await get_rubric(session, binding.rubric_id)
    rubric = await repository.default_rubric(session)
    if rubric is None or rubric.id is None:
        raise RubricNotFound(
            "No published default rubric to bind the round to", zh="没有已发布的默认测评体系可供指定给本轮"
        )
    try:
        # A savepoint: two first sheets of a round at once both try to bind; the loser reads the winner's.
        async with session.begin_nested():
            session.add(RoundRubric(round_code=round_code, rubric_id=rubric.id, bound_by=actor, bound_at=now))
    except IntegrityError:
        binding = await repository.get_round_rubric(session, round_code)
        assert binding is not None
        return await get_rubric(session, binding.rubric_id)
    return rubric


async def round_rubric(session: AsyncSession, round_code: str) -> RoundRubricRead:
    """Which version a round is scored on; 404 while no sheet has bound it."""
    binding = await repository.get_round_rubric(session, round_code)
    if binding is None:
        raise NotFound(
            f"Round {round_code} is not bound to a rubric yet; its first sheet binds the default",
            zh=f"督查轮次 {round_code} 尚未指定测评体系；其第一份评分表会指定默认版本",
            round_code=round_code,
        )
    rubric = await get_rubric(session, binding.rubric_id)
    return RoundRubricRead(
        round_code=round_code,
        rubric_id=binding.rubric_id,
        rubric_version=rubric.version,
        bound_by=binding.bound_by,
        bound_at=binding.bound_at,
    )


async def bound_rubric(session: AsyncSession, round_code: str) -> Rubric | None:
    """The rubric version a round is scored on; None while it is unbound."""
    binding = await repository.get_round_rubric(session, round_code)
    return None if binding is None else await get_rubric(session, binding.rubric_id)


async def round_definition(
    session: AsyncSession, round_code: str
) -> tuple[str | None, RubricDefinition | None]:
    """The version name and document a round is scored on; (None, None) while it is unbound."""
    rubric = await bound_rubric(session, round_code)
    if rubric is None:
        return None, None
    return rubric.version, definition_of(rubric)
