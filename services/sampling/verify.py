"""Check an exported draw record: ``python -m services.sampling.verify record.json``.

Stand-alone (standard library only, no database, no network): it recomputes every frame hash, the
commitment, every stratum's tickets and sample and the teams from the record's inputs, and compares
them with what the record says. Exit code 0 when everything matches, 1 when something differs,
2 when the record cannot be checked (unreadable, or the secret not yet revealed).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from services.sampling import algorithm as alg


def stored_record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the record as stored at draw time (without the frame codes, the secret and the export fields)."""
    stored = {k: v for k, v in record.items() if k not in ("record_sha256", "current")}
    stored["frame"] = {
        **record["frame"],
        "strata": [{k: v for k, v in s.items() if k != "codes"} for s in record["frame"]["strata"]],
    }
    stored["seed"] = {k: v for k, v in record["seed"].items() if k != "secret"}
    canonical = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return alg.sha256_hex(canonical.encode("utf-8"))


def _label(quota: dict[str, Any]) -> str:
    return f"{quota['group']}.{quota['subtype']}" if quota.get("subtype") else str(quota["group"])


def _allocation_problems(record: dict[str, Any]) -> list[str]:
    """Whether the frame's allocations are the plan's quotas with a total, over the right strata."""
    problems: list[str] = []
    frame = record["frame"]
    allocations = frame.get("allocations")
    if not isinstance(allocations, list) or not allocations:
        return [f"{alg.ALGORITHM_ALLOCATED} record without frame.allocations: its counts cannot be checked"]
    expected = {}
    for q in record["parameters"]["plan"]["quotas"]:
        if q.get("total") is not None:
            key = f"{q.get('per', 'district')}:{_label(q)}"
            expected[key] = {
                "group": q["group"],
                "subtype": q.get("subtype"),
                "per": q.get("per", "district"),
                "floor": q.get("min") or 0,
                "total": q["total"],
                "cap": q.get("max"),
            }
    got = {
        a["key"]: {k: a.get(k) for k in ("group", "subtype", "per", "floor", "total", "cap")}
        for a in allocations
    }
    if got != expected:
        problems.append(f"frame.allocations {got} but the plan's quotas with a total are {expected}")
    strata_of: dict[str, list[str]] = {}
    for s in frame["strata"]:
        if s.get("allocation") is not None:
            strata_of.setdefault(s["allocation"], []).append(s["key"])
    for key in sorted(set(strata_of) - set(got)):
        problems.append(f"strata {strata_of[key]} name allocation {key}, which the frame does not list")
    districts = record["parameters"]["districts"]
    by_key = {s["key"]: s for s in frame["strata"]}
    for a in allocations:
        listed = a["strata"]
        if listed != alg.sort_codes(listed):
            problems.append(f"allocation {a['key']}: strata are not distinct and sorted by UTF-8 bytes")
        if sorted(listed) != sorted(strata_of.get(a["key"], [])):
            problems.append(
                f"allocation {a['key']}: lists strata {listed} but the frame's strata naming it are "
                f"{sorted(strata_of.get(a['key'], []))}"
            )
        if a.get("per") == "district":
            label = a["key"].split(":", 1)[1]
            want = alg.sort_codes(f"{d}:{label}" for d in districts)
            if alg.sort_codes(listed) != want:
                problems.append(
                    f"allocation {a['key']}: strata {listed} but the round's districts give {want}"
                )
        for k in listed:
            s = by_key.get(k)
            if s is not None and s["quota"]["min"] != a.get("floor"):
                problems.append(
                    f"stratum {k}: quota min {s['quota']['min']} but its allocation's floor is {a.get('floor')}"
                )
    return problems


