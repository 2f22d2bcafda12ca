"""The dashboard: every figure from stats.py, scoped, fresh, cached."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.kit.testing import SignedHeaders
from services.reporting import stats
from services.reporting.facts import RoundFacts, load_round_facts
from tests.reporting import factories as f
from tests.reporting.conftest import ADMIN, INSPECTOR, LEADER, T0, YINZHOU_ADMIN, Harness

YZ = [f.site(f"10{i}", "yinzhou") for i in range(1, 5)]
HS = [f.site(f"20{i}", "haishu") for i in range(1, 4)]
Q4 = T0 - timedelta(days=90)


async def seed(h: Harness) -> None:
    """Q4 2025 published (haishu first), Q1 2026 drawn, scored, published (yinzhou first), with problems."""
    await h.send(
        f.drawn("2025Q4", YZ + HS, at=Q4, year=2025, quarter=4),
        f.results(
            "2025Q4", [("haishu", 92.0), ("yinzhou", 85.0), ("cixi", 80.0)], at=Q4 + timedelta(days=20)
        ),
        f.drawn("2026Q1", YZ + HS, at=T0 - timedelta(days=20)),
    )
    events = []
    for i, s in enumerate(YZ[:3]):
        events.append(
            f.sheet(
                "2026Q1",
                s,
                at=T0 - timedelta(days=10),
                score=95.0 - i,
                grade="好",
                deductions=[("B03", "三会一课", 2.0)],
            )
        )
    events.append(
        f.sheet("2026Q1", YZ[3], at=T0 - timedelta(days=10), status="draft", score=None, grade=None)
    )
    events.append(
        f.sheet(
            "2026Q1",
            HS[0],
            at=T0 - timedelta(days=10),
            score=72.0,
            grade="一般",
            deductions=[("B03", "三会一课", 3.0), ("A01", "班子建设", 5.0)],
            veto=["A09"],
        )
    )
    events += [
        f.problem("2026Q1", YZ[0], at=T0 - timedelta(days=9), status="closed", closed_on_time=True),
        f.problem("2026Q1", YZ[1], at=T0 - timedelta(days=9), deadline=T0 - timedelta(days=1)),  # overdue
        f.problem("2026Q1", HS[0], at=T0 - timedelta(days=9), deadline=T0 + timedelta(days=2)),  # red
        f.problem("2026Q1", HS[0], at=T0 - timedelta(days=9), status="withdrawn"),
    ]
    events.append(
        f.results("2026Q1", [("yinzhou", 93.0), ("haishu", 88.0), ("cixi", 81.0)], at=T0 - timedelta(days=1))
    )
    await h.batch(events)


async def test_the_dashboard_is_stats_of_the_facts(reporting: Harness) -> None:
    await seed(reporting)
    board = await reporting.dashboard("2026Q1")
    async with reporting.app.state.sessionmaker() as session:
        facts = await load_round_facts(session, "2026Q1")
    # The facts are built without validation: they are exactly what validation would give.
    assert RoundFacts.model_validate(facts.model_dump()) == facts
    assert facts.sheets[0].site.district in f.NAMES and facts.problems[0].deadline_at.tzinfo is not None
    now = reporting.clock.now()
    assert board["coverage"] == stats.coverage(facts).model_dump(mode="json")
    assert board["scores"] == stats.score_distribution(facts).model_dump(mode="json")
    assert board["rectification"] == stats.rectification(facts, now).model_dump(mode="json")
    assert board["common_problems"] == [c.model_dump(mode="json") for c in stats.common_problems(facts)]
    assert board["good_practices"] == [p.model_dump(mode="json") for p in stats.good_practices(facts)]
    # The figures themselves.
    assert board["coverage"]["drawn"] == 7 and board["coverage"]["visited"] == 4
    assert board["coverage"]["sheets"] == {
        "draft": 1,
        "submitted": 0,
        "reviewed": 0,
        "returned": 0,
        "locked": 4,
    }
    assert {r["key"]: r["name"] for r in board["coverage"]["by_district"]} == {
        "haishu": "海曙区",
        "yinzhou": "鄞州区",
    }
    assert (
        board["scores"]["grades"] == {"好": 3, "较好": 0, "一般": 1, "差": 0}
        and board["scores"]["vetoed"] == 1
    )
    assert board["common_problems"][0]["item_code"] == "B03" and board["common_problems"][0]["sheets"] == 4
    rect = board["rectification"]
    assert rect["total"] == 3 and rect["closed"] == 1 and rect["overdue"] == 1
    assert rect["rate"] == 33.3 and rect["on_time_rate"] == 50.0
    assert rect["by_light"] == {"green": 0, "yellow": 0, "red": 1, "overdue": 1}
    assert {r["key"] for r in rect["by_unit"]} == {YZ[0]["org_unit"], YZ[1]["org_unit"], HS[0]["org_unit"]}
    # Ranking with the change against the previous round (2025Q4).
    assert board["previous_round"] == {"code": "2025Q4", "name": "2025年第4季度基层党建专项督查"}
    ranking = {r["district"]: r for r in board["ranking"]}
    assert ranking["yinzhou"]["rank"] == 1 and ranking["yinzhou"]["previous_rank"] == 2
    assert ranking["yinzhou"]["rank_change"] == 1 and ranking["yinzhou"]["name"] == "鄞州区"
    assert ranking["haishu"]["rank_change"] == -1 and ranking["haishu"]["composite_change"] == -4.0
    assert board["districts"] == [{"code": c, "name": n} for c, n in sorted(f.NAMES.items())]
    assert board["round"]["code"] == "2026Q1" and board["round"]["published"] and board["round"]["drawn"]
    assert board["as_of"] == f.iso(T0 - timedelta(days=1))
    assert board["generated_at"] == f.iso(T0)
    assert board["district"] is None and board["results"]["version"] == 1


async def test_a_district_admin_sees_their_district_and_the_whole_ranking(reporting: Harness) -> None:
    await seed(reporting)
    board = await reporting.dashboard("2026Q1", YINZHOU_ADMIN)
    assert board["district"] == {"code": "yinzhou", "name": "鄞州区"}
    assert board["coverage"]["drawn"] == 4
    assert {r["key"] for r in board["coverage"]["by_district"]} == {"yinzhou"}
    assert board["rectification"]["total"] == 2
    assert all(p["district_name"] == "鄞州区" for p in board["good_practices"])
    assert len(board["ranking"]) == 3  # the published ranking stays whole
    whole = await reporting.dashboard("2026Q1", LEADER)
    assert whole["coverage"]["drawn"] == 7


async def test_who_may_read_a_dashboard(reporting: Harness) -> None:
    await seed(reporting)
    for headers in (INSPECTOR, SignedHeaders(roles=["responsible"], scope="ningbo", sub="u-r")):
        r = await reporting.client.get("/rounds/2026Q1/dashboard", headers=headers)
        assert r.status_code == 403, r.text
        assert (await reporting.client.get("/rounds", headers=headers)).status_code == 403
    town = SignedHeaders(roles=["district_admin"], scope="ningbo/yinzhou/town1", sub="u-t")
    assert (await reporting.client.get("/rounds/2026Q1/dashboard", headers=town)).status_code == 403
    key = SignedHeaders(roles=["system"], scope="ningbo/haishu", sub="k-1", kind="api_key")
    r = await reporting.client.get("/rounds/2026Q1/dashboard", headers=key)
    assert r.status_code == 200 and r.json()["district"]["code"] == "haishu"
    assert (await reporting.client.get("/rounds/2026Q1/dashboard")).status_code == 401


async def test_an_unknown_round_is_404_problem_json(reporting: Harness) -> None:
    r = await reporting.client.get("/rounds/2030Q9/dashboard", headers=ADMIN)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/round-not-found")
    r = await reporting.client.get("/rounds/bad code!/dashboard", headers=ADMIN)
    assert r.status_code == 422


async def test_an_event_shows_on_the_next_request(reporting: Harness) -> None:
    await seed(reporting)
    before = await reporting.dashboard("2026Q1")
    assert (await reporting.dashboard("2026Q1")) == before  # served from the cache
    reporting.clock.advance(seconds=5)
    await reporting.send(f.sheet("2026Q1", YZ[3], at=T0, revision=2, score=60.0, grade="差"))
    after = await reporting.dashboard("2026Q1")
    assert after["coverage"]["sheets"]["locked"] == 5 and after["scores"]["grades"]["差"] == 1
    assert after["as_of"] == f.iso(T0) and after["generated_at"] == f.iso(T0 + timedelta(seconds=5))
    # The district's cached view moves too.
    yz = await reporting.dashboard("2026Q1", YINZHOU_ADMIN)
    assert yz["coverage"]["sheets"]["locked"] == 4


async def test_a_cached_dashboard_is_recomputed_when_old(reporting: Harness) -> None:
    await seed(reporting)
    first = await reporting.dashboard("2026Q1")
    assert first["rectification"]["by_light"]["red"] == 1
    reporting.clock.advance(days=3)  # the red problem is overdue now
    later = await reporting.dashboard("2026Q1")
    assert later["rectification"]["by_light"]["red"] == 0 and later["rectification"]["overdue"] == 2


async def test_the_round_list(reporting: Harness) -> None:
    r = await reporting.client.get("/rounds", headers=ADMIN)
    assert r.json() == {"items": [], "total": 0, "limit": 50, "offset": 0, "as_of": None}
    await seed(reporting)
    body: dict[str, Any] = (await reporting.client.get("/rounds", headers=YINZHOU_ADMIN)).json()
    assert [x["code"] for x in body["items"]] == ["2026Q1", "2025Q4"]
    assert body["items"][0]["published"] and body["items"][0]["drawn"]
    assert body["as_of"] == f.iso(T0 - timedelta(days=1)) and body["total"] == 2
    page = (await reporting.client.get("/rounds?limit=1&offset=1", headers=ADMIN)).json()
    assert [x["code"] for x in page["items"]] == ["2025Q4"] and page["total"] == 2


async def test_a_round_known_only_from_sheets_has_a_dashboard(reporting: Harness) -> None:
    await reporting.send(f.sheet("2026Q2", f.site("301"), at=T0))
    board = await reporting.dashboard("2026Q2")
    assert board["round"]["name"] == "2026Q2" and not board["round"]["drawn"]
    assert board["coverage"]["drawn"] == 0 and board["ranking"] == [] and board["results"] is None


async def test_unknown_query_parameters_are_refused_by_name(reporting: Harness) -> None:
    await seed(reporting)
    for path in ("/rounds", "/rounds/2026Q1/dashboard", "/rounds/2026Q1/dashboard/charts/grades.svg"):
        r = await reporting.client.get(path, params={"colour": "red"}, headers=ADMIN)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any(e["loc"] == ["query", "colour"] for e in r.json()["errors"]), r.text
