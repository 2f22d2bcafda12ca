"""Scoring at province size: rankings and exports over 10,000 locked sheets (~250,000 item scores) on PostgreSQL.

Measured through the gateway when it is available (``gateway`` importable, or BENCH_GATEWAY_ROOT names
a checkout that has it) and direct to the scoring process, beside two raw-SQL baselines run in the
same process on the same database:

* baseline A, the same aggregation from the item scores in one query (section subtotals per sheet,
  weighted by site type, district composite 40/60, rank) — what the service would do without storing
  sheet results;
* baseline B, the district composite from the stored per-sheet scores in one query — what the service
  reads.

Also: the XLSX export of the whole round, and saving + submitting a full 42-item sheet (a bench
rubric where one site type carries all four sections). Targets: district ranking < 1 s and within
3x baseline A; XLSX < 10 s; full-sheet submit < 50 ms p50.

``python -m bench scoring`` (BENCH_SHEETS, BENCH_REPEAT, BENCH_SUBMITS override the sizes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from services.kit.testing import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ManagedProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    principal_headers,
)

ROUND = "BENCH"
SUBMIT_ROUND = "BENCH42"
DISTRICTS = [
    "haishu", "jiangbei", "beilun", "zhenhai", "yinzhou", "fenghua", "yuyao", "cixi", "ninghai", "xiangshan",
    "gaoxin", "dongqianhu", "meishan", "hangzhouwan", "qianwan", "daxiekai",
]  # fmt: skip
ZONES = set(DISTRICTS[10:])
GRASSROOTS_MIX = [
    ("town", 8),
    ("street", 4),
    ("village", 40),
    ("community", 18),
    ("enterprise", 20),
    ("social_org", 6),
    ("institution", 4),
]
RESULTS_DIR = Path(__file__).parent / "results"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)
LEADER, INSPECTOR = "u-bench-leader", "u-bench-inspector"


# --- seeding -------------------------------------------------------------------------------------


def _plan(n_sheets: int) -> list[tuple[str, str, str]]:
    """(site_code, site_type, district): one own sheet per district/zone, the rest grassroots by the mix."""
    out = [(f"D{i:02d}", "zone" if d in ZONES else "district", d) for i, d in enumerate(DISTRICTS)]
    kinds = [t for t, w in GRASSROOTS_MIX for _ in range(w)]
    rng = random.Random(7)
    for n in range(n_sheets - len(out)):
        out.append((f"G{n:06d}", rng.choice(kinds), DISTRICTS[n % len(DISTRICTS)]))
    return out


def _item_rows(
    rng: random.Random, definition: Any, site_type: str
) -> tuple[list[tuple[Any, ...]], dict[str, Any], set[str]]:
    from services.scoring import calc

    rows = []
    points: dict[str, Any] = {}
    for section, it in definition.applicable_items(site_type):
        deductions = []
        if it.scoring_type == "deduction" and rng.random() < 0.35:
            deductions.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "points": min(it.points, rng.choice([0.5, 1, 2, 3])),
                    "reason": "基准扣分",
                    "finding": None,
                }
            )
            detail: dict[str, Any] = {"deductions": deductions}
        elif it.scoring_type == "graded":
            detail = {"grade": rng.choices(["好", "较好", "一般", "差"], [50, 32, 14, 4])[0]}
        elif it.scoring_type == "check":
            detail = {"met": rng.random() < 0.9}
        else:
            detail = {"deductions": []}
        rate = calc.dec(rng.uniform(0.75, 0.98)) if it.source else None
        p = calc.item_points(it, detail, definition.graded_scale, rate)
        points[it.code] = p
        rows.append(
            (
                it.code,
                section.code,
                float(it.points),
                float(p) if p is not None else None,
                len(deductions),
                json.dumps(detail, ensure_ascii=False),
            )
        )
    return rows, points, set()


async def seed(url: str, n_sheets: int) -> int:
    """Migrate, then write `n_sheets` locked sheets and their item scores with COPY; returns item count."""
    import asyncpg

    from services.kit.db import make_engine
    from services.kit.migrations import upgrade_to_head
    from services.scoring import calc
    from services.scoring.main import MIGRATIONS_DIR
    from services.scoring.rubric import default_definition, parse_definition

    engine = make_engine(url)
    await upgrade_to_head(engine, MIGRATIONS_DIR)
    await engine.dispose()
    definition = parse_definition(default_definition())
    now = datetime(2026, 4, 1, tzinfo=UTC)
    rng = random.Random(42)
    sheets: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    for code, site_type, district in _plan(n_sheets):
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        rows, points, vetoed = _item_rows(rng, definition, site_type)
        res = calc.sheet_result(definition, site_type, points, vetoed)
        sections = {
            s.code: {
                "points": float(s.points),
                "max_points": float(s.max_points),
                "percent": float(s.percent or 0),
                "weight": float(s.weight),
            }
            for s in res.sections
        }
        org = f"ningbo/{district}" if site_type in ("district", "zone") else f"ningbo/{district}/{code}"
        sheets.append(
            (sid, ROUND, 1, code, f"基准点位{code}", site_type, org, district, "T1", "基准组", LEADER, json.dumps([INSPECTOR]),
             "locked", 5, None, "", float(res.score) if res.score is not None else None, res.grade, json.dumps(res.veto_items), json.dumps(sections),
             hashlib.sha256(sid.encode()).hexdigest(), INSPECTOR, now, now, INSPECTOR, now, LEADER, now, "u-admin", now)
        )  # fmt: skip
        items.extend(
            (sid, c, sec, mx, p, dc, 0, detail, INSPECTOR, now) for c, sec, mx, p, dc, detail in rows
        )
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "INSERT INTO round_rubric (round_code, rubric_id, bound_by, bound_at) VALUES ($1, 1, 'bench', $2)",
            ROUND,
            now,
        )
        await conn.copy_records_to_table(
            "score_sheet",
            records=sheets,
            columns=[
                "id", "round_code", "rubric_id", "site_code", "site_name", "site_type", "org_unit", "district", "team_id", "team_name",
                "team_leader_user_id", "team_member_ids", "status", "version", "poll", "notes", "score", "grade", "veto_items",
                "section_scores", "content_sha256", "created_by", "created_at", "updated_at", "submitted_by", "submitted_at",
                "reviewed_by", "reviewed_at", "locked_by", "locked_at",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "item_score",
            records=items,
            columns=[
                "sheet_id",
                "item_code",
                "section_code",
                "max_points",
                "points",
                "deduction_count",
                "finding_count",
                "detail",
                "updated_by",
                "updated_at",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return len(items)


# --- baselines -----------------------------------------------------------------------------------

BASELINE_FROM_ITEMS = """
WITH w(site_type, section_code, weight) AS (VALUES {weights}),
sec AS (
  SELECT s.id, s.district, s.site_type, i.section_code, SUM(i.points::numeric) AS pts, SUM(i.max_points::numeric) AS mx
  FROM score_sheet s JOIN item_score i ON i.sheet_id = s.id
  WHERE s.round_code = $1 AND s.status = 'locked'
  GROUP BY s.id, s.district, s.site_type, i.section_code
),
sheet AS (
  SELECT sec.id, sec.district, sec.site_type, ROUND(SUM(w.weight * sec.pts / sec.mx)::numeric, 2) AS score
  FROM sec JOIN w USING (site_type, section_code)
  GROUP BY sec.id, sec.district, sec.site_type
),
d AS (
  SELECT district,
         AVG(score) FILTER (WHERE site_type IN ('district', 'zone')) AS own,
         AVG(score) FILTER (WHERE site_type NOT IN ('district', 'zone')) AS grassroots,
         COUNT(*) FILTER (WHERE site_type NOT IN ('district', 'zone')) AS n
  FROM sheet GROUP BY district
)
SELECT district, own, grassroots, n, ROUND(0.4 * own + 0.6 * grassroots, 2) AS composite,
       RANK() OVER (ORDER BY ROUND(0.4 * own + 0.6 * grassroots, 2) DESC) AS rank
