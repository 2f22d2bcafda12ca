"""Allocations (``sampling-draw/2``): a floor in every stratum, an exact total, the rest from the seed."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.sampling import algorithm as alg

seed_st = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\x00", b"x"))
FAST = settings(max_examples=80, deadline=None)


@st.composite
def allocations(draw):
    """Strata of random sizes, and a feasible floor, cap and total over them."""
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=16))
    floor = draw(st.integers(0, min(sizes)))
    cap = draw(st.one_of(st.none(), st.integers(floor, 12)))
    room = sum(n if cap is None else min(cap, n) for n in sizes)
    total = draw(st.integers(max(floor * len(sizes), 1), max(room, 1)))
    assume(total <= room)
    strata = {f"d{i:02d}:town_street": [f"T{i:02d}{j:02d}" for j in range(n)] for i, n in enumerate(sizes)}
    spec = {
        "key": "district:town_street",
        "floor": floor,
        "total": total,
        "cap": cap,
        "strata": sorted(strata),
    }
    return spec, strata


def counts(seed: bytes, spec: dict, strata: dict) -> dict[str, int]:
    return alg.allocate(spec, {k: alg.rank(seed, k, v) for k, v in strata.items()})


class TestAllocate:
    @FAST
    @given(case=allocations(), seed=seed_st)
    def test_the_total_is_exact_and_every_floor_and_cap_holds(self, case, seed):
        spec, strata = case
        got = counts(seed, spec, strata)
        assert sum(got.values()) == spec["total"]
        assert set(got) == set(strata)
        for key, n in got.items():
            assert spec["floor"] <= n <= len(strata[key])
            assert spec["cap"] is None or n <= spec["cap"]

    @FAST
    @given(case=allocations(), seed=seed_st, data=st.data())
    def test_the_same_seed_gives_the_same_allocation_whatever_the_order(self, case, seed, data):
        spec, strata = case
        shuffled = {k: data.draw(st.permutations(v)) for k, v in reversed(list(strata.items()))}
        assert counts(seed, spec, strata) == counts(seed, spec, shuffled)

    def test_different_seeds_give_different_allocations(self):
        strata = {f"d{i:02d}:town_street": [f"T{i:02d}{j:02d}" for j in range(3 + 2 * i)] for i in range(10)}
        spec = {"key": "district:town_street", "floor": 1, "total": 29, "cap": None, "strata": sorted(strata)}
        seen = {tuple(sorted(counts(alg.seed_bytes("s", str(v)), spec, strata).items())) for v in range(20)}
        assert len(seen) > 10, "the remainder depends on the seed"

    @FAST
    @given(case=allocations(), seed=seed_st)
    def test_each_stratum_takes_a_prefix_of_its_own_ticket_order(self, case, seed):
        # So the allocated count and the stratum's own sample agree: the lowest tickets are taken.
        spec, strata = case
        frame = {
            "strata": [
                {"key": k, "codes": v, "quota": {"min": spec["floor"], "max": 0}, "allocation": spec["key"]}
                for k, v in strata.items()
            ],
            "allocations": [spec],
        }
        drawn = alg.draw_frame(seed, frame, 2)
        chosen = {c for s in drawn["strata"] for c in s["selected"]}
        floor, cap = spec["floor"], spec["cap"]
        candidates = [
            (t, c)
            for k, v in strata.items()
            for t, c in alg.rank(seed, k, v)[floor : len(v) if cap is None else min(cap, len(v))]
        ]
        taken = [t for t, c in candidates if c in chosen]
        left_out = [t for t, c in candidates if c not in chosen]
        assert not taken or not left_out or max(taken) < min(left_out), "the remainder is the lowest tickets"
        assert drawn["allocations"] == [{"key": spec["key"], "counts": counts(seed, spec, strata)}]
        for s in drawn["strata"]:
            assert s["selected"] == [c for _, c in alg.rank(seed, s["key"], strata[s["key"]])[: s["count"]]]

    def test_the_worked_example_of_the_documentation(self):
        seed = alg.seed_bytes("secret", "12345")
        strata = {
            "beilun:town_street": ["B1", "B2", "B3"],
            "cixi:town_street": ["C1", "C2", "C3", "C4"],
            "meishan:town_street": ["M1"],
        }
        spec = {"key": "district:town_street", "floor": 1, "total": 5, "cap": None, "strata": sorted(strata)}
        ranked = {k: alg.rank(seed, k, v) for k, v in strata.items()}
        assert [c for _, c in ranked["beilun:town_street"]] == ["B1", "B3", "B2"]
        assert ranked["beilun:town_street"][1][0] == (
            "3514a8c55e57781de44cad208107926ba7ed7bf638b887606fefa90ff008968f"
        )
        assert [c for _, c in ranked["cixi:town_street"]] == ["C1", "C4", "C2", "C3"]
        assert ranked["cixi:town_street"][1][0].startswith("657380c3")
        assert alg.allocate(spec, ranked) == {
            "beilun:town_street": 2,
            "cixi:town_street": 2,
            "meishan:town_street": 1,
        }

    def test_an_impossible_allocation_says_why(self):
        seed = alg.seed_bytes("s", "1")
        strata = {"a:x": ["A1"], "b:x": ["B1", "B2"]}
        ranked = {k: alg.rank(seed, k, v) for k, v in strata.items()}
        with pytest.raises(alg.AllocationInfeasible, match="floor of 2"):
            alg.allocate({"floor": 2, "total": 4, "cap": None, "strata": ["a:x", "b:x"]}, ranked)
        with pytest.raises(alg.AllocationInfeasible, match="total of 4"):
            alg.allocate({"floor": 1, "total": 4, "cap": None, "strata": ["a:x", "b:x"]}, ranked)


class TestAlgorithmOf:
    def test_a_frame_without_allocations_is_drawn_by_the_first_version(self):
        assert alg.algorithm_of({"strata": []}) == "sampling-draw/1"
        assert alg.algorithm_of({"strata": [], "allocations": [{"key": "k"}]}) == "sampling-draw/2"
