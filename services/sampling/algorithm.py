"""The draw algorithms ``sampling-draw/1`` and ``/2``, stand-alone: only ``hashlib`` from the standard library.

This module is what the service runs and what ``python -m services.sampling.verify`` re-runs; a
third party can copy it (or reimplement it from ``docs/draw-algorithm.md``). Everything is defined
on bytes, so the result does not depend on input order, platform or Python version:

* strings are encoded as UTF-8; fields are joined with a single NUL byte (``0x00``), which no
  code, stratum key, secret or public value may contain;
* lists of codes are sorted by their UTF-8 bytes;
* a ticket is ``SHA-256(secret ‖ 0x00 ‖ public_value ‖ 0x00 ‖ stratum_key ‖ 0x00 ‖ code)`` in
  lowercase hex, and a stratum's sample is the ``k`` codes with the lowest tickets (ties, which
  would need a SHA-256 collision, are broken by the code's bytes).

``sampling-draw/2`` is ``/1`` plus *allocations*: a quota with a floor per stratum and a total over
all its strata (at least 1 town in every district, 29 in all). Every stratum first takes its floor;
the remainder goes to the lowest tickets among all the strata's other sites (see :func:`allocate`).
A record without allocations is a ``/1`` record, byte for byte as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

ALGORITHM = "sampling-draw/1"
# /1 plus quotas with a floor per stratum and a total (allocations); records without them stay /1.
ALGORITHM_ALLOCATED = "sampling-draw/2"
ALGORITHMS = (ALGORITHM, ALGORITHM_ALLOCATED)
SEP = b"\x00"
COUNT_LABEL = "#count"
TEAM_DISTRICTS_KEY = "teams/districts"
TEAM_INSPECTORS_KEY = "teams/inspectors"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commitment_of(secret: str) -> str:
    """The commitment published before the draw: SHA-256 of the secret's UTF-8 bytes."""
    return sha256_hex(secret.encode("utf-8"))


def seed_bytes(secret: str, public_value: str) -> bytes:
    """The seed: the committed secret and the public value entered at draw time."""
    return secret.encode("utf-8") + SEP + public_value.encode("utf-8")


def sort_codes(codes: Iterable[str]) -> list[str]:
    """Distinct codes in UTF-8 byte order (the order frames are hashed in)."""
    return sorted(set(codes), key=lambda c: c.encode("utf-8"))


def stratum_hash(sorted_codes: Sequence[str]) -> str:
    """SHA-256 of a stratum's sorted codes joined by LF (``0x0A``), no trailing LF."""
    return sha256_hex("\n".join(sorted_codes).encode("utf-8"))


def frame_hash(strata_hashes: dict[str, str]) -> str:
    """SHA-256 of ``key TAB hash LF`` for every stratum, in key byte order."""
    lines = "".join(f"{k}\t{strata_hashes[k]}\n" for k in sort_codes(strata_hashes))
    return sha256_hex(lines.encode("utf-8"))


def ticket(seed: bytes, stratum_key: str, code: str) -> str:
    return sha256_hex(seed + SEP + stratum_key.encode("utf-8") + SEP + code.encode("utf-8"))


def rank(seed: bytes, stratum_key: str, codes: Iterable[str]) -> list[tuple[str, str]]:
    """``(ticket, code)`` pairs, lowest ticket first."""
    pairs = [(ticket(seed, stratum_key, c), c) for c in set(codes)]
    pairs.sort(key=lambda p: (p[0], p[1].encode("utf-8")))
    return pairs


def quota_count(seed: bytes, stratum_key: str, minimum: int, maximum: int, size: int) -> int:
    """How many to take from a stratum of `size`: fixed, or drawn from ``[min, min(max, size)]``."""
    top = min(maximum, size)
    if top <= minimum:
        return min(minimum, size)
    digest = hashlib.sha256(
        seed + SEP + stratum_key.encode("utf-8") + SEP + COUNT_LABEL.encode("utf-8")
    ).digest()
    return minimum + int.from_bytes(digest[:8], "big") % (top - minimum + 1)


def _stratum_result(
    stratum_key: str, ranked: Sequence[tuple[str, str]], count: int, reserve: int
) -> dict[str, Any]:
    return {
        "key": stratum_key,
        "count": count,
        "selected": [c for _, c in ranked[:count]],
        "ranked": [[c, t] for t, c in ranked[: count + reserve]],
    }