FROM d ORDER BY rank, district
"""

BASELINE_FROM_SHEETS = """
WITH d AS (
  SELECT district,
         AVG(score::numeric) FILTER (WHERE site_type IN ('district', 'zone')) AS own,
         AVG(score::numeric) FILTER (WHERE site_type NOT IN ('district', 'zone')) AS grassroots,
         COUNT(*) FILTER (WHERE site_type NOT IN ('district', 'zone')) AS n
  FROM score_sheet WHERE round_code = $1 AND status = 'locked' GROUP BY district
)
SELECT district, ROUND(0.4 * ROUND(own, 2) + 0.6 * grassroots, 2) AS composite,
       RANK() OVER (ORDER BY ROUND(0.4 * ROUND(own, 2) + 0.6 * grassroots, 2) DESC) AS rank
FROM d ORDER BY rank, district
"""


def _weights_values() -> str:
    from services.scoring.rubric import default_definition

    w = default_definition()["section_weights"]
    return ", ".join(f"('{t}', '{s}', {v})" for t, secs in w.items() for s, v in secs.items())


async def run_baselines(url: str, repeat: int) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    out: dict[str, Any] = {}
    try:
        for name, sql in (
            ("from_items", BASELINE_FROM_ITEMS.format(weights=_weights_values())),
            ("from_sheets", BASELINE_FROM_SHEETS),
        ):
            await conn.fetch(sql, ROUND)  # warm
            times = []
            rows: list[Any] = []
            for _ in range(repeat):
                t = time.perf_counter()
                rows = await conn.fetch(sql, ROUND)
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {
                "median_ms": statistics.median(times),
                "rows": {r["district"]: float(r["composite"]) for r in rows},
            }
    finally:
        await conn.close()
    return out


# --- the stub sampling the submit benchmark asks -------------------------------------------------


def stub_sampling_app() -> Any:
    """Answers sampling's assignment contract for any site: institution type, bench team."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def assignment(request: Any) -> JSONResponse:
        code = request.path_params["site"]
        return JSONResponse(
            {
                "round_code": request.path_params["round"],
                "status": "published",
                "site": {
                    "code": code,
                    "name": f"基准单位{code}",
                    "type": "institution",
                    "org_unit": f"ningbo/yinzhou/{code}",
                    "district": "yinzhou",
                },
                "team": {
                    "id": "T1",
                    "name": "基准组",
                    "leader_user_id": LEADER,
                    "member_user_ids": [INSPECTOR],
                },
                "visit_from": "2026-03-01",
                "visit_to": "2026-03-31",
            }
        )

    async def ready(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route("/rounds/{round}/assignments/{site}", assignment),
            Route("/internal/rounds/{round}/assignments/{site}", assignment),
            Route("/readyz", ready),
        ]
    )


