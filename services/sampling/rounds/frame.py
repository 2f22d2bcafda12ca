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


def _stratum_of(
    per: str, group: str, district: str, town_code: str | None
) -> tuple[str, str | None, str | None]:
    if per == "city":
        return f"city:{group}", None, None
    if per == "town":
        return f"{district}/{town_code or '-'}:{group}", district, town_code
    return f"{district}:{group}", district, None


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

    `groups` are the active sites as ``(type, district, town_code, codes)`` rows, one per combination.
    """
    by_group: dict[str, list[Any]] = defaultdict(list)
    group_of = {t: g for g, ts in GROUPS.items() for t in ts}
    for g in groups:
        by_group[group_of[g.type]].append(g)
    towns_by_district: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        if g.type in TOWN_TYPES:
            towns_by_district[g.district].update(g.codes)
    strata: list[dict[str, Any]] = []
    warnings: list[str] = []
    problems: list[dict[str, Any]] = []
    n_rounds = plan.exclude_last_rounds
    for qi, q in enumerate(plan.quotas):
        members: dict[str, list[str]] = defaultdict(list)
        meta: dict[str, tuple[str | None, str | None]] = {}
        # Every district (or town) in scope gets its stratum, even an empty one, so a quota it cannot
        # meet is reported rather than silently skipped.
        if q.per == "district":
            for d in districts:
                key, dd, tt = _stratum_of("district", q.group, d, None)
                members[key]
                meta[key] = (dd, tt)
        elif q.per == "city":
            members[f"city:{q.group}"]
            meta[f"city:{q.group}"] = (None, None)
        else:
            for d in districts:
                for t in towns_by_district[d]:
                    key, dd, tt = _stratum_of("town", q.group, d, t)
                    members[key]
                    meta[key] = (dd, tt)
        for g in by_group[q.group]:
            key, dd, tt = _stratum_of(q.per, q.group, g.district, g.town_code)
            members[key].extend(g.codes)
            meta.setdefault(key, (dd, tt))
        assert q.min is not None and q.max is not None
        for key, codes in members.items():
            candidates = [c for c in codes if c not in follow_up_codes]
            eligible = [c for c in candidates if c not in excluded]
            n_excluded = len(candidates) - len(eligible)
            if len(eligible) < q.min and n_excluded:
                warnings.append(
                    f"{key}: only {len(eligible)} sites not visited in the last {n_rounds} round(s), "
                    f"fewer than the quota of {q.min}; exclusion relaxed, all {len(candidates)} sites eligible"
                )
                eligible, n_excluded = candidates, 0
            if len(eligible) < q.min:
                problems.append(
                    field_error(
                        ["plan", "quotas", qi],
                        f"stratum {key} has {len(eligible)} eligible sites; the quota needs {q.min}",
                    )
                )
                continue
            if q.max > len(eligible) and q.max != q.min:
                warnings.append(
                    f"{key}: quota range {q.min}-{q.max} capped at the {len(eligible)} eligible sites"
                )
            codes_sorted = alg.sort_codes(eligible)
            strata.append(
                {
                    "key": key,
                    "group": q.group,
                    "district": meta[key][0],
                    "town_code": meta[key][1],
                    "quota": {"min": q.min, "max": q.max},
                    "size": len(codes_sorted),
                    "excluded": n_excluded,
                    "codes": codes_sorted,
                    "hash": alg.stratum_hash(codes_sorted),
                }
            )
    if problems:
        raise errors.QuotaExceedsStratum(
            f"{len(problems)} stratum/strata are smaller than their quota; nothing was frozen",
            errors=problems,
        )
    strata.sort(key=lambda s: s["key"].encode("utf-8"))
    return {
        "algorithm": alg.ALGORITHM,
        "strata": strata,
        "hash": alg.frame_hash({s["key"]: s["hash"] for s in strata}),
        "warnings": warnings,
        "exclude_last_rounds": n_rounds,
        "excluded_rounds": excluded_rounds,
    }