def draw_stratum(
    seed: bytes, stratum_key: str, codes: Sequence[str], minimum: int, maximum: int, reserve: int
) -> dict[str, Any]:
    """One stratum's result: the count, the selected codes (in rank order) and the top tickets."""
    ranked = rank(seed, stratum_key, codes)
    count = quota_count(seed, stratum_key, minimum, maximum, len(ranked))
    return _stratum_result(stratum_key, ranked, count, reserve)


class AllocationInfeasible(ValueError):
    """An allocation's floor or total cannot be met by its strata (a frame never freezes like that)."""


def allocate(allocation: dict[str, Any], ranked: dict[str, Sequence[tuple[str, str]]]) -> dict[str, int]:
    """How many sites each stratum of an allocation takes (``sampling-draw/2``).

    `allocation` has ``floor``, ``total``, ``cap`` (null: none) and ``strata`` (keys); `ranked`
    gives each stratum's ``(ticket, code)`` pairs, lowest ticket first (:func:`rank`). Every stratum
    takes its floor (its ``floor`` lowest tickets). Its sites ranked ``floor .. min(cap, size) - 1``
    are the candidates for the remainder ``total - floor × strata``, which goes to the candidates
    with the lowest tickets over all the strata (ties by stratum key bytes, then code bytes). So
    the remainder is a simple random sample of every site beyond the floors: a stratum's expected
    share grows with its size, and each stratum still takes a prefix of its own ticket order.
    """
    floor, total, cap = int(allocation["floor"]), int(allocation["total"]), allocation["cap"]
    counts: dict[str, int] = {}
    candidates: list[tuple[str, bytes, bytes, str]] = []
    for key in allocation["strata"]:
        pairs = ranked[key]
        top = len(pairs) if cap is None else min(int(cap), len(pairs))
        if top < floor:
            raise AllocationInfeasible(f"stratum {key} has {top} sites for a floor of {floor}")
        counts[key] = floor
        kb = key.encode("utf-8")
        candidates += [(t, kb, c.encode("utf-8"), key) for t, c in pairs[floor:top]]
    remainder = total - floor * len(counts)
    if remainder < 0 or remainder > len(candidates):
        raise AllocationInfeasible(
            f"a total of {total} with a floor of {floor} in {len(counts)} strata "
            f"({len(candidates)} sites beyond the floors)"
        )
    candidates.sort()
    for *_, key in candidates[:remainder]:
        counts[key] += 1
    return counts


def algorithm_of(frame: dict[str, Any]) -> str:
    """The algorithm a frame is drawn with: ``/2`` when it has allocations, else ``/1``."""
    return ALGORITHM_ALLOCATED if frame.get("allocations") else ALGORITHM


def draw_frame(seed: bytes, frame: dict[str, Any], reserve: int) -> dict[str, Any]:
    """Every stratum's result, and each allocation's counts when the frame has allocations."""
    ranked = {s["key"]: rank(seed, s["key"], s["codes"]) for s in frame["strata"]}
    fixed: dict[str, int] = {}
    allocations = []
    for a in frame.get("allocations") or []:
        missing = [k for k in a["strata"] if k not in ranked]
        if missing:
            raise AllocationInfeasible(f"allocation {a['key']} names strata not in the frame: {missing}")
        counts = allocate(a, {k: ranked[k] for k in a["strata"]})
        fixed.update(counts)
        allocations.append({"key": a["key"], "counts": counts})
    strata = []
    for s in frame["strata"]:
        key, pairs = s["key"], ranked[s["key"]]
        if key in fixed:
            count = fixed[key]
        else:
            count = quota_count(seed, key, int(s["quota"]["min"]), int(s["quota"]["max"]), len(pairs))
        strata.append(_stratum_result(key, pairs, count, reserve))
    out: dict[str, Any] = {"strata": strata}
    if frame.get("allocations"):
        out["allocations"] = allocations
    return out


class TeamsInfeasible(Exception):
    """The recusal rule (回避) cannot be met with this pool; `reasons` says why."""

    def __init__(self, reasons: list[str], reasons_zh: list[str] | None = None) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.reasons_zh = reasons_zh or reasons


def _match(slots: Sequence[int], candidates: Sequence[str], allowed: dict[int, set[str]]) -> dict[int, str]:
    """Deterministic bipartite matching (Kuhn): slots in order, candidates in the given order."""
    owner: dict[str, int] = {}

    def try_slot(slot: int, seen: set[str]) -> bool:
        for person in candidates:
            if person in seen or person not in allowed[slot]:
                continue
            seen.add(person)
            if person not in owner or try_slot(owner[person], seen):
                owner[person] = slot
                return True
        return False

    for slot in slots:
        try_slot(slot, set())
    return {slot: person for person, slot in owner.items()}


