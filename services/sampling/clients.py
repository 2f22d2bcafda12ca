"""Calls to other services (through the pooled kit client)."""

from __future__ import annotations

from typing import Any

import httpx

from services.sampling import errors


async def follow_up_sites(http: httpx.AsyncClient, *, rectification_url: str) -> list[dict[str, Any]]:
    """Sites with overdue problems, from rectification's ``GET /follow-up-sites``; 503 problem if it cannot answer."""
    url = rectification_url.rstrip("/") + "/follow-up-sites"
    try:
        resp = await http.get(url, params={"limit": 500})
    except httpx.HTTPError as exc:
        raise errors.RectificationUnavailable(
            f"Could not ask rectification for follow-up sites ({type(exc).__name__}: {exc}); "
            "create the round without from_rectification, or retry when it is back",
            zh=f"无法向整改服务查询回头看单位（{type(exc).__name__}：{exc}）；请不带 from_rectification 创建督查轮次，或待整改服务恢复后重试",
            upstream=url,
        ) from exc
    if not resp.is_success:
        raise errors.RectificationUnavailable(
            f"Rectification answered {resp.status_code} for follow-up sites; the round was not created",
            zh=f"整改服务就回头看单位的查询返回了 {resp.status_code}；督查轮次未创建",
            upstream=url,
            upstream_status=resp.status_code,
        )
    try:
        items = resp.json()["items"]
        return [
            {
                "site_code": str(i["site_code"]),
                "district": i.get("district"),
                "overdue_count": int(i.get("overdue_count", 0)),
            }
            for i in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.RectificationUnavailable(
            f"Rectification's follow-up list is malformed: {exc}",
            zh=f"整改服务返回的回头看单位列表格式有误：{exc}",
            upstream=url,
        ) from exc