def bench_rubric_42() -> dict[str, Any]:
    """The default rubric with every section applying to institutions (25 % each): a 42-item sheet."""
    from services.scoring.rubric import default_definition

    doc = default_definition()
    doc["version"] = "bench-42"
    for s in doc["sections"]:
        if "institution" not in s["site_types"]:
            s["site_types"].append("institution")
    doc["section_weights"]["institution"] = {"A": 25, "B": 25, "C": 25, "D": 25}
    return doc


def full_sheet_body() -> dict[str, Any]:
    from services.scoring.rubric import parse_definition

    definition = parse_definition(bench_rubric_42())
    items = []
    for _, it in definition.applicable_items("institution"):
        body: dict[str, Any] = {"item_code": it.code, "methods": it.methods, "notes": "基准"}
        if it.scoring_type == "deduction":
            body["deductions"] = (
                [
                    {
                        "points": 1,
                        "reason": "基准扣分",
                        "finding": {
                            "category": "基准",
                            "severity": "general",
                            "level": "unit",
                            "concerns": "基准单位",
                        },
                    }
                ]
                if it.code.endswith("3")
                else []
            )
        elif it.scoring_type == "graded":
            body["grade"] = "较好"
        elif it.scoring_type == "check":
            body["met"] = True
        items.append(body)
    assert len(items) == 42
    poll = {
        "party_member": {"satisfied": 30, "basically_satisfied": 5, "dissatisfied": 1},
        "resident": {"satisfied": 40, "basically_satisfied": 8, "dissatisfied": 2},
    }
    return {"items": items, "poll": poll}


