"""The draw algorithm as a third party would check it: pure functions, property-tested."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

codes_st = st.lists(
    st.from_regex(r"[0-9A-Za-z][0-9A-Za-z._-]{0,12}", fullmatch=True), min_size=1, max_size=60, unique=True
)
seed_st = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\x00", b"x"))
FAST = settings(max_examples=60, deadline=None)


class TestBuildFrame:
    """The frame the service freezes does not depend on the order the database returns sites in."""

    @staticmethod
    def _groups():
        from services.sampling.sites.repository import FrameGroup

        groups = []
        for d in ("haishu", "yinzhou"):
            for t in range(3):
                town = f"{d[:2].upper()}T{t}"
                groups.append(FrameGroup("town", d, town, [town]))
                groups.append(FrameGroup("village", d, town, [f"{town}V{v}" for v in range(4)]))
                groups.append(FrameGroup("community", d, town, [f"{town}C{v}" for v in range(2)]))
                groups.append(FrameGroup("enterprise", d, town, [f"{town}E{v}" for v in range(2)]))
            groups.append(FrameGroup("institution", d, None, [f"{d}-I"]))
        return groups

    @FAST
    @given(data=st.data())
    def test_order_of_sites_does_not_change_the_frame(self, data):
        from services.sampling.rounds.frame import build_frame
        from services.sampling.rounds.schemas import Plan

        plan = Plan.model_validate(
            {
                "quotas": [
                    {"group": "town_street", "count": 1},
                    {"group": "village_community", "per": "town", "count": 2},
                    {"group": "two_new", "min": 1, "max": 2},
                    {"group": "institution", "per": "city", "count": 1},
                ]
            }
        )
        groups = self._groups()
        shuffled = [
            type(g)(g.type, g.district, g.town_code, data.draw(st.permutations(g.codes)))
            for g in data.draw(st.permutations(groups))
        ]
        kw = {
            "districts": ["haishu", "yinzhou"],
            "plan": plan,
            "excluded": set(),
            "follow_up_codes": set(),
            "excluded_rounds": [],
        }
        a = build_frame(groups=groups, **kw)
        b = build_frame(groups=shuffled, **kw)
        assert a == b
        assert len(a["strata"]) == 2 + 6 + 2 + 1
        all_codes = [c for s in a["strata"] for c in s["codes"]]
        assert len(all_codes) == len(set(all_codes)), "no site in two strata"

    @FAST
    @given(data=st.data())
    def test_totals_and_subtypes_keep_the_frame_order_free_and_disjoint(self, data):
        from services.sampling.rounds.frame import build_frame
        from services.sampling.rounds.schemas import Plan
        from services.sampling.sites.repository import FrameGroup

        plan = Plan.model_validate(
            {
                "quotas": [
                    {"group": "town_street", "min": 1, "total": 4},
                    {"group": "village_community", "per": "town", "min": 1, "total": 9},
                    {"group": "institution", "per": "city", "count": 1},
                    {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
                ]
            }
        )
        groups = [*self._groups()]
        groups += [FrameGroup("institution", d, None, [f"{d}-H"], "hospital") for d in ("haishu", "yinzhou")]
        shuffled = [
            FrameGroup(g.type, g.district, g.town_code, data.draw(st.permutations(g.codes)), g.subtype)
            for g in data.draw(st.permutations(groups))
        ]
        kw = {
            "districts": ["haishu", "yinzhou"],
            "plan": plan,
            "excluded": set(),
            "follow_up_codes": set(),
            "excluded_rounds": [],
        }
        a = build_frame(groups=groups, **kw)
        assert a == build_frame(groups=shuffled, **kw)
        assert a["algorithm"] == "sampling-draw/2"
        assert [(x["key"], x["floor"], x["total"], len(x["strata"])) for x in a["allocations"]] == [
            ("district:town_street", 1, 4, 2),
            ("town:village_community", 1, 9, 6),
        ]
        codes = {s["key"]: s["codes"] for s in a["strata"]}
        assert codes["city:institution.hospital"] == ["haishu-H", "yinzhou-H"]
        assert codes["city:institution"] == ["haishu-I", "yinzhou-I"]
        all_codes = [c for s in a["strata"] for c in s["codes"]]
        assert len(all_codes) == len(set(all_codes)), "no site in two strata"
