"""The sampling frame of a round: eligible sites grouped into strata, hashed, with exclusions applied.

Pure: no database, no I/O. The service gives it the active sites (aggregated per type, district and
town) and runs it in a thread (a province-sized frame is CPU work).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.kit.errors import field_error
from services.sampling import algorithm as alg
from services.sampling import errors
from services.sampling.enums import SiteGroup
from services.sampling.importing import DISTRICT_TYPES, ORG_TYPES, TOWN_TYPES, VILLAGE_TYPES
from services.sampling.rounds.schemas import Plan

GROUPS: dict[str, tuple[str, ...]] = {
    # The district or zone itself: its section-A (county-level) sheet needs it drawn and assigned.
    SiteGroup.DISTRICT_ZONE: DISTRICT_TYPES,
    SiteGroup.TOWN_STREET: TOWN_TYPES,
    SiteGroup.VILLAGE_COMMUNITY: VILLAGE_TYPES,
    SiteGroup.TWO_NEW: ("enterprise", "social_org"),
    SiteGroup.INSTITUTION: ("institution",),
}
assert set(ORG_TYPES) == {"enterprise", "social_org", "institution"}
assert set(GROUPS) == set(SiteGroup)


def quota_label(group: str, subtype: str | None) -> str:
    """The group part of a stratum key: ``<group>`` or ``<group>.<subtype>``."""
    return f"{group}.{subtype}" if subtype else group


def _stratum_of(
    per: str, label: str, district: str, town_code: str | None
) -> tuple[str, str | None, str | None]:
    if per == "city":
        return f"city:{label}", None, None
    if per == "town":
        return f"{district}/{town_code or '-'}:{label}", district, town_code
    return f"{district}:{label}", district, None


def _room(pools: dict[str, tuple[list[str], list[str]]], cap: int | None) -> int:
    """How many sites an allocation's strata can give at most: each its eligible sites, up to the cap."""
    return sum(len(eligible) if cap is None else min(cap, len(eligible)) for _, eligible in pools.values())


