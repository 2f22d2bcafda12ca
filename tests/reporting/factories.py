"""Fact events as the producers send them (sampling, scoring, rectification), for reporting's tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

DISTRICTS = [
    {"code": "yinzhou", "name": "鄞州区"},
    {"code": "haishu", "name": "海曙区"},
    {"code": "cixi", "name": "慈溪市"},
]
NAMES = {d["code"]: d["name"] for d in DISTRICTS}
_ids = itertools.count(1)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def site(
    code: str, district: str = "yinzhou", *, type_: str | None = "village", name: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name or f"{NAMES.get(district, district)}测试村{code}",
        "type": type_,
        "org_unit": f"ningbo/{district}/town{code[-1]}/s{code}",
        "district": district,
    }


def envelope(
    type_: str, data: dict[str, Any], *, at: datetime, source: str, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": type_,
        "source": source,
        "occurred_at": iso(at),
        "version": 1,
        "data": data,
    }


def drawn(
    code: str,
    sites: list[dict[str, Any]],
    *,
    at: datetime,
    revision: int = 1,
    year: int | None = 2026,
    quarter: int | None = 1,
    name: str | None = None,
) -> dict[str, Any]:
    return envelope(
        "sampling.round.drawn",
        {
            "round_code": code,
            "name": name or f"{year}年第{quarter}季度基层党建专项督查",
            "year": year,
            "quarter": quarter,
            "drawn_at": iso(at),
            "revision": revision,
            "districts": DISTRICTS,
            "visits": [
                {
                    "site": s,
                    "team_id": str(i % 3 + 1),
                    "team_name": f"第{'一二三'[i % 3]}组",
                    "visit_on": (at + timedelta(days=7)).date().isoformat(),
                    "follow_up": False,
                }
                for i, s in enumerate(sites)
            ],
        },
        at=at,
        source="sampling",
    )


def sheet(
    code: str,
    s: dict[str, Any],
    *,
    at: datetime,
    revision: int = 1,
    status: str = "locked",
    score: float | None = 88.0,
    grade: str | None = "较好",
    deductions: list[tuple[str, str, float]] | None = None,
    veto: list[str] | None = None,
    sheet_id: str | None = None,
) -> dict[str, Any]:
    return envelope(
        "scoring.sheet.changed",
        {
            "round_code": code,
            "sheet_id": sheet_id or f"{code}-{s['code']}",
            "revision": revision,
            "site": s,
            "team_id": "1",
            "team_name": "第一组",
            "status": status,
            "score": score,
            "grade": grade,
            "veto_items": veto or [],
            "deductions": [
                {"item_code": c, "item_title": t, "section_code": c[0], "points": p, "reason": f"{t}不到位"}
                for c, t, p in (deductions or [])
            ],
            "changed_at": iso(at),
            "locked_at": iso(at) if status == "locked" else None,
        },
        at=at,
        source="scoring",
    )


def problem(
    code: str | None,
    s: dict[str, Any],
    *,
    at: datetime,
    problem_id: int | None = None,
    revision: int = 1,
    status: str = "open",
    deadline: datetime | None = None,
    closed_on_time: bool | None = None,
    item: tuple[str, str] = ("B03", "三会一课记录不全"),
) -> dict[str, Any]:
    pid = problem_id or next(_ids)
    return envelope(
        "rectification.problem.changed",
        {
            "problem_id": pid,
            "revision": revision,
            "round_code": code,
            "site": s,
            "responsible_unit": s["org_unit"],
            "responsible_person": {"user_id": "u-li-na", "name": "李娜"},
            "item_code": item[0],
            "item_title": item[1],
            "category": "组织生活",
            "severity": "general",
            "level": "village_community",
            "title": item[1],
            "description": f"{s['name']}{item[1]}",
            "status": status,
            "created_at": iso(at),
            "deadline_at": iso(deadline or at + timedelta(days=30)),
            "closed_at": iso(at) if status == "closed" else None,
            "closed_on_time": closed_on_time if status == "closed" else None,
            "extensions": 0,
            "merged_into": None,
            "changed_at": iso(at),
        },
        at=at,
        source="rectification",
    )


def results(code: str, ranking: list[tuple[str, float]], *, at: datetime, version: int = 1) -> dict[str, Any]:
    rows = sorted(ranking, key=lambda r: -r[1])
    return envelope(
        "scoring.results.recorded",
        {
            "round_code": code,
            "version": version,
            "published_at": iso(at),
            "content_sha256": "a" * 64,
            "complete": True,
            "districts": [
                {
                    "rank": i + 1,
                    "district": d,
                    "composite": c,
                    "grade": "好" if c >= 90 else "较好",
                    "section_a": c,
                    "grassroots_mean": c,
                    "grassroots_count": 3,
                    "complete": True,
                }
                for i, (d, c) in enumerate(rows)
            ],
        },
        at=at,
        source="scoring",
    )
