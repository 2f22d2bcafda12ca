"""Calls to other services: who a responsible person is (notify's directory), what a site is
(sampling's directory) and what an evidence file is (the evidence service, asked as the caller). A person's unit and name, and a site's name and unit, come from these
directories, never from a request body.

Both calls go through the service's one pooled client (``request.app.state.http``), which signs the
services' own principal (``kind="service"``), with an explicit timeout. A directory that cannot
answer is a 503 problem: nothing is written on a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from services.rectification.errors import DirectoryUnavailable, EvidenceUnavailable

DEFAULT_TIMEOUT_SECONDS = 5.0


class DirectoryPerson(BaseModel):
    """A person as notify's directory knows them."""

    user_id: str
    name: str
    org_unit: str
    active: bool = True


class DirectorySite(BaseModel):
    """A site as sampling's directory (名录库) knows it."""

    code: str
    name: str
    type: str | None = None
    org_unit: str
    district: str
    active: bool = True


class Directory(Protocol):
    """Where rectification looks up people and sites (None: the directory does not know it)."""

    async def person(self, user_id: str) -> DirectoryPerson | None: ...

    async def site(self, code: str) -> DirectorySite | None: ...


_WHAT_ZH = {"person": "人员", "site": "单位"}
_DETAIL_ZH = {"an unexpected answer": "应答格式不符合预期", "an answer that is not JSON": "应答不是 JSON"}


def _unavailable(peer: str, what: str, detail: str) -> DirectoryUnavailable:
    kind, _, name = what.partition(" ")
    what_zh = f"{_WHAT_ZH.get(kind, kind)} {name}"
    detail_zh = _DETAIL_ZH.get(detail, detail)
    return DirectoryUnavailable(
        f"{peer} could not be asked about {what}: {detail}; nothing was written, retry later",
        zh=f"无法向 {peer} 服务查询{what_zh}：{detail_zh}；未写入任何内容，请稍后重试",
        peer=peer,
    )


async def _lookup(
    http: httpx.AsyncClient, url: str, *, peer: str, what: str, timeout: float
) -> dict[str, object] | None:
    try:
        resp = await http.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise _unavailable(peer, what, type(exc).__name__) from exc
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise _unavailable(peer, what, f"HTTP {resp.status_code}")
    try:
        body = resp.json()
    except ValueError as exc:
        raise _unavailable(peer, what, "an answer that is not JSON") from exc
    if not isinstance(body, dict):
        raise _unavailable(peer, what, "an unexpected answer")
    return body


async def get_person(
    http: httpx.AsyncClient, notify_url: str, *, user_id: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> DirectoryPerson | None:
    """The person `user_id` from notify's ``GET /people/{user_id}``, or None when notify does not know them."""
    url = f"{notify_url.rstrip('/')}/people/{quote(user_id, safe='')}"
    body = await _lookup(http, url, peer="notify", what=f"person {user_id}", timeout=timeout)
    if body is None:
        return None
    try:
        return DirectoryPerson.model_validate(body)
    except ValidationError as exc:
        raise _unavailable("notify", f"person {user_id}", "an unexpected answer") from exc


async def get_site(
    http: httpx.AsyncClient, sampling_url: str, *, code: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> DirectorySite | None:
    """The site `code` from sampling's ``GET /sites/by-code/{code}``, or None when sampling does not know it."""
    url = f"{sampling_url.rstrip('/')}/sites/by-code/{quote(code, safe='')}"
    body = await _lookup(http, url, peer="sampling", what=f"site {code}", timeout=timeout)
    if body is None:
        return None
    try:
        return DirectorySite.model_validate(body)
    except ValidationError as exc:
        raise _unavailable("sampling", f"site {code}", "an unexpected answer") from exc


@dataclass(frozen=True)
class HttpDirectory:
    """The live directories: notify for people, sampling for sites."""

    http: httpx.AsyncClient
    notify_url: str
    sampling_url: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    async def person(self, user_id: str) -> DirectoryPerson | None:
        return await get_person(self.http, self.notify_url, user_id=user_id, timeout=self.timeout)

    async def site(self, code: str) -> DirectorySite | None:
        return await get_site(self.http, self.sampling_url, code=code, timeout=self.timeout)


@dataclass(frozen=True)
class FixedDirectory:
    """A directory held in memory, for trusted in-process callers (the demo loader)."""

    people: dict[str, DirectoryPerson] = field(default_factory=dict)
    sites: dict[str, DirectorySite] = field(default_factory=dict)

    async def person(self, user_id: str) -> DirectoryPerson | None:
        return self.people.get(user_id)

    async def site(self, code: str) -> DirectorySite | None:
        return self.sites.get(code)


# --- evidence (the file store) ---------------------------------------------------------------------

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
    """Where rectification looks evidence files up, as the caller sees them (absent: unknown or out of scope)."""

    async def files(self, ids: Sequence[str]) -> dict[str, EvidenceFile]: ...


_EVIDENCE_DETAIL_ZH = _DETAIL_ZH


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
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
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
    timeout: float = DEFAULT_TIMEOUT_SECONDS

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
