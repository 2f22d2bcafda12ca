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


def verify_record(record: dict[str, Any]) -> list[str]:
    """Every mismatch between `record` and a recomputation of it (empty when it verifies)."""
    problems: list[str] = []
    if "record_sha256" in record and stored_record_hash(record) != record["record_sha256"]:
        problems.append(
            f"record_sha256 {record['record_sha256']} but the record hashes to {stored_record_hash(record)}"
        )
    if record.get("algorithm") != alg.ALGORITHM:
        return [f"unknown algorithm {record.get('algorithm')!r}; this verifier knows {alg.ALGORITHM}"]
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
    recomputed = alg.compute_draw(
        {
            "secret": secret,
            "public_value": record["seed"]["public_value"],
            "reserve": record["parameters"]["reserve"],
            "frame": frame,
            "teams": record.get("teams_input"),
        }
    )
    recorded = {s["key"]: s for s in record["result"]["strata"]}
    for s in recomputed["strata"]:
        got = recorded.get(s["key"])
        if got is None:
            problems.append(f"stratum {s['key']}: missing from the result")
            continue
        for field in ("count", "selected", "ranked"):
            if got[field] != s[field]:
                problems.append(
                    f"stratum {s['key']}: recorded {field} {got[field]} but recomputed {s[field]}"
                )
    extra = set(recorded) - {s["key"] for s in recomputed["strata"]}
    if extra:
        problems.append(f"result has strata not in the frame: {sorted(extra)}")
    if "teams" in recomputed:
        mine = [
            {k: t[k] for k in ("number", "districts", "leader", "members")} for t in record["result"]["teams"]
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
