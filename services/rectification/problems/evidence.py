"""Evidence on a problem: files named by id at the evidence service, what a problem keeps of them, and
the flags its verifier (核查) reads.

A body names files by id only. Each id is looked up at the evidence service as the caller (so a file
outside the caller's scope is as absent as an unknown one) and the answer is stored with the problem
(name, media type, SHA-256, capture time, URLs), so reading a problem asks nobody.

Rows written before files had ids hold ``{file_hash, name, url, note, stage}``; they are read as they
are (``EvidenceRead`` maps ``file_hash`` to ``sha256``), not migrated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.kit.auth import Principal
from services.kit.errors import field_error
from services.kit.i18n import invalid_fields_zh
from services.rectification.clients import EvidenceFile, EvidenceFiles
from services.rectification.enums import EVIDENCE_FLAG_LABELS, EvidenceFlag, EvidenceStage, evidence_kind
from services.rectification.errors import InvalidEvidence
from services.rectification.problems.schemas import EvidenceIn

# Evidence given to prove the rectification (the finding's own photos predate the problem by nature).
RECTIFICATION_STAGES = frozenset({EvidenceStage.PROGRESS, EvidenceStage.COMPLETION})


async def resolve(
    files: EvidenceFiles,
    evidence: Sequence[EvidenceIn],
    *,
    principal: Principal,
    loc: Sequence[str | int] = ("body", "evidence"),
) -> list[EvidenceFile]:
    """The files `evidence` names, in order; 422 naming each id that is unknown or outside the caller's scope.

    The evidence service answers only the files the caller may read; its answer is checked against the
    caller's scope here too, so a wrong answer cannot widen what a body may name.
    """
    found = await files.files([e.file_id for e in evidence]) if evidence else {}
    errors = []
    out = []
    for i, e in enumerate(evidence):
        f = found.get(e.file_id)
        if f is None or (f.org_unit is not None and not principal.covers(f.org_unit)):
            errors.append(
                field_error(
                    [*loc, i, "file_id"],
                    f"no evidence file {e.file_id!r} (unknown, or outside your scope)",
                    zh=f"证据文件 {e.file_id!r} 不存在或超出您的范围",
                )
            )
            continue
        out.append(f)
    if errors:
        raise InvalidEvidence(
            f"{len(errors)} evidence file(s) not found; nothing was written",
            zh=invalid_fields_zh(errors, "；未写入任何内容"),
            errors=errors,
        )
    return out


def stored(
    evidence: Sequence[EvidenceIn],
    files: Sequence[EvidenceFile],
    *,
    stage: EvidenceStage,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """What the problem keeps of each attached file (JSON), as the evidence service described it."""
    return [
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
            "stage": stage,
            "added_by": actor,
            "added_at": now.isoformat(),
        }
        for e, f in zip(evidence, files, strict=True)
    ]


def sha256_of(entry: dict[str, Any]) -> str:
    """The file's SHA-256, in either the current or the hash-only (older) shape."""
    return str(entry.get("sha256") or entry.get("file_hash") or "")


def key_of(entry: dict[str, Any]) -> str:
    """What makes two entries the same file: its id, else (older rows) its hash."""
    return str(entry.get("file_id") or sha256_of(entry))


def hashes(evidence: Sequence[dict[str, Any]]) -> list[str]:
    """SHA-256 of every evidence file, each once, in the order given."""
    return list(dict.fromkeys(h for h in map(sha256_of, evidence) if h))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_photo(entry: dict[str, Any]) -> bool:
    kind = entry.get("kind")
    return kind == "image" or (kind is None and str(entry.get("media_type") or "").startswith("image/"))


def flags(entry: dict[str, Any], *, issued_at: datetime, submitted_at: datetime | None) -> list[EvidenceFlag]:
    """A rectification photo taken (EXIF) before the problem was issued or after the rectification was submitted."""
    raw = entry.get("captured_at")
    if entry.get("stage") not in RECTIFICATION_STAGES or not _is_photo(entry) or not raw:
        return []
    captured = _aware(raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw)))
    out = []
    if captured < _aware(issued_at):
        out.append(EvidenceFlag.CAPTURED_BEFORE_ISSUE)
    if submitted_at is not None and captured > _aware(submitted_at):
        out.append(EvidenceFlag.CAPTURED_AFTER_SUBMISSION)
    return out


def view(entry: dict[str, Any], *, issued_at: datetime, submitted_at: datetime | None) -> dict[str, Any]:
    """The entry as a problem's view shows it, with the verifier's flags and their Chinese labels."""
    found = flags(entry, issued_at=issued_at, submitted_at=submitted_at)
    return {**entry, "flags": found, "flag_labels": [EVIDENCE_FLAG_LABELS[f] for f in found]}
