"""Calls to other services. Scoring only asks sampling which sites were drawn and by which team."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from services.scoring.errors import SamplingUnavailable


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