def verify_record(record: dict[str, Any]) -> list[str]:
    """Every mismatch between `record` and a recomputation of it (empty when it verifies).

    Nothing is skipped because a field is absent: a missing hash, allocation or team list is itself
    reported (a forger could otherwise drop what does not match).
    """
    problems: list[str] = []
    if "record_sha256" not in record:
        problems.append("record_sha256 is missing: the record's integrity cannot be checked")
    elif stored_record_hash(record) != record["record_sha256"]:
        problems.append(
            f"record_sha256 {record['record_sha256']} but the record hashes to {stored_record_hash(record)}"
        )
    algorithm = record.get("algorithm")
    if algorithm not in alg.ALGORITHMS:
        return [f"unknown algorithm {algorithm!r}; this verifier knows {', '.join(alg.ALGORITHMS)}"]
    frame = record["frame"]
    hashes: dict[str, str] = {}
    for s in frame["strata"]:
        codes = s["codes"]
        if codes != alg.sort_codes(codes):
            problems.append(f"stratum {s['key']}: codes are not distinct and sorted by UTF-8 bytes")
        h = alg.stratum_hash(codes)
        hashes[s["key"]] = h
        if h != s["hash"]:
            problems.append(f"stratum {s['key']}: frame hash {s['hash']} but codes hash to {h}")
    if alg.frame_hash(hashes) != frame["hash"]:
        problems.append(f"frame hash {frame['hash']} but strata hash to {alg.frame_hash(hashes)}")
    secret = record["seed"]["secret"]
    if alg.commitment_of(secret) != record["seed"]["commitment"]:
        problems.append("the revealed secret does not match the commitment")
    result = record["result"]
    if algorithm == alg.ALGORITHM:
        if "allocations" in frame or "allocations" in result:
            problems.append(f"{alg.ALGORITHM} has no allocations, but the record carries some")
        # /1 draws every stratum by its quota alone, whatever the record adds.
        frame = {k: v for k, v in frame.items() if k != "allocations"}
    else:
        allocation_problems = _allocation_problems(record)
        if allocation_problems:
            # The counts cannot be recomputed from allocations that are not the plan's.
            return problems + allocation_problems
    if "teams_input" not in record:
        problems.append("teams_input is missing: the teams cannot be recomputed")
    try:
        recomputed = alg.compute_draw(
            {
                "secret": secret,
                "public_value": record["seed"]["public_value"],
                "reserve": record["parameters"]["reserve"],
                "frame": frame,
                "teams": record.get("teams_input"),
            }
        )
    except alg.AllocationInfeasible as exc:
        return [*problems, f"the frame's allocations cannot be met: {exc}"]
    except alg.TeamsInfeasible as exc:
        return [*problems, f"teams_input cannot form the teams: {exc}"]
    if "allocations" in recomputed:
        recorded_allocations = result.get("allocations")
        if recorded_allocations is None:
            problems.append("result.allocations is missing: the draw's counts per stratum are not recorded")
        else:
            counts = {a["key"]: a["counts"] for a in recorded_allocations}
            for a in recomputed["allocations"]:
                if counts.get(a["key"]) != a["counts"]:
                    problems.append(
                        f"allocation {a['key']}: recorded counts {counts.get(a['key'])} but recomputed {a['counts']}"
                    )
            extra = set(counts) - {a["key"] for a in recomputed["allocations"]}
            if extra:
                problems.append(f"result has allocations not in the frame: {sorted(extra)}")
    recorded = {s["key"]: s for s in result["strata"]}
    for s in recomputed["strata"]:
        got = recorded.get(s["key"])
        if got is None:
            problems.append(f"stratum {s['key']}: missing from the result")
            continue
        for field in ("count", "selected", "ranked"):
            if got.get(field) != s[field]:
                problems.append(
                    f"stratum {s['key']}: recorded {field} {got.get(field)} but recomputed {s[field]}"
                )
    extra = set(recorded) - {s["key"] for s in recomputed["strata"]}
    if extra:
        problems.append(f"result has strata not in the frame: {sorted(extra)}")
    if "teams" in recomputed:
        if "teams" not in result:
            problems.append("result.teams is missing")
        else:
            mine = [
                {k: t.get(k) for k in ("number", "districts", "leader", "members")} for t in result["teams"]
            ]
            if mine != recomputed["teams"]:
                problems.append(f"teams recorded {mine} but recomputed {recomputed['teams']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m services.sampling.verify record.json  (use - for stdin)", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args[0] == "-" else open(args[0], encoding="utf-8").read()  # noqa: SIM115
        record = json.loads(text)
    except (OSError, ValueError) as exc:
        print(f"cannot read the record: {exc}", file=sys.stderr)
        return 2
    if not record.get("seed", {}).get("secret"):
        print("the secret has not been revealed yet: the draw cannot be checked until it is", file=sys.stderr)
        return 2
    try:
        problems = verify_record(record)
    except (KeyError, TypeError, ValueError) as exc:
        print(f"malformed record: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    label = f"round {record.get('round_code')} draw {record.get('draw_number')}"
    if problems:
        print(f"MISMATCH: {label}")
        for p in problems:
            print(f"  - {p}")
        return 1
    n = sum(len(s["selected"]) for s in record["result"]["strata"])
    print(f"OK: {label} reproduces ({len(record['frame']['strata'])} strata, {n} sites drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
