"""Reporting: a round of 10,000 locked sheets and 20,000 problems, on SQLite and PostgreSQL.

The events are posted to reporting's intake in batches of 500, as the producers' relays send them
(BENCH_REPORTING_SHEETS / BENCH_REPORTING_PROBLEMS change the size). Figures: intake events/s, the
replay of the whole store (POST /admin/rebuild) in events/s, the first dashboard after the load (the
full computation), the dashboard's p50/p95 direct and through the gateway (cached: no event since),
and how long an event takes to show on the dashboard (one event, then polling until it is there).

    python -m bench reporting        # BENCH_REPORTING_DBS=sqlite,postgres by default

Needs the fact events' schemas in the kit (services/kit/events/schemas/*.changed|drawn|recorded).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.common import save
from gateway.auth import DevIssuer
from services.kit.http import make_service_client
from services.kit.settings import DEV_PRINCIPAL_SECRET
from services.kit.testing import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ManagedProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    principal_headers,
)

SHEETS = int(os.environ.get("BENCH_REPORTING_SHEETS", "10000"))
PROBLEMS = int(os.environ.get("BENCH_REPORTING_PROBLEMS", "20000"))
REQUESTS = int(os.environ.get("BENCH_REPORTING_REQUESTS", "200"))
BATCH = 500
BEIJING = ZoneInfo("Asia/Shanghai")
ROUND = "2026Q1"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DISTRICTS = {
    "haishu": "海曙区",
    "jiangbei": "江北区",
    "beilun": "北仑区",
    "zhenhai": "镇海区",
    "yinzhou": "鄞州区",
    "fenghua": "奉化区",
    "yuyao": "余姚市",
    "cixi": "慈溪市",
    "ninghai": "宁海县",
    "xiangshan": "象山县",
}
ITEMS = [(f"B{i:02d}", f"督查条目{i}") for i in range(1, 41)]
QUIET = {"LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "ENVIRONMENT": "test", "CITY_ROOT": "ningbo"}


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def envelope(type_: str, source: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": type_,
        "source": source,
        "occurred_at": iso(at),
        "version": 1,
        "data": data,
    }


def site(i: int) -> dict[str, Any]:
    district = list(DISTRICTS)[i % len(DISTRICTS)]
    return {
        "code": f"3302{i:08d}",
        "name": f"{DISTRICTS[district]}第{i}村",
        "type": "village" if i % 3 else "community",
        "org_unit": f"ningbo/{district}/t{i % 20}/s{i}",
        "district": district,
    }


def events() -> list[dict[str, Any]]:
    """The round's life as the producers tell it: the draw, every sheet locked, every problem, the results."""
    rnd = random.Random(42)
    sites = [site(i) for i in range(SHEETS)]
    out = [
        envelope(
            "sampling.round.drawn",
            "sampling",
            T0,
            {
                "round_code": ROUND,
                "name": "2026年第1季度基层党建专项督查",
                "year": 2026,
                "quarter": 1,
                "drawn_at": iso(T0),
                "revision": 1,
                "districts": [{"code": c, "name": n} for c, n in DISTRICTS.items()],
                "visits": [
                    {
                        "site": s,
                        "team_id": str(i % 12 + 1),
                        "team_name": f"第{i % 12 + 1}组",
                        "visit_on": (T0 + timedelta(days=7)).date().isoformat(),
                        "follow_up": False,
                    }
                    for i, s in enumerate(sites)
                ],
            },
        )
    ]
    for i, s in enumerate(sites):
        score = round(rnd.uniform(55, 99), 1)
        grade = "好" if score >= 90 else "较好" if score >= 80 else "一般" if score >= 60 else "差"
        at = T0 + timedelta(days=10, seconds=i)
        out.append(
            envelope(
                "scoring.sheet.changed",
                "scoring",
                at,
                {
                    "round_code": ROUND,
                    "sheet_id": f"sheet-{i}",
                    "revision": 4,
                    "site": s,
                    "team_id": str(i % 12 + 1),
                    "team_name": f"第{i % 12 + 1}组",
                    "status": "locked",
                    "score": score,
                    "grade": grade,
                    "veto_items": ["A09"] if i % 97 == 0 else [],
                    "deductions": [
                        {
                            "item_code": c,
                            "item_title": t,
                            "section_code": "B",
                            "points": 1.5,
                            "reason": f"{t}不到位",
                        }
                        for c, t in rnd.sample(ITEMS, rnd.randint(0, 3))
                    ],
                    "changed_at": iso(at),
                    "locked_at": iso(at),
                },
            )
        )
    for p in range(PROBLEMS):
        s = sites[p % SHEETS]
        code, title = ITEMS[p % len(ITEMS)]
        at = T0 + timedelta(days=11, seconds=p)
        status = ("open", "in_progress", "submitted", "closed", "closed")[p % 5]
        out.append(
            envelope(
                "rectification.problem.changed",
                "rectification",
                at,
                {
                    "problem_id": p + 1,
                    "revision": 3,
                    "round_code": ROUND,
                    "site": s,
                    "responsible_unit": s["org_unit"],
                    "responsible_person": {"user_id": f"u-{p % 500}", "name": None},
                    "item_code": code,
                    "item_title": title,
                    "category": "组织生活",
                    "severity": "general",
                    "level": "village_community",
                    "title": title,
                    "description": f"{s['name']}{title}不到位",
                    "status": status,
                    "created_at": iso(at),
                    "deadline_at": iso(at + timedelta(days=30 - p % 45)),
                    "closed_at": iso(at + timedelta(days=5)) if status == "closed" else None,
                    "closed_on_time": (p % 3 != 0) if status == "closed" else None,
                    "extensions": 0,
                    "merged_into": None,
                    "changed_at": iso(at),
                },
            )
        )
    out.append(
        envelope(
            "scoring.results.recorded",
            "scoring",
            T0 + timedelta(days=20),
            {
                "round_code": ROUND,
                "version": 1,
                "published_at": iso(T0 + timedelta(days=20)),
                "content_sha256": "c" * 64,
                "complete": True,
                "districts": [
                    {
                        "rank": i + 1,
                        "district": d,
                        "composite": 95.0 - i,
                        "grade": "好",
                        "section_a": 95.0,
                        "grassroots_mean": 90.0,
                        "grassroots_count": SHEETS // len(DISTRICTS),
                        "complete": True,
                    }
                    for i, d in enumerate(DISTRICTS)
                ],
            },
        )
    )
    return out


