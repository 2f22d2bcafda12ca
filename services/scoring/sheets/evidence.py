"""Evidence on a sheet's items: files named by id at the evidence service, and what an item keeps of them.

An item names its files by id only. Each id not already on the item is looked up at the evidence
service as the caller (a file outside the caller's scope is as absent as an unknown one), and the answer
is stored in the item's detail (name, media type, SHA-256, capture time, URLs): reading a sheet asks
nobody, and a locked sheet's content hash covers its evidence hashes.

Items scored before files had ids hold ``{file_name, sha256, added_by, added_at}``; they are read as
they are (``EvidenceRead`` maps ``file_name`` to ``name``), not migrated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.i18n import invalid_fields_zh
from services.scoring.clients import EvidenceFile, EvidenceFiles, FixedEvidence
from services.scoring.enums import evidence_kind
from services.scoring.errors import InvalidEvidence
from services.scoring.sheets.schemas import SheetUpdate

# For callers without an evidence service (the demo loader): every id named is unknown.
NO_FILES = FixedEvidence()


def _attached(detail: dict[str, Any] | None) -> set[str]:
    return {str(e["file_id"]) for e in (detail or {}).get("evidence", []) if e.get("file_id")}


async def resolve(
    files: EvidenceFiles,
    update: SheetUpdate,
    *,
    details: dict[str, dict[str, Any]],
    principal: Principal,
) -> dict[str, EvidenceFile]:
    """The files the update names that its items do not hold yet, by id; 422 naming every unknown one.

    `details` are the sheet's item details by item code. A file the item already holds is not asked
    for again (an edit that keeps an item's evidence needs no evidence service). The evidence service
    answers only what the caller may read; its answer is checked against the caller's scope here too.
    """
    held = {item.item_code: _attached(details.get(item.item_code)) for item in update.items}
    wanted = [
        e.file_id for item in update.items for e in item.evidence if e.file_id not in held[item.item_code]
    ]
    found = await files.files(wanted) if wanted else {}
    errors = []
    for i, item in enumerate(update.items):
        for j, e in enumerate(item.evidence):
            if e.file_id in held[item.item_code]:
                continue
            f = found.get(e.file_id)
            if f is None or (f.org_unit is not None and not principal.covers(f.org_unit)):
                errors.append(
                    field_error(
                        ["body", "items", i, "evidence", j, "file_id"],
                        f"no evidence file {e.file_id!r} (unknown, or outside your scope)",
                        zh=f"证据文件 {e.file_id!r} 不存在或超出您的范围",
                    )
                )
    if errors:
        raise InvalidEvidence(
            f"{len(errors)} evidence file(s) not found; nothing was saved",
            zh=invalid_fields_zh(errors, "；未保存任何内容"),
            errors=errors,
        )
    return found


def stored(
    given: Sequence[Any],
    old: Sequence[dict[str, Any]],
    found: dict[str, EvidenceFile],
    *,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """An item's evidence as its detail keeps it: a file it held keeps who attached it and when."""
    held = {e["file_id"]: e for e in old if e.get("file_id")}
    out = []
    for e in given:
        prev = held.get(e.file_id)
        if prev is not None:
            out.append({**prev, "note": e.note})
            continue
        f = found[e.file_id]
        out.append(
            {
                "file_id": f.id,
                "name": f.name,
                "media_type": f.media_type,
                "kind": evidence_kind(f.kind),
                "sha256": f.sha256,
                "size": f.size,
                "captured_at": None if f.captured_at is None else f.captured_at.isoformat(),
                "content_url": f.content_url,
                "thumbnail_url": f.thumbnail_url,
                "note": e.note,
                "added_by": actor,
                "added_at": now.isoformat(),
            }
        )
    return out