def form_teams(
    seed: bytes,
    *,
    districts: Sequence[str],
    inspectors: Sequence[dict[str, Any]],
    team_count: int,
    team_size: int,
) -> list[dict[str, Any]]:
    """Draw teams (双随机) so that no member inspects their home district (回避).

    Districts are ranked by ticket and dealt round-robin to teams 1..n; inspectors are ranked by
    ticket; leaders (one per team, from those who may lead) and then members fill team slots by a
    deterministic matching that tries inspectors in ticket order. Raises :class:`TeamsInfeasible`
    when the rule cannot be met, rather than bending it.
    """
    ranked_districts = [d for _, d in rank(seed, TEAM_DISTRICTS_KEY, districts)]
    team_districts = [ranked_districts[i::team_count] for i in range(team_count)]
    by_id = {i["user_id"]: i for i in inspectors}
    order = [u for _, u in rank(seed, TEAM_INSPECTORS_KEY, by_id)]

    def fits(user_id: str, team: int) -> bool:
        return by_id[user_id]["home_district"] not in team_districts[team]

    leaders_pool = [u for u in order if by_id[u]["can_lead"]]
    allowed = {t: {u for u in leaders_pool if fits(u, t)} for t in range(team_count)}
    leaders = _match(range(team_count), leaders_pool, allowed)
    reasons, reasons_zh = [], []
    for t in range(team_count):
        if t not in leaders:
            where = ", ".join(team_districts[t]) or "-"
            why = (
                f"all {len(leaders_pool)} inspectors who may lead come from {where}"
                if not allowed[t]
                else f"the {len(allowed[t])} inspectors who may lead and come from elsewhere lead other teams"
            )
            reasons.append(f"team {t + 1} (districts {where}) has no leader: {why}")
            why_zh = (
                f"可任组长的 {len(leaders_pool)} 名督查人员都来自 {where}"
                if not allowed[t]
                else f"可任组长且来自其他区县的 {len(allowed[t])} 名督查人员已是其他组的组长"
            )
            reasons_zh.append(f"第 {t + 1} 组（督查 {where}）没有组长：{why_zh}")
    if reasons:
        raise TeamsInfeasible(reasons, reasons_zh)

    taken = set(leaders.values())
    rest = [u for u in order if u not in taken]
    per_team = team_size - 1
    # Slot s belongs to team s % team_count: teams fill evenly, one seat at a time.
    slots = list(range(per_team * team_count))
    allowed = {s: {u for u in rest if fits(u, s % team_count)} for s in slots}
    seats = _match(slots, rest, allowed)
    for t in range(team_count):
        filled = sum(1 for s in seats if s % team_count == t)
        if filled < per_team:
            eligible = len({u for u in rest if fits(u, t)})
            reasons.append(
                f"team {t + 1} (districts {', '.join(team_districts[t]) or '-'}) needs {per_team} members "
                f"besides its leader whose home district is elsewhere; only {filled} could be placed "
                f"({eligible} eligible in a pool of {len(rest)} non-leaders)"
            )
            reasons_zh.append(
                f"第 {t + 1} 组（督查 {'、'.join(team_districts[t]) or '-'}）除组长外需要 {per_team} 名"
                f"本人所在区县不在督查范围内的组员，只安排上 {filled} 名"
                f"（{len(rest)} 名非组长人员中有 {eligible} 名符合条件）"
            )
    if reasons:
        raise TeamsInfeasible(reasons, reasons_zh)

    rank_of = {u: i for i, u in enumerate(order)}
    teams = []
    for t in range(team_count):
        members = sorted((u for s, u in seats.items() if s % team_count == t), key=rank_of.__getitem__)
        teams.append(
            {"number": t + 1, "districts": team_districts[t], "leader": leaders[t], "members": members}
        )
    return teams


def compute_draw(inputs: dict[str, Any]) -> dict[str, Any]:
    """Recompute a draw's strata and teams from its record's inputs (see docs/draw-algorithm.md)."""
    seed = seed_bytes(inputs["secret"], inputs["public_value"])
    out = draw_frame(seed, inputs["frame"], int(inputs["reserve"]))
    spec = inputs.get("teams")
    if spec:
        out["teams"] = form_teams(
            seed,
            districts=spec["districts"],
            inspectors=spec["inspectors"],
            team_count=int(spec["count"]),
            team_size=int(spec["size"]),
        )
    return out
