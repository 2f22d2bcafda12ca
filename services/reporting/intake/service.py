"""Accept events: validate each against its type's schema, append the new ones to the store, and
project them into the read model in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kit import events as contracts
from services.kit import i18n
from services.kit.auth import Principal
from services.kit.errors import ProblemError, UnprocessableEntity, field_error, problem_response
from services.kit.text import control_character
from services.reporting.errors import EventTooLarge, InvalidEventData, UnknownEventType, UnknownEventVersion
from services.reporting.intake import repository
from services.reporting.intake.schemas import EventEnvelope
from services.reporting.projection import service as projection

Answer = dict[str, Any]


@dataclass(frozen=True)
class Sender:
    principal: Principal
    now: datetime
    max_payload_bytes: int


WHAT_ZH = {"body": "请求体", "event": "事件", "batch": "批量请求"}


def require_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise EventTooLarge(
            f"The {what} is {size} bytes; the limit is {limit}",
            zh=f"{WHAT_ZH.get(what, what)}大小为 {size} 字节，上限为 {limit} 字节",
            limit=limit,
        )


def usable_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and control_character(value) is None


def check(envelope: EventEnvelope, prefix: Sequence[str | int]) -> int:
    """The schema version `data` satisfies; 422 naming each bad field otherwise."""
    loc = list(prefix)
    try:
        version, found = contracts.violations(envelope.type, envelope.data, envelope.version)
    except contracts.UnknownEventVersion as exc:
        raise UnknownEventVersion(
            str(exc),
            zh=f"事件类型 {envelope.type!r} 没有所指的契约版本（已知版本：{exc.known}）",
            errors=[
                field_error([*loc, "version"], str(exc), zh=f"事件类型 {envelope.type!r} 没有所指的契约版本")
            ],
            event_type=envelope.type,
            known_versions=exc.known,
        ) from exc
    except contracts.UnknownEventType as exc:
        raise UnknownEventType(
            str(exc),
            zh=f"未知的事件类型 {envelope.type!r}",
            errors=[
                field_error(
                    [*loc, "type"],
                    f"unknown event type {envelope.type!r}",
                    zh=f"未知的事件类型 {envelope.type!r}",
                )
            ],
        ) from exc
    if found:
        where = f"{envelope.type} v{version}"
        raise InvalidEventData(
            f"{len(found)} field(s) break the schema of {where}: "
            + "; ".join(f"{v.where}: {v.message}" for v in found[:10]),
            zh=f"{len(found)} 个字段不符合 {where} 的契约："
            + "；".join(f"{v.where}：{v.message}" for v in found[:10]),
            errors=[
                field_error([*loc, "data", *v.path], v.message, "schema", zh=f"不符合契约：{v.message}")
                for v in found
            ],
            event_type=envelope.type,
            schema_version=version,
        )
    return version


def parse(obj: Any, prefix: Sequence[str | int]) -> EventEnvelope:
    try:
        return EventEnvelope.model_validate(obj)
    except ValidationError as exc:
        errors = [
            field_error([*prefix, *e["loc"]], e["msg"], e["type"], zh=i18n.field_msg_zh(e))
            for e in exc.errors()
        ]
        raise UnprocessableEntity(
            f"{len(errors)} invalid field(s)", zh=f"{len(errors)} 个字段无效", errors=errors
        ) from exc


def _row(envelope: EventEnvelope, version: int, now: datetime) -> dict[str, Any]:
    return {
        "id": envelope.id,
        "type": envelope.type,
        "version": version,
        "source": envelope.source,
        "occurred_at": envelope.occurred_at,
        "received_at": now,
        "round_code": projection.round_of(envelope.type, envelope.data),
        "data": envelope.data,
    }


def _answer(envelope: EventEnvelope, seq: int | None, status: str) -> Answer:
    return {"id": envelope.id, "type": envelope.type, "seq": seq, "status": status}


async def _store(
    session: AsyncSession, sender: Sender, accepted: Sequence[tuple[EventEnvelope, int]]
) -> dict[str, tuple[int | None, str]]:
    """Append and project the new ones; {id: (seq, status)} for each of `accepted`."""
    ids = [e.id for e, _ in accepted]
    known = await repository.stored_ids(session, ids)
    fresh: dict[str, dict[str, Any]] = {}
    for envelope, version in accepted:
        if envelope.id not in known and envelope.id not in fresh:
            fresh[envelope.id] = _row(envelope, version, sender.now)
    stored = await repository.append(session, list(fresh.values()))
    await projection.apply(
        session,
        [
            {
                "seq": stored[i],
                "id": i,
                "type": row["type"],
                "occurred_at": row["occurred_at"],
                "round_code": row["round_code"],
                "data": row["data"],
            }
            for i, row in fresh.items()
            if i in stored
        ],
    )
    out: dict[str, tuple[int | None, str]] = {}
    for envelope, _ in accepted:
        # A twin later in the same batch is a duplicate of the first.
        if envelope.id in stored and envelope.id not in out:
            status = "applied" if envelope.type in projection.CONSUMED else "ignored"
            out[envelope.id] = (stored[envelope.id], status)
        else:
            out.setdefault(envelope.id, (None, "duplicate"))
    return out


async def accept_event(session: AsyncSession, sender: Sender, raw: bytes) -> Answer:
    """Accept one envelope sent as `raw`."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnprocessableEntity(
            f"The request body is not valid JSON: {exc}", zh=f"请求体不是有效的 JSON：{exc}"
        ) from exc
    envelope = parse(obj, ["body"])
    version = check(envelope, ["body"])
    seq, status = (await _store(session, sender, [(envelope, version)]))[envelope.id]
    return _answer(envelope, seq, status)


def problem_document(exc: ProblemError) -> dict[str, Any]:
    response = problem_response(
        status=exc.status, slug=exc.slug, title=exc.title, detail=exc.detail, **exc.extensions
    )
    document: dict[str, Any] = orjson.loads(response.body)
    return document


def _checked_item(
    item: Mapping[str, Any], item_id: str | None, index: int, limit: int
) -> tuple[EventEnvelope, int]:
    prefix: list[str | int] = ["body", "events", index]
    if item_id is None:
        raise UnprocessableEntity(
            "Every event needs a string id (1-64 characters, no control characters)",
            zh="每个事件都需要一个字符串 id（1-64 个字符，不含控制字符）",
            errors=[field_error([*prefix, "id"], "required", zh="必填")],
        )
    require_size(len(orjson.dumps(item)), limit, "event")
    envelope = parse(item, prefix)
    return envelope, check(envelope, prefix)


async def accept_batch(
    session: AsyncSession, sender: Sender, events: Sequence[Mapping[str, Any]]
) -> list[tuple[str | None, int, dict[str, Any]]]:
    """Accept or refuse each event on its own; (id, status, body) per event, in order."""
    checked: list[tuple[str | None, tuple[EventEnvelope, int] | ProblemError]] = []
    for i, item in enumerate(events):
        item_id = item.get("id") if usable_id(item.get("id")) else None
        try:
            checked.append((item_id, _checked_item(item, item_id, i, sender.max_payload_bytes)))
        except ProblemError as exc:
            checked.append((item_id, exc))
    outcomes = await _store(session, sender, [c for _, c in checked if not isinstance(c, ProblemError)])
    results: list[tuple[str | None, int, dict[str, Any]]] = []
    for item_id, c in checked:
        if isinstance(c, ProblemError):
            results.append((item_id, c.status, problem_document(c)))
        else:
            seq, status = outcomes[c[0].id]
            results.append((item_id, 202, _answer(c[0], seq, status)))
    return results
