"""Calls to other services. Scoring asks sampling which sites were drawn and by which team, and the
evidence service what the files an item's evidence names are (as the caller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from services.scoring.errors import EvidenceUnavailable, SamplingUnavailable


class AssignedSite(BaseModel):
    code: str
    name: str
    type: str
    org_unit: str
    district: str


class AssignedTeam(BaseModel):
    id: str
    name: str = ""
    leader_user_id: str
    member_user_ids: list[str] = []


class Assignment(BaseModel):
    """Sampling's answer to "was this site drawn in this round, and for which team?"."""

    round_code: str
    status: str | None = None
    site: AssignedSite
    team: AssignedTeam

    def team_user_ids(self) -> set[str]:
        return {self.team.leader_user_id, *self.team.member_user_ids}


def _unavailable(detail: str) -> SamplingUnavailable:
    return SamplingUnavailable(
        f"sampling could not be asked whether the site was drawn: {detail}",
        zh=f"无法向抽样服务查询该单位是否被抽中：{detail}",
        peer="sampling",
    )


async def _get(http: httpx.AsyncClient, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
    try:
        return await http.get(url, params=params)
    except httpx.HTTPError as exc:
        raise _unavailable(f"{type(exc).__name__}: {exc}") from exc


def _coerce_team_id(body: dict[str, Any]) -> dict[str, Any]:
    # Sampling may number its teams; scoring keeps them as strings.
    team = body.get("team")
    if isinstance(team, dict) and "id" in team:
        team["id"] = str(team["id"])
    return body


# Sampling's answers that mean "no such round or site": 404, and 422 for a code it refuses outright
# (e.g. longer than any round code it accepts), which can name no round either.
NOT_THERE = frozenset({404, 422})


async def get_assignment(
    http: httpx.AsyncClient, sampling_url: str, *, round_code: str, site_code: str
) -> Assignment | None:
    """The site's assignment in the round, or None when it was not drawn; 503 when sampling cannot say."""
    url = f"{sampling_url.rstrip('/')}/internal/rounds/{quote(round_code, safe='')}/assignments/{quote(site_code, safe='')}"
    resp = await _get(http, url)
    if resp.status_code in NOT_THERE:
        return None
    if resp.status_code != 200:
        raise _unavailable(f"HTTP {resp.status_code} from {url}")
    try:
        return Assignment.model_validate(_coerce_team_id(resp.json()))
    except (ValueError, ValidationError) as exc:
        raise _unavailable(f"unexpected answer from {url}: {exc}") from exc


async def list_assignments(
    http: httpx.AsyncClient, sampling_url: str, *, round_code: str
) -> list[Assignment] | None:
    """Every assignment of a round (all pages), or None when sampling has no such round."""
    url = f"{sampling_url.rstrip('/')}/internal/rounds/{quote(round_code, safe='')}/assignments"
    out: list[Assignment] = []
    offset = 0
    while True:
        resp = await _get(http, url, params={"limit": 500, "offset": offset})
        if resp.status_code in NOT_THERE:
            return None
        if resp.status_code != 200:
            raise _unavailable(f"HTTP {resp.status_code} from {url}")
        page = resp.json()
        items = page.get("items", [])
        out.extend(Assignment.model_validate(_coerce_team_id(a)) for a in items)
        offset += len(items)
        if not items or offset >= int(page.get("total", 0)):
            return out


# --- evidence (the file store) ---------------------------------------------------------------------

EVIDENCE_TIMEOUT_SECONDS = 5.0
# Ids per batch lookup: the query string stays well under any proxy's URL limit.
EVIDENCE_BATCH = 100


class EvidenceFile(BaseModel):
    """A file as the evidence service describes it (``GET /files/{id}``); unknown members are ignored."""

    id: str
    sha256: str
    name: str
    media_type: str
    kind: str | None = None
    size: int | None = None
    org_unit: str | None = None
    captured_at: datetime | None = None
    content_url: str | None = None
    thumbnail_url: str | None = None


class EvidenceFiles(Protocol):
    """Where scoring looks evidence files up, as the caller sees them (absent: unknown or out of scope)."""

    async def files(self, ids: Sequence[str]) -> dict[str, EvidenceFile]: ...


_EVIDENCE_DETAIL_ZH = {"an unexpected answer": "应答格式不符合预期"}


def _evidence_unavailable(detail: str) -> EvidenceUnavailable:
    return EvidenceUnavailable(
        f"evidence could not be asked about the files: {detail}; nothing was written, retry later",
        zh=f"无法向证据服务查询文件：{_EVIDENCE_DETAIL_ZH.get(detail, detail)}；未写入任何内容，请稍后重试",
        peer="evidence",
    )


async def get_evidence_files(
    http: httpx.AsyncClient,
    evidence_url: str,
    *,
    ids: Sequence[str],
    headers: dict[str, str],
    timeout: float = EVIDENCE_TIMEOUT_SECONDS,
) -> dict[str, EvidenceFile]:
    """The files of `ids` the caller may read, from evidence's ``GET /files?ids=…`` (scope-filtered there)."""
    url = f"{evidence_url.rstrip('/')}/files"
    wanted = list(dict.fromkeys(ids))
    out: dict[str, EvidenceFile] = {}
    for start in range(0, len(wanted), EVIDENCE_BATCH):
        chunk = wanted[start : start + EVIDENCE_BATCH]
        try:
            resp = await http.get(
                url, params={"ids": ",".join(chunk), "limit": len(chunk)}, headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise _evidence_unavailable(type(exc).__name__) from exc
        if resp.status_code == 422:
            # Evidence refuses ids that cannot name any of its files (malformed): none of them exists.
            continue
        if resp.status_code != 200:
            raise _evidence_unavailable(f"HTTP {resp.status_code}")
        try:
            body = resp.json()
            items = body["items"] if isinstance(body, dict) else body
            files = [EvidenceFile.model_validate(f) for f in items]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise _evidence_unavailable("an unexpected answer") from exc
        out.update((f.id, f) for f in files if f.id in chunk)
    return out


@dataclass(frozen=True)
class HttpEvidence:
    """The live evidence service, asked on behalf of the caller (its principal, forwarded)."""

    http: httpx.AsyncClient
    evidence_url: str
    headers: dict[str, str]
    timeout: float = EVIDENCE_TIMEOUT_SECONDS

    async def files(self, ids: Sequence[str]) -> dict[str, EvidenceFile]:
        if not ids:
            return {}
        return await get_evidence_files(
            self.http, self.evidence_url, ids=ids, headers=self.headers, timeout=self.timeout
        )


@dataclass(frozen=True)
class FixedEvidence:
    """Evidence files held in memory, for trusted in-process callers (the demo loader)."""

    known: dict[str, EvidenceFile] = field(default_factory=dict)

    async def files(self, ids: Sequence[str]) -> dict[str, EvidenceFile]:
        return {i: self.known[i] for i in ids if i in self.known}