async def timed_gets(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int
) -> dict[str, float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        r.raise_for_status()
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


async def run(db: str, tmp: Path) -> dict[str, Any]:
    pg: list[str] = []
    if db == "postgres":
        rdb = await create_postgres_database(DEFAULT_POSTGRES_ADMIN_URL, "bench_reporting")
        pg.append(rdb)
    else:
        rdb = f"sqlite+aiosqlite:///{tmp / f'reporting-{uuid.uuid4().hex[:6]}.db'}"
    rport, gport = free_port(), free_port()
    key = tmp / "issuer.pem"
    issuer = DevIssuer(key, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
    env = {
        **os.environ,
        **QUIET,
        "VAR_DIR": str(tmp),
        "REPORTING_DATABASE_URL": rdb,
        "REPORTING_PORT": str(rport),
        "REPORTING_URL": f"http://127.0.0.1:{rport}",
        "GATEWAY_PORT": str(gport),
        "GATEWAY_DEV_ISSUER_KEY_PATH": str(key),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'gw-{db}.db'}",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
        "GATEWAY_RATE_LIMIT_BURST": "100000000",
    }
    rbase, gbase = f"http://127.0.0.1:{rport}", f"http://127.0.0.1:{gport}"
    reporting = ManagedProcess(
        "reporting", [sys.executable, "-m", "services.reporting"], env=env, log_dir=tmp
    )
    gateway = ManagedProcess("gateway", [sys.executable, "-m", "gateway"], env=env, log_dir=tmp)
    try:
        reporting.start()
        await reporting.wait_http(f"{rbase}/readyz", timeout=120)
        gateway.start()
        await gateway.wait_http(f"{gbase}/readyz", timeout=120)
        all_events = events()
        direct = principal_headers(roles=["city_admin"], scope="ningbo", ttl=3600)
        bearer = {
            "Authorization": f"Bearer {issuer.mint(sub='u-bench', roles=['city_admin'], scope='ningbo')}"
        }
        async with make_service_client(service="scoring", secret=DEV_PRINCIPAL_SECRET, timeout=600) as peer:
            started = time.perf_counter()
            for i in range(0, len(all_events), BATCH):
                r = await peer.post(f"{rbase}/events/batch", json={"events": all_events[i : i + BATCH]})
                r.raise_for_status()
                bad = [x for x in r.json()["results"] if x["status"] != 202]
                assert not bad, bad[:2]
            intake_s = time.perf_counter() - started
        async with httpx.AsyncClient(timeout=600) as c:
            started = time.perf_counter()
            first = await c.get(f"{rbase}/rounds/{ROUND}/dashboard", headers=direct)
            first.raise_for_status()
            first_ms = (time.perf_counter() - started) * 1000
            board = first.json()
            assert board["coverage"]["sheets"]["locked"] == SHEETS, board["coverage"]["sheets"]
            assert board["rectification"]["total"] == PROBLEMS
            direct_fig = await timed_gets(c, f"{rbase}/rounds/{ROUND}/dashboard", direct, REQUESTS)
            via_gw = await timed_gets(
                c, f"{gbase}/api/v1/reporting/rounds/{ROUND}/dashboard", bearer, REQUESTS
            )
            # Freshness: one more problem, then the dashboard through the gateway until it shows.
            extra = envelope(
                "rectification.problem.changed",
                "rectification",
                T0 + timedelta(days=30),
                {
                    **all_events[-2]["data"],
                    "problem_id": PROBLEMS + 1,
                    "revision": 1,
                },
            )
            async with make_service_client(service="rectification", secret=DEV_PRINCIPAL_SECRET) as peer:
                sent = time.perf_counter()
                (await peer.post(f"{rbase}/events", json=extra)).raise_for_status()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                r = await c.get(f"{gbase}/api/v1/reporting/rounds/{ROUND}/dashboard", headers=bearer)
                if r.json()["rectification"]["total"] == PROBLEMS + 1:
                    break
            fresh_s = time.perf_counter() - sent
            r = await c.post(f"{rbase}/admin/rebuild", headers=direct)
            r.raise_for_status()
            rebuilt = r.json()
            # A 专报 of this round: drafted (composition from the facts), then issued (DOCX + PDF
            # rendered, hashed and stored in one transaction), timed on the service.
            author = principal_headers(roles=["city_admin"], sub="u-bench-author", ttl=3600)
            reviewer = principal_headers(roles=["city_admin"], sub="u-bench-reviewer", ttl=3600)
            started = time.perf_counter()
            draft = await c.post(f"{rbase}/rounds/{ROUND}/special-reports", headers=author)
            draft.raise_for_status()
            draft_s = time.perf_counter() - started
            rid = draft.json()["id"]
            r = await c.post(
                f"{rbase}/special-reports/{rid}/submit", headers={**author, "If-Match": draft.headers["ETag"]}
            )
            r.raise_for_status()
            r = await c.post(
                f"{rbase}/special-reports/{rid}/review",
                json={"decision": "approve"},
                headers={**reviewer, "If-Match": r.headers["ETag"]},
            )
            r.raise_for_status()
            started = time.perf_counter()
            r = await c.post(
                f"{rbase}/special-reports/{rid}/issue",
                json={"doc_number": f"甬组督〔{datetime.now(UTC).astimezone(BEIJING).year}〕1号"},
                headers={**author, "If-Match": r.headers["ETag"]},
            )
            r.raise_for_status()
            issue_s = time.perf_counter() - started
            sizes = {f["format"]: f["size"] for f in r.json()["files"]}
        return {
            "db": db,
            "sheets": SHEETS,
            "problems": PROBLEMS,
            "events": len(all_events) + 1,
            "intake_seconds": round(intake_s, 2),
            "intake_events_per_s": round(len(all_events) / intake_s, 1),
            "replay": rebuilt,
            "first_dashboard_ms": round(first_ms, 1),
            "dashboard_direct": direct_fig,
            "dashboard_gateway": via_gw,
            "event_to_dashboard_s": round(fresh_s, 2),
            "special_report_draft_s": round(draft_s, 2),
            "special_report_issue_s": round(issue_s, 2),
            "special_report_bytes": sizes,
        }
    finally:
        gateway.stop()
        reporting.stop()
        for u in pg:
            await drop_postgres_database(DEFAULT_POSTGRES_ADMIN_URL, u)


def main() -> None:
    dbs = os.environ.get("BENCH_REPORTING_DBS", "sqlite,postgres").split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-reporting-") as tmp:
        for db in dbs:
            res = asyncio.run(run(db, Path(tmp)))
            results.append(res)
            print(
                f"reporting [{res['db']}]: {res['sheets']} locked sheets + {res['problems']} problems "
                f"({res['events']} events): intake {res['intake_events_per_s']} events/s; replay "
                f"{res['replay']['events_per_second']} events/s ({res['replay']['seconds']} s); first dashboard "
                f"{res['first_dashboard_ms']} ms; dashboard p50/p95 direct {res['dashboard_direct']['p50_ms']}/"
                f"{res['dashboard_direct']['p95_ms']} ms, through the gateway {res['dashboard_gateway']['p50_ms']}/"
                f"{res['dashboard_gateway']['p95_ms']} ms; an event shows on the dashboard after "
                f"{res['event_to_dashboard_s']} s; a 专报 drafted in {res['special_report_draft_s']} s, issued "
                f"(DOCX + PDF) in {res['special_report_issue_s']} s",
                flush=True,
            )
    print(f"saved {save('reporting', results)}")


if __name__ == "__main__":
    main()
