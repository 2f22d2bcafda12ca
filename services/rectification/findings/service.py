"""Findings from scoring become problems: once per finding, however often and under whatever event id it
is delivered (no FastAPI here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kit import orgunit
from services.kit.errors import ServiceUnavailable
from services.rectification.countdown import plan_milestones
from services.rectification.deadlines import service as deadlines
from services.rectification.deadlines.policy import Policy
from services.rectification.enums import Status
from services.rectification.findings import access, repository
from services.rectification.findings.schemas import FindingAccepted, FindingEnvelope
from services.rectification.models import Problem
from services.rectification.problems import repository as problem_repository
from services.rectification.problems import service as problem_service


@dataclass(frozen=True)
class Receipt:
    """The answer to one delivery: its status, its body, and whether it repeats a stored answer."""

    status_code: int
    body: Any
    replay: bool = False


async def create_problem_from_finding(
    session: AsyncSession, *, envelope: FindingEnvelope, now: datetime, policy: Policy
) -> tuple[Problem, bool]:
    """The problem for a scoring finding: the same event id, or the same finding of the same sheet
    under any event id, always gives the same problem (whatever became of it since: a withdrawn or
    merged problem is not made again)."""
    existing = await problem_repository.get_problem_by_source(session, envelope.id)
    if existing is not None:
        return existing, False
    data = envelope.data
    if data.finding_id is not None:
        existing = await problem_repository.get_problem_by_finding(session, data.sheet_id, data.finding_id)
        if existing is not None:
            return existing, False
    access.check_site(data.site, ["body", "data", "site"])
    template = await deadlines.template_for(session, data.severity)
    plans = plan_milestones(
        calendar=await deadlines.load_calendar(session), template=template, starts_at=now, deadline_at=None
    )
    description = f"{data.item_title}：{data.reason}" if data.item_title else data.reason
    problem = Problem(
        source_event_id=envelope.id,
        round_code=data.round_code,
        sheet_id=data.sheet_id,
        finding_id=data.finding_id,
        item_code=data.item_code,
        item_title=data.item_title,
        site_code=data.site.code,
        site_name=data.site.name,
        site_type=data.site.type,
        org_unit=data.site.org_unit,
        district=data.site.district,
        level=data.level,
        category=data.category,
        severity=data.severity,
        description=description,
        concerns=data.concerns,
        deduction_points=data.deduction_points,
        evidence=[],
        issued_by=data.issued_by,
        issuing_unit=orgunit.city_root(),
        responsible_unit=data.site.org_unit,
        status=Status.OPEN,
        created_at=now,
        deadline_at=now,
        template=template.as_dict(),
    )
    problem = await problem_service.insert_problem(
        session, problem=problem, plans=plans, actor=data.issued_by, now=now, policy=policy
    )
    return problem, True


async def receive_finding(
    session: AsyncSession,
    *,
    envelope: FindingEnvelope,
    key: str,
    body_hash: str,
    now: datetime,
    policy: Policy,
) -> Receipt:
    """Take one delivery of a finding: a repeated key gets the stored answer, a new one a problem.

    201 when the problem is created, 200 when the event already made it. A twin delivery of the
    same event that commits first makes this one a 503 with ``Retry-After``: the retry then gets the
    stored answer (a 409 would make the sender's relay give up on the event).
    """
    stored = await repository.stored_answer(session, key=key, body_hash=body_hash)
    if stored is not None:
        status_code, body = stored
        return Receipt(status_code, body, replay=True)
    try:
        problem, created = await create_problem_from_finding(
            session, envelope=envelope, now=now, policy=policy
        )
        assert problem.id is not None
        answer = FindingAccepted(problem_id=problem.id, created=created).model_dump()
        status_code = 201 if created else 200
        await repository.store_answer(
            session, key=key, body_hash=body_hash, status_code=status_code, answer=answer, now=now
        )
    except IntegrityError as exc:
        raise ServiceUnavailable(
            "The same finding is being recorded by a concurrent delivery; retry",
            zh="同一问题移交正由另一次并发投递记录中，请重试",
            headers={"retry-after": "1"},
        ) from exc
    return Receipt(status_code, answer)