# --- measuring -----------------------------------------------------------------------------------


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    r = await client.request(method, url, **kw)
    return (time.perf_counter() - t) * 1000, r


async def measure_reads(base: str, headers: dict[str, str], repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
        for name, path, n in (
            ("district_ranking", f"/rounds/{ROUND}/rankings/districts", repeat),
            ("site_ranking_village", f"/rounds/{ROUND}/rankings/sites?site_type=village&limit=500", repeat),
            ("problems_by_item", f"/rounds/{ROUND}/problems/by-item", repeat),
            ("xlsx_export", f"/rounds/{ROUND}/export.xlsx", max(3, repeat // 5)),
            ("csv_sites_export", f"/rounds/{ROUND}/export.csv?table=sites", max(3, repeat // 5)),
        ):
            await _timed(c, "GET", path)  # warm
            times = []
            for _ in range(n):
                ms, r = await _timed(c, "GET", path)
                r.raise_for_status()
                times.append(ms)
            out[name] = statistics.median(times)
    return out


def _cpu_ms(pid: int) -> float:
    """User + system CPU time a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def measure_submits(
    base: str, as_inspector: dict[str, str], n: int, prefix: str, pids: list[int]
) -> dict[str, float]:
    body = full_sheet_body()
    save_ms, submit_ms = [], []
    cpu_start = 0.0
    cpu_save = cpu_submit = cpu_one = 0.0
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        for i in range(n + 3):
            r = await c.post(
                f"/rounds/{SUBMIT_ROUND}/sheets", json={"site_code": f"{prefix}{i:05d}"}, headers=as_inspector
            )
            r.raise_for_status()
            sheet = r.json()
            cpu0 = sum(_cpu_ms(p) for p in pids)
            ms1, r = await _timed(
                c,
                "PATCH",
                f"/sheets/{sheet['id']}",
                json=body,
                headers={**as_inspector, "If-Match": sheet["etag"]},
            )
            r.raise_for_status()
            cpu1 = sum(_cpu_ms(p) for p in pids)
            ms2, r = await _timed(
                c,
                "POST",
                f"/sheets/{sheet['id']}/submit",
                headers={**as_inspector, "If-Match": r.json()["etag"]},
            )
            r.raise_for_status()
            cpu2 = sum(_cpu_ms(p) for p in pids)
            if i >= 3:  # the first few warm the pools
                save_ms.append(ms1)
                submit_ms.append(ms2)
                cpu_save += cpu1 - cpu0
                cpu_submit += cpu2 - cpu1
            if i == 2:
                cpu_start = sum(_cpu_ms(p) for p in pids)
        cpu_per_sheet = (sum(_cpu_ms(p) for p in pids) - cpu_start) / n
        # The same full sheet saved and submitted in one request (POST /submit with the changes as body).
        one_ms = []
        for i in range(n + 3):
            r = await c.post(
                f"/rounds/{SUBMIT_ROUND}/sheets",
                json={"site_code": f"{prefix}1{i:05d}"},
                headers=as_inspector,
            )
            r.raise_for_status()
            sheet = r.json()
            cpu0 = sum(_cpu_ms(p) for p in pids)
            ms, r = await _timed(
                c,
                "POST",
                f"/sheets/{sheet['id']}/submit",
                json=body,
                headers={**as_inspector, "If-Match": sheet["etag"]},
            )
            r.raise_for_status()
            if i >= 3:
                one_ms.append(ms)
                cpu_one += sum(_cpu_ms(p) for p in pids) - cpu0
    return {
        "submit_with_42_items_one_request_p50_ms": statistics.median(one_ms),
        "server_cpu_ms_save_42_items": cpu_save / n,
        "server_cpu_ms_submit": cpu_submit / n,
        "server_cpu_ms_submit_with_42_items": cpu_one / n,
        "server_cpu_ms_per_sheet_open_save_submit": cpu_per_sheet,
        "save_42_items_p50_ms": statistics.median(save_ms),
        "submit_p50_ms": statistics.median(submit_ms),
        "save_plus_submit_p50_ms": statistics.median(a + b for a, b in zip(save_ms, submit_ms, strict=True)),
    }


def _gateway_root() -> Path | None:
    try:
        import gateway.main  # noqa: F401

        return Path(__file__).resolve().parents[1]
    except ImportError:
        root = os.environ.get("BENCH_GATEWAY_ROOT")
        return Path(root) if root and (Path(root) / "gateway" / "main.py").exists() else None


def _start(
    name: str, args: list[str], env: dict[str, str], url: str, log_dir: Path, cwd: Path | None = None
) -> ManagedProcess:
    proc = ManagedProcess(name, args, env=env, log_dir=log_dir, cwd=cwd).start()
    asyncio.run(proc.wait_http(url + "/readyz", timeout=90))
    return proc


def _mint(root: Path, env: dict[str, str], *, sub: str, role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "token", "--sub", sub, "--role", role, "--scope", "ningbo"],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def main() -> None:
    n_sheets = int(os.environ.get("BENCH_SHEETS", "10000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "15"))
    submits = int(os.environ.get("BENCH_SUBMITS", "60"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    db = asyncio.run(create_postgres_database(POSTGRES_ADMIN_URL, "bench_scoring"))
    procs: list[ManagedProcess] = []
    try:
        t = time.perf_counter()
        n_items = asyncio.run(seed(db, n_sheets))
        print(
            f"seeded {n_sheets} locked sheets, {n_items} item scores in {time.perf_counter() - t:.1f}s",
            flush=True,
        )
        svc_port, stub_port = free_port(), free_port()
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "VAR_DIR": str(tmp),
            "LOG_LEVEL": "WARNING",
            "ACCESS_LOG": "false",
            "SCORING_PORT": str(svc_port),
            "SCORING_DATABASE_URL": db,
            "SCORING_OUTBOX_ENABLED": "false",
            "SCORING_URL": f"http://127.0.0.1:{svc_port}",
            "SAMPLING_URL": f"http://127.0.0.1:{stub_port}",
        }
        svc = f"http://127.0.0.1:{svc_port}"
        procs.append(
            _start(
                "stub-sampling",
                [sys.executable, "-m", "bench.bench_scoring", "stub-sampling", str(stub_port)],
                env,
                f"http://127.0.0.1:{stub_port}",
                tmp,
            )
        )
        procs.append(_start("scoring", [sys.executable, "-m", "services.scoring"], env, svc, tmp))
        admin = principal_headers(roles=["city_admin"], scope="ningbo", sub="u-admin", ttl=7200)
        inspector = principal_headers(roles=["inspector"], scope="ningbo", sub=INSPECTOR, ttl=7200)
        with httpx.Client(base_url=svc, timeout=30) as c:
            r = c.post("/rubrics", json={"version": "bench-42"}, headers=admin)
            r.raise_for_status()
            rid = r.json()["id"]
            c.put(f"/rubrics/{rid}", json={"definition": bench_rubric_42()}, headers=admin).raise_for_status()
            c.post(f"/rubrics/{rid}/publish", json={"make_default": False}, headers=admin).raise_for_status()
            c.put(f"/rounds/{SUBMIT_ROUND}/rubric", json={"rubric_id": rid}, headers=admin).raise_for_status()

        targets: list[tuple[str, str, dict[str, str], dict[str, str]]] = [("direct", svc, admin, inspector)]
        server_pids = {"direct": [procs[-1].pid]}
        root = _gateway_root()
        if root is not None:
            gw_port = free_port()
            gw_env = {
                **env,
                "GATEWAY_PORT": str(gw_port),
                "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'gateway.db'}",
                "GATEWAY_DEV_ISSUER_KEY_PATH": str(tmp / "issuer.pem"),
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
                "GATEWAY_RATE_LIMIT_BURST": "100000000",
                "PYTHONPATH": str(root),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            gw = f"http://127.0.0.1:{gw_port}"
            procs.append(_start("gateway", [sys.executable, "-m", "gateway"], gw_env, gw, tmp, cwd=root))
            bearer_admin = {
                "Authorization": f"Bearer {_mint(root, gw_env, sub='u-admin', role='city_admin')}"
            }
            bearer_insp = {"Authorization": f"Bearer {_mint(root, gw_env, sub=INSPECTOR, role='inspector')}"}
            targets.append(("gateway", gw + "/api/v1/scoring", bearer_admin, bearer_insp))
            server_pids["gateway"] = [procs[1].pid, procs[-1].pid]
        else:
            print("gateway not available (no gateway.main; set BENCH_GATEWAY_ROOT): measuring direct only")

        baselines = asyncio.run(run_baselines(db, repeat))
        results: dict[str, Any] = {
            "sheets": n_sheets,
            "item_scores": n_items,
            "repeat": repeat,
            "baselines": {k: v["median_ms"] for k, v in baselines.items()},
        }
        for name, base, admin_h, insp_h in targets:
            reads = asyncio.run(measure_reads(base, admin_h, repeat))
            writes = asyncio.run(
                measure_submits(base, insp_h, submits, prefix=f"S{name[0].upper()}", pids=server_pids[name])
            )
            results[name] = {**reads, **writes}
        # The service's composites must equal the raw query's.
        with httpx.Client(base_url=svc, timeout=60) as c:
            ranking = c.get(f"/rounds/{ROUND}/rankings/districts", headers=admin).json()["items"]
        service_rows = {d["district"]: d["composite"] for d in ranking}
        diff = max(abs(service_rows[k] - v) for k, v in baselines["from_items"]["rows"].items())
        results["max_composite_difference_vs_baseline"] = diff

        base_a = baselines["from_items"]["median_ms"]
        base_b = baselines["from_sheets"]["median_ms"]
        print(
            f"\nScoring at province size: {n_sheets} locked sheets, {n_items} item scores, PostgreSQL; medians of {repeat}"
        )
        print(f"baseline A (raw SQL from item scores):      {base_a:8.1f} ms")
        print(f"baseline B (raw SQL from stored sheet scores): {base_b:8.1f} ms")
        print(f"composites agree with baseline A within {diff:.2f}")
        print(
            f"{'target':8s} {'ranking ms':>10s} {'vs A':>6s} {'vs B':>6s} {'villages ms':>11s} {'items ms':>9s} {'xlsx ms':>9s} {'csv ms':>8s} {'save42 p50':>10s} {'submit p50':>10s} {'both p50':>9s} {'one-request p50':>15s}"
        )
        for name, *_ in targets:
            m = results[name]
            m["ratio_vs_baseline_from_items"] = m["district_ranking"] / base_a
            m["ratio_vs_baseline_from_sheets"] = m["district_ranking"] / base_b
            print(
                f"{name:8s} {m['district_ranking']:10.1f} {m['ratio_vs_baseline_from_items']:5.2f}x {m['ratio_vs_baseline_from_sheets']:5.2f}x "
                f"{m['site_ranking_village']:11.1f} {m['problems_by_item']:9.1f} {m['xlsx_export']:9.1f} {m['csv_sites_export']:8.1f} "
                f"{m['save_42_items_p50_ms']:10.1f} {m['submit_p50_ms']:10.1f} {m['save_plus_submit_p50_ms']:9.1f} {m['submit_with_42_items_one_request_p50_ms']:15.1f}"
            )
        results["loadavg_1m"] = os.getloadavg()[0]
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / "scoring.json"
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        for name, *_ in targets:
            m = results[name]
            print(
                f"{name}: server CPU per request: save 42 items {m['server_cpu_ms_save_42_items']:.1f} ms, submit {m['server_cpu_ms_submit']:.1f} ms, "
                f"submit with 42 items {m['server_cpu_ms_submit_with_42_items']:.1f} ms; open + save + submit {m['server_cpu_ms_per_sheet_open_save_submit']:.1f} ms"
            )
        print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"results: {path}")
    finally:
        for p in procs:
            p.stop()
        asyncio.run(drop_postgres_database(POSTGRES_ADMIN_URL, db))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "stub-sampling":
        import uvicorn

        uvicorn.run(
            stub_sampling_app(),
            host="127.0.0.1",
            port=int(sys.argv[2]),
            log_level="warning",
            access_log=False,
        )
    else:
        main()
