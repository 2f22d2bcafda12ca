"""The draw algorithm as a third party would check it: pure functions, property-tested."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.sampling import algorithm as alg

codes_st = st.lists(
    st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._-]{0,12}", fullmatch=True), min_size=1, max_size=60, unique=True
)
seed_st = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\x00", b"x"))
FAST = settings(max_examples=60, deadline=None)


class TestTicket:
    def test_byte_layout_is_the_documented_one(self):
        seed = alg.seed_bytes("secret", "12345")
        expected = hashlib.sha256(b"secret\x0012345\x00yinzhou:village_community\x00330212001001").hexdigest()
        assert alg.ticket(seed, "yinzhou:village_community", "330212001001") == expected

    def test_known_vector_never_changes(self):
        # Pinned: a change here breaks every published record, so it must be a new algorithm version.
        seed = alg.seed_bytes("secret", "12345")
        assert alg.ticket(seed, "yinzhou:village_community", "330212001001") == (
            "87b8dcf0fd26a83679bf1936d786f02d20e0cd3e5f4df11e1e3539734b74f332"
        )
        result = alg.draw_stratum(seed, "yinzhou:village_community", ["A1", "B2", "C3", "D4", "E5"], 2, 2, 1)
        assert result["selected"] == ["A1", "E5"]
        assert [c for c, _ in result["ranked"]] == ["A1", "E5", "D4"]

    def test_commitment_is_sha256_of_the_secret(self):
        assert alg.commitment_of("secret") == hashlib.sha256(b"secret").hexdigest()


class TestDrawStratum:
    @FAST
    @given(codes=codes_st, seed=seed_st, k=st.integers(0, 60), data=st.data())
    def test_order_of_the_frame_does_not_matter(self, codes, seed, k, data):
        k = min(k, len(codes))
        shuffled = data.draw(st.permutations(codes))
        assert alg.draw_stratum(seed, "s", codes, k, k, 3) == alg.draw_stratum(seed, "s", shuffled, k, k, 3)

    @FAST
    @given(codes=codes_st, seed=seed_st, k=st.integers(0, 60))
    def test_takes_exactly_the_quota_and_no_site_twice(self, codes, seed, k):
        k = min(k, len(codes))
        result = alg.draw_stratum(seed, "s", codes, k, k, 0)
        assert len(result["selected"]) == k
        assert len(set(result["selected"])) == k
        assert set(result["selected"]) <= set(codes)

    @FAST
    @given(codes=codes_st, seed=seed_st, k=st.integers(1, 60))
    def test_selected_are_the_lowest_tickets(self, codes, seed, k):
        k = min(k, len(codes))
        result = alg.draw_stratum(seed, "s", codes, k, k, 0)
        worst_taken = max(alg.ticket(seed, "s", c) for c in result["selected"])
        assert all(alg.ticket(seed, "s", c) > worst_taken for c in set(codes) - set(result["selected"]))

    @FAST
    @given(codes=codes_st, seed=seed_st, lo=st.integers(0, 5), span=st.integers(0, 5))
    def test_a_range_quota_stays_inside_its_bounds(self, codes, seed, lo, span):
        lo = min(lo, len(codes))
        result = alg.draw_stratum(seed, "s", codes, lo, lo + span, 0)
        assert lo <= result["count"] <= min(lo + span, len(codes))
        assert len(result["selected"]) == result["count"]

    def test_stratum_key_changes_the_ranking(self):
        seed = alg.seed_bytes("a", "b")
        codes = [f"C{i:03d}" for i in range(50)]
        assert alg.draw_stratum(seed, "x", codes, 5, 5, 0) != alg.draw_stratum(seed, "y", codes, 5, 5, 0)

    def test_public_value_changes_the_sample(self):
        codes = [f"C{i:03d}" for i in range(200)]
        a = alg.draw_stratum(alg.seed_bytes("s", "1"), "k", codes, 10, 10, 0)["selected"]
        b = alg.draw_stratum(alg.seed_bytes("s", "2"), "k", codes, 10, 10, 0)["selected"]
        assert a != b


class TestFrameHash:
    def test_codes_sorted_by_utf8_bytes(self):
        assert alg.sort_codes(["b", "B", "a", "10", "9", "a"]) == ["10", "9", "B", "a", "b"]

    def test_frame_hash_is_order_free(self):
        assert alg.frame_hash({"a": "1", "b": "2"}) == alg.frame_hash({"b": "2", "a": "1"})
        assert alg.stratum_hash(["A", "B"]) == hashlib.sha256(b"A\nB").hexdigest()


DISTRICTS = ["haishu", "jiangbei", "beilun", "zhenhai", "yinzhou", "fenghua"]


@st.composite
def pools(draw):
    n = draw(st.integers(4, 30))
    return [
        {
            "user_id": f"u-{i:02d}",
            "home_district": draw(st.sampled_from(DISTRICTS)),
            "can_lead": draw(st.booleans()),
        }
        for i in range(n)
    ]


class TestFormTeams:
    @settings(max_examples=150, deadline=None)
    @given(pool=pools(), seed=seed_st, count=st.integers(1, 4), size=st.integers(1, 5), data=st.data())
    def test_recusal_is_never_violated(self, pool, seed, count, size, data):
        districts = data.draw(st.lists(st.sampled_from(DISTRICTS), min_size=1, unique=True))
        try:
            teams = alg.form_teams(
                seed, districts=districts, inspectors=pool, team_count=count, team_size=size
            )
        except alg.TeamsInfeasible as exc:
            assert exc.reasons
            return
        home = {p["user_id"]: p["home_district"] for p in pool}
        lead = {p["user_id"]: p["can_lead"] for p in pool}
        people = [u for t in teams for u in [t["leader"], *t["members"]]]
        assert len(people) == len(set(people)), "nobody sits on two teams"
        assert sorted(d for t in teams for d in t["districts"]) == sorted(districts)
        for t in teams:
            assert lead[t["leader"]]
            assert len(t["members"]) == size - 1
            for u in [t["leader"], *t["members"]]:
                assert home[u] not in t["districts"]

    @FAST
    @given(pool=pools(), seed=seed_st, data=st.data())
    def test_order_of_the_pool_does_not_matter(self, pool, seed, data):
        shuffled = data.draw(st.permutations(pool))
        kw = {"districts": DISTRICTS[:4], "team_count": 2, "team_size": 2}
        try:
            a = alg.form_teams(seed, inspectors=pool, **kw)
        except alg.TeamsInfeasible:
            with pytest.raises(alg.TeamsInfeasible):
                alg.form_teams(seed, inspectors=shuffled, **kw)
            return
        assert a == alg.form_teams(seed, inspectors=shuffled, **kw)

    def test_finds_the_only_arrangement_that_respects_recusal(self):
        # Only one pairing works; a greedy pick in ticket order would fail for half the seeds.
        pool = [
            {"user_id": "u-a", "home_district": "haishu", "can_lead": True},
            {"user_id": "u-b", "home_district": "beilun", "can_lead": True},
        ]
        for value in map(str, range(20)):
            teams = alg.form_teams(
                alg.seed_bytes("s", value),
                districts=["haishu", "beilun"],
                inspectors=pool,
                team_count=2,
                team_size=1,
            )
            leader_of = {d: t["leader"] for t in teams for d in t["districts"]}
            assert leader_of == {"haishu": "u-b", "beilun": "u-a"}

    def test_says_why_when_the_rule_cannot_be_met(self):
        pool = [{"user_id": f"u-{i}", "home_district": "haishu", "can_lead": True} for i in range(6)]
        with pytest.raises(alg.TeamsInfeasible) as info:
            alg.form_teams(
                alg.seed_bytes("s", "1"), districts=["haishu"], inspectors=pool, team_count=1, team_size=3
            )
        assert "haishu" in info.value.reasons[0]
        assert "no leader" in info.value.reasons[0]
