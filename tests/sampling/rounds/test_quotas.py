"""Quotas with a floor per district and a city total, and quotas for one site subtype."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from services.sampling.verify import stored_record_hash, verify_record
from tests.sampling.conftest import ADMIN, DISTRICTS, import_json, round_body

HOSPITALS = ["330203H1", "330212H1"]
TOTALS_PLAN: dict[str, Any] = {
    "quotas": [
        {"group": "district_zone", "per": "district", "count": 1},
        {"group": "town_street", "per": "district", "min": 1, "total": 7},
        {"group": "village_community", "per": "district", "min": 2, "total": 20},
        {"group": "two_new", "per": "district", "min": 1, "total": 10},
        {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
    ],
    "exclude_last_rounds": 1,
}


async def mark_hospitals(client: httpx.AsyncClient) -> None:
    rows = [
        {
            "code": c,
            "type": "institution",
            "subtype": "hospital",
            "name": f"{c}人民医院",
            "parent_code": c[:6],
        }
        for c in HOSPITALS
    ]
    r = await import_json(client, "/sites/import", rows)
    assert r.status_code == 200 and r.json()["updated"] == 2, r.text


async def draw(
    client: httpx.AsyncClient, plan: dict[str, Any], value: str = "20260405-37-12-08"
) -> dict[str, Any]:
    r = await client.post("/rounds", json=round_body(plan=plan, visit_days_per_district=4), headers=ADMIN)
    assert r.status_code == 201, r.text
    r = await client.post("/rounds/2026Q1/freeze", headers=ADMIN)
    assert r.status_code == 200, r.text
    r = await client.post("/rounds/2026Q1/draws", json={"public_value": value}, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert (await client.post("/rounds/2026Q1/reveal", headers=ADMIN)).status_code == 200
    return dict((await client.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json())


def with_quota(i: int, **change: Any) -> dict[str, Any]:
    plan = copy.deepcopy(TOTALS_PLAN)
    plan["quotas"][i] = {k: v for k, v in {**plan["quotas"][i], **change}.items() if v is not None}
    return plan


async def refused(client: httpx.AsyncClient, plan: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/rounds/2026Q1", headers=ADMIN)).status_code == 404, "nothing created"
    return dict(r.json())


class TestTotalQuotas:
    async def test_totals_are_exact_and_every_district_gets_its_floor(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        assert record["algorithm"] == "sampling-draw/2"
        per_group: Counter[str] = Counter()
        per_district: Counter[tuple[str, str]] = Counter()
        for s in record["result"]["strata"]:
            district, group = s["key"].split(":")
            per_group[group] += s["count"]
            per_district[(district, group)] += s["count"]
        assert per_group == {
            "district_zone": 4,
            "town_street": 7,
            "village_community": 20,
            "two_new": 10,
            "institution.hospital": 1,
        }
        for d in DISTRICTS:
            assert per_district[(d, "town_street")] >= 1
            assert per_district[(d, "village_community")] >= 2
            assert per_district[(d, "two_new")] >= 1
        allocated = {a["key"]: a["counts"] for a in record["result"]["allocations"]}
        assert allocated["district:town_street"] == {
            f"{d}:town_street": per_district[(d, "town_street")] for d in DISTRICTS
        }
        hospital = next(s for s in record["result"]["strata"] if s["key"] == "city:institution.hospital")
        assert hospital["selected"][0] in HOSPITALS
        listed = (await city.get("/rounds/2026Q1/assignments", params={"limit": 500}, headers=ADMIN)).json()
        assert listed["total"] == 4 + 7 + 20 + 10 + 1
        assert verify_record(record) == []

    async def test_the_frame_shows_each_allocation_and_its_strata(self, city):
        await mark_hospitals(city)
        await city.post("/rounds", json=round_body(plan=TOTALS_PLAN), headers=ADMIN)
        frame = (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).json()
        towns = next(a for a in frame["allocations"] if a["key"] == "district:town_street")
        assert (towns["floor"], towns["total"], towns["cap"]) == (1, 7, None)
        assert towns["strata"] == sorted(f"{d}:town_street" for d in DISTRICTS)
        stratum = next(s for s in frame["strata"] if s["key"] == "yinzhou:town_street")
        assert stratum["allocation"] == "district:town_street" and stratum["quota"] == {"min": 1, "max": 3}
        hospital = next(s for s in frame["strata"] if s["key"] == "city:institution.hospital")
        assert hospital["subtype"] == "hospital" and hospital["size"] == 2

    async def test_a_cap_limits_every_district(self, city):
        plan = with_quota(1, min=0, max=2, total=8)
        plan["quotas"].pop()
        record = await draw(city, plan)
        counts = next(a for a in record["result"]["allocations"] if a["key"] == "district:town_street")[
            "counts"
        ]
        assert counts == {f"{d}:town_street": 2 for d in DISTRICTS}
        assert verify_record(record) == []

    async def test_the_old_plan_shape_is_still_the_first_algorithm(self, city):
        r = await city.post("/rounds", json=round_body(), headers=ADMIN)
        assert r.status_code == 201
        assert r.json()["plan"]["quotas"][0]["total"] is None
        await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "1"}, headers=ADMIN)
        assert r.json()["algorithm"] == "sampling-draw/1"


class TestImpossiblePlans:
    async def test_floor_times_districts_above_the_total_names_total(self, city):
        problem = await refused(city, with_quota(1, min=2, total=7))
        assert problem["type"] == "/problems/invalid-plan"
        assert problem["errors"][0]["loc"] == ["body", "plan", "quotas", 1, "total"]
        assert (
            "2 in each of the round's 4 districts/zones is 8 sites, more than the total of 7"
            in problem["errors"][0]["msg"]
        )

    async def test_a_district_without_enough_sites_for_its_floor_names_min(self, city):
        await mark_hospitals(city)
        problem = await refused(city, with_quota(1, min=4, total=16))
        locs = {tuple(e["loc"]) for e in problem["errors"]}
        assert locs == {("body", "plan", "quotas", 1, "min")}
        msgs = sorted(e["msg"] for e in problem["errors"])
        assert (
            len(msgs) == 4 and "stratum beilun:town_street has 3 eligible sites; the floor needs 4" in msgs[0]
        )

    async def test_a_total_beyond_the_directory_names_total(self, city):
        await mark_hospitals(city)
        problem = await refused(city, with_quota(1, total=13))
        assert [e["loc"] for e in problem["errors"]] == [["body", "plan", "quotas", 1, "total"]]
        assert "have 12 eligible sites; the total needs 13" in problem["errors"][0]["msg"]

    async def test_an_unknown_subtype_names_subtype(self, city):
        problem = await refused(city, with_quota(4, subtype="clinic"))
        assert problem["errors"][0]["loc"] == ["body", "plan", "quotas", 4, "subtype"]

    async def test_a_subtype_no_site_has_names_subtype(self, city):
        problem = await refused(city, with_quota(4, subtype="school"))
        assert problem["errors"] == [
            {
                "loc": ["body", "plan", "quotas", 4, "subtype"],
                "msg": "no active institution site of subtype school in the round's districts",
                "type": "value_error",
            }
        ]

    async def test_a_city_wide_total_names_per(self, city):
        problem = await refused(city, with_quota(3, per="city", min=None, total=10))
        assert problem["errors"][0]["loc"] == ["body", "plan", "quotas", 3, "per"]

    async def test_count_and_total_together_are_refused(self, city):
        problem = await refused(city, with_quota(1, count=1, min=None, total=7))
        assert problem["errors"][0]["loc"] == ["body", "plan", "quotas", 1]
        assert "not count" in problem["errors"][0]["msg"]

    async def test_the_same_subtype_twice_names_subtype(self, city):
        await mark_hospitals(city)
        plan = copy.deepcopy(TOTALS_PLAN)
        plan["quotas"].append(dict(plan["quotas"][4]))
        problem = await refused(city, plan)
        assert problem["errors"][0]["loc"] == ["body", "plan", "quotas", 5, "subtype"]

    async def test_a_replaced_plan_is_checked_too(self, city):
        await mark_hospitals(city)
        assert (await city.post("/rounds", json=round_body(), headers=ADMIN)).status_code == 201
        r = await city.put("/rounds/2026Q1/plan", json={"plan": with_quota(1, total=13)}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "plan", "quotas", 1, "total"]
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["plan"]["quotas"][0].get(
            "total"
        ) is None


class TestSubtypeQuotas:
    async def test_the_group_quota_leaves_out_sites_its_subtype_quota_draws(self, city):
        await mark_hospitals(city)
        plan = {
            "quotas": [
                {"group": "institution", "per": "city", "count": 2},
                {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
            ]
        }
        await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        frame = (
            await city.get("/rounds/2026Q1/frame", params={"include_codes": "true"}, headers=ADMIN)
        ).json()
        codes = {s["key"]: s["codes"] for s in frame["strata"]}
        assert codes["city:institution.hospital"] == HOSPITALS
        assert codes["city:institution"] == ["330206H1", "3302G1H1"]


class TestVerifyAllocations:
    """The record of a draw with totals: a forged allocation is caught, whatever else was adjusted."""

    @staticmethod
    def rehash(record: dict[str, Any]) -> dict[str, Any]:
        # A careful forger recomputes the record's own hash: the recomputation must still catch it.
        record["record_sha256"] = stored_record_hash(record)
        return record

    async def test_moving_a_site_from_one_district_to_another_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        counts = next(a for a in record["result"]["allocations"] if a["key"] == "district:village_community")[
            "counts"
        ]
        give = next(k for k, n in counts.items() if n > 2)
        take = next(k for k in counts if k != give)
        counts[give] -= 1
        counts[take] += 1
        strata = {s["key"]: s for s in record["result"]["strata"]}
        frame = {s["key"]: s for s in record["frame"]["strata"]}
        strata[give]["count"] -= 1
        strata[give]["selected"].pop()
        extra = next(c for c in frame[take]["codes"] if c not in strata[take]["selected"])
        strata[take]["count"] += 1
        strata[take]["selected"].append(extra)
        problems = verify_record(self.rehash(record))
        assert any(p.startswith("allocation district:village_community: recorded counts") for p in problems)
        assert any(p.startswith(f"stratum {give}: recorded count") for p in problems)

    async def test_dropping_the_recorded_allocations_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        del record["result"]["allocations"]
        assert (
            "result.allocations is missing: the draw's counts per stratum are not recorded"
            in verify_record(self.rehash(record))
        )

    async def test_dropping_the_frame_allocations_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        del record["frame"]["allocations"]
        problems = verify_record(self.rehash(record))
        assert any("without frame.allocations" in p for p in problems)

    async def test_relabelling_the_record_as_the_first_algorithm_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        record["algorithm"] = "sampling-draw/1"
        problems = verify_record(self.rehash(record))
        assert "sampling-draw/1 has no allocations, but the record carries some" in problems

    async def test_an_allocation_that_is_not_the_plans_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        towns = next(a for a in record["frame"]["allocations"] if a["key"] == "district:town_street")
        towns["total"] = 8
        problems = verify_record(self.rehash(record))
        assert any(
            p.startswith("frame.allocations") and "the plan's quotas with a total" in p for p in problems
        )

    async def test_a_stratum_left_out_of_its_allocation_is_caught(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        towns = next(a for a in record["frame"]["allocations"] if a["key"] == "district:town_street")
        towns["strata"].remove("haishu:town_street")
        problems = verify_record(self.rehash(record))
        assert any("allocation district:town_street: lists strata" in p for p in problems)

    async def test_a_record_without_its_hash_or_teams_is_not_waved_through(self, city):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        del record["record_sha256"]
        del record["teams_input"]
        problems = verify_record(record)
        assert "record_sha256 is missing: the record's integrity cannot be checked" in problems
        assert "teams_input is missing: the teams cannot be recomputed" in problems


class TestExclusions:
    async def test_a_total_that_needs_recently_drawn_sites_relaxes_the_exclusion_with_a_warning(self, city):
        await mark_hospitals(city)
        await draw(city, TOTALS_PLAN)
        plan = {"quotas": [{"group": "town_street", "per": "district", "min": 1, "total": 12}]}
        r = await city.post("/rounds", json=round_body("2026Q2", plan=plan), headers=ADMIN)
        assert r.status_code == 201, r.text
        frame = (await city.post("/rounds/2026Q2/freeze", headers=ADMIN)).json()
        assert any("for a total of 12; exclusion relaxed in all its strata" in w for w in frame["warnings"])
        assert sum(s["size"] for s in frame["strata"]) == 12

    async def test_sites_drawn_last_round_are_left_out_unless_a_floor_needs_them(self, city):
        await mark_hospitals(city)
        first = await draw(city, TOTALS_PLAN)
        drawn = {
            c for s in first["result"]["strata"] if s["key"].endswith(":town_street") for c in s["selected"]
        }
        plan = {"quotas": [{"group": "town_street", "per": "district", "min": 1, "total": 5}]}
        await city.post("/rounds", json=round_body("2026Q2", plan=plan), headers=ADMIN)
        await city.post("/rounds/2026Q2/freeze", headers=ADMIN)
        frame = (
            await city.get("/rounds/2026Q2/frame", params={"include_codes": "true"}, headers=ADMIN)
        ).json()
        for s in frame["strata"]:
            relaxed = any(w.startswith(f"{s['key']}: only 0 sites") for w in frame["warnings"])
            assert relaxed == (s["excluded"] == 0 and bool(drawn & set(s["codes"])))
            if not relaxed:
                assert not drawn & set(s["codes"]) and s["size"] + s["excluded"] == 3


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.sampling.verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestVerifyCommandOnAllocations:
    async def test_the_command_reproduces_a_draw_with_totals_and_catches_a_forged_count(self, city, tmp_path):
        await mark_hospitals(city)
        record = await draw(city, TOTALS_PLAN)
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record, ensure_ascii=False))
        done = verify_cli(path)
        assert done.returncode == 0, done.stdout + done.stderr
        counts = record["result"]["allocations"][0]["counts"]
        first, second = sorted(counts)[:2]
        counts[first], counts[second] = counts[second], counts[first] + 1
        path.write_text(json.dumps(record, ensure_ascii=False))
        done = verify_cli(path)
        assert done.returncode == 1 and "recorded counts" in done.stdout