def build_frame(
    *,
    groups: list[Any],
    districts: list[str],
    plan: Plan,
    excluded: set[str],
    follow_up_codes: set[str],
    excluded_rounds: list[str],
) -> dict[str, Any]:
    """Group eligible sites into strata, apply exclusions (relaxing them when a stratum would be too small).

    `groups` are the active sites as ``(type, district, town_code, codes, subtype)`` rows, one per
    combination. A quota naming a subtype draws only sites of that subtype; a quota of the same
    group without one draws the group's other sites, so no site is in two strata. A quota with a
    ``total`` becomes an allocation over its strata (each takes ``min``, the remainder is drawn).
    """
    by_group: dict[str, list[Any]] = defaultdict(list)
    group_of = {t: g for g, ts in GROUPS.items() for t in ts}
    for g in groups:
        by_group[group_of[g.type]].append(g)
    own_subtypes: dict[str, set[str]] = defaultdict(set)
    for q in plan.quotas:
        if q.subtype is not None:
            own_subtypes[q.group].add(q.subtype)
    towns_by_district: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        if g.type in TOWN_TYPES:
            towns_by_district[g.district].update(g.codes)
    strata: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    warnings: list[str] = []
    problems: list[dict[str, Any]] = []
    n_rounds = plan.exclude_last_rounds
    for qi, q in enumerate(plan.quotas):
        label = quota_label(q.group, q.subtype)
        members: dict[str, list[str]] = defaultdict(list)
        meta: dict[str, tuple[str | None, str | None]] = {}
        # Every district (or town) in scope gets its stratum, even an empty one, so a quota it cannot
        # meet is reported rather than silently skipped.
        if q.per == "district":
            for d in districts:
                key, dd, tt = _stratum_of("district", label, d, None)
                members[key]
                meta[key] = (dd, tt)
        elif q.per == "city":
            members[f"city:{label}"]
            meta[f"city:{label}"] = (None, None)
        else:
            for d in districts:
                for t in towns_by_district[d]:
                    key, dd, tt = _stratum_of("town", label, d, t)
                    members[key]
                    meta[key] = (dd, tt)
        for g in by_group[q.group]:
            sub = getattr(g, "subtype", None)
            if (sub != q.subtype) if q.subtype is not None else (sub in own_subtypes[q.group]):
                continue
            key, dd, tt = _stratum_of(q.per, label, g.district, g.town_code)
            members[key].extend(g.codes)
            meta.setdefault(key, (dd, tt))
        assert q.min is not None
        floor_field = "count" if q.count is not None else "min"
        what = "floor" if q.total is not None else "quota"
        pools: dict[str, tuple[list[str], list[str]]] = {}
        for key, codes in members.items():
            candidates = [c for c in codes if c not in follow_up_codes]
            eligible = [c for c in candidates if c not in excluded]
            if len(eligible) < q.min and len(eligible) < len(candidates):
                warnings.append(
                    f"{key}: only {len(eligible)} sites not visited in the last {n_rounds} round(s), "
                    f"fewer than the {what} of {q.min}; exclusion relaxed, all {len(candidates)} sites eligible"
                )
                eligible = candidates
            if len(eligible) < q.min:
                problems.append(
                    field_error(
                        ["plan", "quotas", qi, floor_field],
                        f"stratum {key} has {len(eligible)} eligible sites; the {what} needs {q.min}",
                        zh=f"层 {key} 有 {len(eligible)} 个可抽单位，{'下限' if what == 'floor' else '配额'}需要 {q.min} 个",
                    )
                )
            pools[key] = (candidates, eligible)
        floors_met = all(len(e) >= q.min for _, e in pools.values())
        if q.total is not None:
            # A floor a stratum cannot meet makes the total moot: report the floor alone.
            if not floors_met:
                continue
            if q.per == "city":
                problems.append(
                    field_error(
                        ["plan", "quotas", qi, "per"],
                        "a total needs per district or per town",
                        zh="总数须按区县或按镇街分配（per 为 district 或 town）",
                    )
                )
                continue
            if q.min * len(pools) > q.total:
                problems.append(
                    field_error(
                        ["plan", "quotas", qi, "total"],
                        f"a floor of {q.min} in each of the {len(pools)} strata of {label} is "
                        f"{q.min * len(pools)}, more than the total of {q.total}",
                        zh=f"{label} 的 {len(pools)} 个层各不少于 {q.min} 个，合计 {q.min * len(pools)} 个，超过总数 {q.total}",
                    )
                )
                continue

            relaxed = {k: (c, c) for k, (c, _) in pools.items()}
            if _room(pools, q.max) < q.total and _room(relaxed, q.max) > _room(pools, q.max):
                warnings.append(
                    f"{label}: only {_room(pools, q.max)} sites not visited in the last {n_rounds} round(s) "
                    f"for a total of {q.total}; exclusion relaxed in all its strata"
                )
                pools = relaxed
            if _room(pools, q.max) < q.total:
                problems.append(
                    field_error(
                        ["plan", "quotas", qi, "total"],
                        f"the {len(pools)} strata of {label} have {_room(pools, q.max)} eligible sites"
                        f"{'' if q.max is None else f' (at most {q.max} each)'}; the total needs {q.total}",
                        zh=f"{label} 的 {len(pools)} 个层共有 {_room(pools, q.max)} 个可抽单位{'' if q.max is None else f'（每层至多 {q.max} 个）'}，总数需要 {q.total} 个",
                    )
                )
                continue
        elif q.max is not None:
            for key, (_, eligible) in pools.items():
                if q.max > len(eligible) and q.max != q.min and len(eligible) >= q.min:
                    warnings.append(
                        f"{key}: quota range {q.min}-{q.max} capped at the {len(eligible)} eligible sites"
                    )
        akey = f"{q.per}:{label}"
        for key, (candidates, eligible) in pools.items():
            if len(eligible) < q.min:
                continue
            codes_sorted = alg.sort_codes(eligible)
            stratum: dict[str, Any] = {
                "key": key,
                "group": q.group,
                "district": meta[key][0],
                "town_code": meta[key][1],
                "quota": {"min": q.min, "max": q.max},
                "size": len(codes_sorted),
                "excluded": len(candidates) - len(eligible),
                "codes": codes_sorted,
                "hash": alg.stratum_hash(codes_sorted),
            }
            # Keys only a /2 (or subtype) frame has, so a frame of the old plan shape stays as it was.
            if q.subtype is not None:
                stratum["subtype"] = q.subtype
            if q.total is not None:
                top = len(codes_sorted) if q.max is None else min(q.max, len(codes_sorted))
                stratum["quota"] = {"min": q.min, "max": top}
                stratum["allocation"] = akey
            strata.append(stratum)
        if q.total is not None:
            allocations.append(
                {
                    "key": akey,
                    "group": q.group,
                    "subtype": q.subtype,
                    "per": q.per,
                    "floor": q.min,
                    "total": q.total,
                    "cap": q.max,
                    "strata": alg.sort_codes(pools),
                }
            )
    if problems:
        raise errors.QuotaExceedsStratum(
            f"{len(problems)} quota problem(s): strata smaller than their quota or floor, or totals "
            "the strata cannot meet; nothing was frozen",
            zh=f"配额有 {len(problems)} 处问题：有的层小于其配额或下限，或有的总数各层无法满足；抽样框未冻结",
            errors=problems,
        )
    strata.sort(key=lambda s: s["key"].encode("utf-8"))
    frame: dict[str, Any] = {
        "algorithm": alg.ALGORITHM,
        "strata": strata,
        "hash": alg.frame_hash({s["key"]: s["hash"] for s in strata}),
        "warnings": warnings,
        "exclude_last_rounds": n_rounds,
        "excluded_rounds": excluded_rounds,
    }
    if allocations:
        frame["allocations"] = sorted(allocations, key=lambda a: a["key"].encode("utf-8"))
        frame["algorithm"] = alg.ALGORITHM_ALLOCATED
    return frame
