"""Rounds: plan, frozen frame, committed seed, draws, redraws, teams, publication."""

from __future__ import annotations

import copy
import hashlib

from services.kit.testing import principal_headers
from services.sampling import algorithm as alg
from services.sampling.verify import verify_record
from tests.sampling.conftest import ADMIN, PLAN, drawn_round, import_json, outbox_rows, round_body


class TestCreateRound:
    async def test_opens_in_planning_with_every_district_by_default(self, city):
        r = await city.post("/rounds", json=round_body(), headers=ADMIN)
        assert r.status_code == 201
        assert r.json()["status"] == "planning"
        assert r.json()["districts"] == ["beilun", "gaoxin", "haishu", "yinzhou"]

    async def test_unknown_district_and_repeated_group_are_named(self, city):
        plan = copy.deepcopy(PLAN)
        plan["quotas"].append({"group": "institution", "per": "district", "count": 1})
        r = await city.post(
            "/rounds", json=round_body(districts=["haishu", "atlantis"], plan=plan), headers=ADMIN
        )
        assert r.status_code == 422
        locs = [e["loc"] for e in r.json()["errors"]]
        assert ["body", "districts", 1] in locs and ["body", "plan", "quotas", 4, "group"] in locs
        assert (await city.get("/rounds", headers=ADMIN)).json()["total"] == 0

    async def test_quota_with_min_above_max_is_invalid(self, city):
        plan = copy.deepcopy(PLAN)
        plan["quotas"][2] = {"group": "two_new", "min": 3, "max": 1}
        assert (await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)).status_code == 422

    async def test_duplicate_round_code_conflicts(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        r = await city.post("/rounds", json=round_body(), headers=ADMIN)
        assert r.status_code == 409

    async def test_only_city_admin_may_create(self, city):
        headers = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        assert (await city.post("/rounds", json=round_body(), headers=headers)).status_code == 403

    async def test_admin_with_a_district_scope_cannot_plan_other_districts(self, city):
        headers = principal_headers(roles=["city_admin"], scope="ningbo/yinzhou")
        r = await city.post("/rounds", json=round_body(districts=["yinzhou", "haishu"]), headers=headers)
        assert r.status_code == 403
        assert (await city.get("/rounds", headers=ADMIN)).json()["total"] == 0

    async def test_districts_do_not_see_which_sites_are_revisited(self, city):
        plan = {**PLAN, "follow_up": {"site_codes": ["330212001001"]}}
        await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        district = principal_headers(roles=["district_admin"], scope="ningbo/yinzhou")
        seen = (await city.get("/rounds/2026Q1", headers=district)).json()
        assert seen["follow_ups"] == [] and seen["plan"]["follow_up"]["site_codes"] == []
        assert (await city.get("/rounds", headers=district)).json()["items"][0]["follow_ups"] == []
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["follow_ups"][0][
            "code"
        ] == "330212001001"

    async def test_follow_ups_from_rectification_are_fetched(self, city, peers):
        peers.follow_up = [{"site_code": "330212001001", "district": "yinzhou", "overdue_count": 2}]
        plan = {**PLAN, "follow_up": {"site_codes": ["330203002E1"], "from_rectification": True}}
        r = await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        assert r.status_code == 201
        assert r.json()["follow_ups"] == [
            {"code": "330203002E1", "district": "haishu", "source": "named"},
            {"code": "330212001001", "district": "yinzhou", "source": "overdue_problems"},
        ]

    async def test_rectification_down_says_so_and_creates_nothing(self, city, peers):
        peers.down = True
        plan = {**PLAN, "follow_up": {"site_codes": [], "from_rectification": True}}
        r = await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        assert r.status_code == 503
        assert r.json()["type"] == "/problems/rectification-unavailable"
        assert (await city.get("/rounds", headers=ADMIN)).json()["total"] == 0

    async def test_unknown_follow_up_site_is_named(self, city):
        plan = {**PLAN, "follow_up": {"site_codes": ["NOPE"]}}
        r = await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "plan", "follow_up", "site_codes", 0]

    async def test_an_unknown_field_is_refused_by_name(self, city):
        r = await city.post("/rounds", json=round_body(teams=3), headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "teams"]
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).status_code == 404


class TestFreezeRound:
    async def test_records_sorted_codes_and_their_hashes(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        r = await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        assert r.status_code == 200
        frame = (
            await city.get("/rounds/2026Q1/frame", params={"include_codes": "true"}, headers=ADMIN)
        ).json()
        stratum = next(s for s in frame["strata"] if s["key"] == "yinzhou:village_community")
        assert stratum["size"] == 15 and stratum["codes"] == sorted(stratum["codes"])
        assert stratum["hash"] == hashlib.sha256("\n".join(stratum["codes"]).encode()).hexdigest()
        assert frame["hash"] == alg.frame_hash({s["key"]: s["hash"] for s in frame["strata"]})
        assert len(frame["strata"]) == 4 * 3 + 1
        rnd = (await city.get("/rounds/2026Q1", headers=ADMIN)).json()
        assert rnd["status"] == "frame_frozen" and len(rnd["commitment"]) == 64

    async def test_quota_larger_than_a_stratum_freezes_nothing(self, city):
        plan = copy.deepcopy(PLAN)
        plan["quotas"][0]["count"] = 4
        await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        r = await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/quota-exceeds-stratum"
        msgs = [e["msg"] for e in r.json()["errors"]]
        assert len(msgs) == 4 and all(
            "town_street has 3 eligible sites; the quota needs 4" in m for m in msgs
        )
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["status"] == "planning"

    async def test_frozen_plan_cannot_change(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        r = await city.put("/rounds/2026Q1/plan", json={"plan": PLAN, "team_count": 3}, headers=ADMIN)
        assert r.status_code == 200 and r.json()["team_count"] == 3
        await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        r = await city.put("/rounds/2026Q1/plan", json={"plan": PLAN}, headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/frame-frozen"
        assert (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).status_code == 409

    async def test_directory_changes_after_freeze_do_not_touch_the_frame(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        before = (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).json()["hash"]
        await import_json(
            city,
            "/sites/import",
            [{"code": "330212001777", "type": "village", "name": "后加村", "parent_code": "330212001"}],
        )
        after = (await city.get("/rounds/2026Q1/frame", headers=ADMIN)).json()["hash"]
        assert before == after

    async def test_stratifying_by_town_gives_a_stratum_per_town(self, city):
        plan = {"quotas": [{"group": "village_community", "per": "town", "count": 2}]}
        await city.post("/rounds", json=round_body(plan=plan), headers=ADMIN)
        frame = (await city.post("/rounds/2026Q1/freeze", headers=ADMIN)).json()
        assert len(frame["strata"]) == 12
        assert "yinzhou/330212001:village_community" in {s["key"] for s in frame["strata"]}


class TestDrawRound:
    async def test_draw_on_an_unfrozen_frame_is_refused(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "1"}, headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/frame-not-frozen"

    async def test_draw_meets_every_quota_and_verifies(self, city):
        record = await drawn_round(city, publish=True)
        result = {s["key"]: s for s in record["result"]["strata"]}
        assert all(
            len(result[f"{d}:village_community"]["selected"]) == 4
            for d in ("haishu", "yinzhou", "beilun", "gaoxin")
        )
        assert all(
            1 <= len(result[f"{d}:two_new"]["selected"]) <= 2
            for d in ("haishu", "yinzhou", "beilun", "gaoxin")
        )
        assert len(result["city:institution"]["selected"]) == 1
        drawn = [c for s in record["result"]["strata"] for c in s["selected"]]
        assert len(drawn) == len(set(drawn)), "no site drawn twice"
        listed = (await city.get("/rounds/2026Q1/assignments", params={"limit": 500}, headers=ADMIN)).json()
        assert sorted(a["site"]["code"] for a in listed["items"]) == sorted(drawn)
        assert verify_record(record) == []

    async def test_same_inputs_give_the_same_sample_in_another_database(self, city, client):
        record = await drawn_round(city, publish=True)
        recomputed = alg.compute_draw(
            {
                "secret": record["seed"]["secret"],
                "public_value": record["seed"]["public_value"],
                "reserve": record["parameters"]["reserve"],
                "frame": record["frame"],
                "teams": record["teams_input"],
            }
        )
        assert recomputed["strata"] == record["result"]["strata"]

    async def test_secret_stays_hidden_until_revealed_and_reveals_once(self, city):
        record = await drawn_round(city)
        assert record["seed"]["secret"] is None
        assert (await city.post("/rounds/2026Q1/reveal", headers=ADMIN)).status_code == 200
        record = (await city.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json()
        assert alg.commitment_of(record["seed"]["secret"]) == record["seed"]["commitment"]
        r = await city.post("/rounds/2026Q1/reveal", headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/already-revealed"

    async def test_caller_commitment_must_match_the_secret(self, city):
        await city.post("/rounds", json=round_body(), headers=ADMIN)
        commitment = hashlib.sha256(b"our-secret").hexdigest()
        await city.post("/rounds/2026Q1/freeze", json={"commitment": commitment}, headers=ADMIN)
        r = await city.post(
            "/rounds/2026Q1/draws", json={"public_value": "1", "secret": "not-it"}, headers=ADMIN
        )
        assert r.status_code == 422 and r.json()["type"] == "/problems/seed-mismatch"
        assert (await city.get("/rounds/2026Q1/draws", headers=ADMIN)).json()["items"] == []
        r = await city.post(
            "/rounds/2026Q1/draws", json={"public_value": "1", "secret": "our-secret"}, headers=ADMIN
        )
        assert r.status_code == 201
        record = (await city.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json()
        assert record["seed"]["secret"] == "our-secret" and verify_record(record) == []

    async def test_redraw_needs_a_reason_and_keeps_the_first(self, city):
        await drawn_round(city)
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "2"}, headers=ADMIN)
        assert r.status_code == 422
        r = await city.post(
            "/rounds/2026Q1/draws", json={"public_value": "2", "reason": "会议现场读数有误"}, headers=ADMIN
        )
        assert r.status_code == 201 and r.json()["number"] == 2
        draws = (await city.get("/rounds/2026Q1/draws", headers=ADMIN)).json()["items"]
        assert [(d["number"], d["current"]) for d in draws] == [(1, False), (2, True)]
        assert draws[1]["reason"] == "会议现场读数有误"
        first = (await city.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json()
        assert first["current"] is False and first["seed"]["public_value"] == "20260405-37-12-08"
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["current_draw_number"] == 2

    async def test_record_hash_covers_the_stored_record(self, city):
        await drawn_round(city)
        summary = (await city.get("/rounds/2026Q1/draws", headers=ADMIN)).json()["items"][0]
        record = (await city.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json()
        assert summary["record_sha256"] == record["record_sha256"]

    async def test_sites_visited_last_round_are_excluded(self, city):
        first = await drawn_round(city, "2025Q4", publish=True)
        second = await drawn_round(city, "2026Q1")
        before = {
            c
            for s in first["result"]["strata"]
            for c in s["selected"]
            if s["key"].endswith("village_community")
        }
        after = {
            c
            for s in second["result"]["strata"]
            for c in s["selected"]
            if s["key"].endswith("village_community")
        }
        assert not before & after
        stratum = next(s for s in second["frame"]["strata"] if s["key"] == "yinzhou:village_community")
        assert stratum["excluded"] == 4 and stratum["size"] == 11
        assert second["frame"]["excluded_rounds"] == ["2025Q4"]

    async def test_exclusion_is_relaxed_with_a_warning_when_a_stratum_is_too_small(self, city):
        await drawn_round(city, "2025Q4")
        second = await drawn_round(city, "2026Q1")
        # 3 towns per district, 2 drawn last round: only 1 left, the quota needs 2.
        stratum = next(s for s in second["frame"]["strata"] if s["key"] == "yinzhou:town_street")
        assert stratum["size"] == 3 and stratum["excluded"] == 0
        assert any(w.startswith("yinzhou:town_street") and "relaxed" in w for w in second["warnings"])

    async def test_follow_up_sites_are_visited_besides_the_quota(self, city):
        plan = {**PLAN, "follow_up": {"site_codes": ["330212001001"]}}
        record = await drawn_round(city, plan=plan)
        assert all("330212001001" not in s["codes"] for s in record["frame"]["strata"])
        a = (await city.get("/rounds/2026Q1/assignments/330212001001", headers=ADMIN)).json()
        assert a["follow_up"] is True and a["stratum"] is None

    async def test_teams_never_visit_their_home_district(self, city):
        await drawn_round(city)
        teams = (await city.get("/rounds/2026Q1/teams", headers=ADMIN)).json()["items"]
        pool = {i["user_id"]: i for i in (await city.get("/inspectors", headers=ADMIN)).json()["items"]}
        assert len(teams) == 2
        for t in teams:
            assert pool[t["leader_user_id"]]["can_lead"]
            assert len(t["member_user_ids"]) == 2
            for u in [t["leader_user_id"], *t["member_user_ids"]]:
                assert pool[u]["home_district"] not in t["districts"]

    async def test_impossible_recusal_is_explained_and_nothing_drawn(self, city):
        await city.post("/rounds", json=round_body(team_count=1, team_size=3), headers=ADMIN)
        await city.post("/rounds/2026Q1/freeze", headers=ADMIN)
        r = await city.post("/rounds/2026Q1/draws", json={"public_value": "1"}, headers=ADMIN)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/teams-infeasible"
        assert "no leader" in r.json()["reasons"][0]
        assert (await city.get("/rounds/2026Q1", headers=ADMIN)).json()["status"] == "frame_frozen"


class TestPublishRound:
    async def test_publish_needs_the_reveal(self, city):
        await drawn_round(city)
        r = await city.post("/rounds/2026Q1/publish", headers=ADMIN)
        assert r.status_code == 409 and r.json()["type"] == "/problems/seed-not-revealed"

    async def test_teams_get_visit_lists_and_districts_only_windows(self, city):
        await drawn_round(city, publish=True)
        events = [e for e in await outbox_rows(city) if e["event_type"] == "sampling.round.published"]
        team_events = [e["payload"] for e in events if e["payload"]["audience"] == "team"]
        district_events = [e["payload"] for e in events if e["payload"]["audience"] == "district"]
        assert all(e["event_type"] == "sampling.round.published" and e["target"] == "notify" for e in events)
        assert len(team_events) == 2 and len(district_events) == 4
        assert (
            sum(len(e["visits"]) for e in team_events)
            == (await city.get("/rounds/2026Q1/assignments", headers=ADMIN)).json()["total"]
        )
        assert all(r["kind"] == "person" for e in team_events for r in e["recipients"])
        for e in district_events:
            assert "visits" not in e and "team" not in e
            assert e["recipients"] == [
                {"kind": "role", "role": "district_admin", "org_unit": f"ningbo/{e['district']}"}
            ]
            assert e["visit_from"] <= e["visit_to"]

    async def test_close_after_publish(self, city):
        await drawn_round(city, publish=True)
        assert (await city.post("/rounds/2026Q1/close", headers=ADMIN)).json()["status"] == "closed"
        again = await city.post("/rounds/2026Q1/close", headers=ADMIN)
        assert again.status_code == 409 and again.json()["type"] == "/problems/wrong-round-status"
        assert again.json()["round_status"] == "closed" and again.json()["allowed"] == ["published"]


class TestReproducibility:
    async def test_another_directory_in_another_order_gives_the_same_draw(
        self, city, database_url, peers, clock
    ):
        from services.kit.testing import running_app
        from services.sampling.config import Settings
        from services.sampling.main import build_app
        from tests.sampling.conftest import city_rows, inspector_rows

        commitment = hashlib.sha256(b"shared-secret").hexdigest()

        async def draw(client) -> dict:
            await client.post("/rounds", json=round_body(), headers=ADMIN)
            await client.post("/rounds/2026Q1/freeze", json={"commitment": commitment}, headers=ADMIN)
            body = {"public_value": "07-21-33", "secret": "shared-secret"}
            assert (await client.post("/rounds/2026Q1/draws", json=body, headers=ADMIN)).status_code == 201
            return (await client.get("/rounds/2026Q1/draws/1", headers=ADMIN)).json()

        first = await draw(city)
        settings = Settings(
            database_url=await database_url("sampling_other"), environment="test", outbox_enabled=False
        )
        async with running_app(build_app(settings, clock=clock)) as other:
            await import_json(other, "/sites/import", list(reversed(city_rows())))
            await import_json(other, "/inspectors/import", list(reversed(inspector_rows())))
            second = await draw(other)
        assert first["frame"]["hash"] == second["frame"]["hash"]
        assert first["result"] == second["result"]


class TestOutboxDelivery:
    async def test_published_events_reach_notify_with_their_idempotency_key(self, city, peers):
        from services.kit import outbox
        from services.sampling.models import outbox_event as table

        await drawn_round(city, publish=True)
        cfg = outbox.RelayConfig(
            table=table,
            targets={"notify": "http://notify.test", "reporting": "http://reporting.test"},
            source="sampling",
        )
        delivered = await outbox.relay_once(city.app, cfg)
        # Six for notify; and reporting's snapshots of the round, drawn then published.
        assert delivered == 8 and len(peers.events) == 8
        facts = [e for e in peers.events if e["type"] == "sampling.round.drawn"]
        assert sorted(e["data"]["revision"] for e in facts) == [1, 2]
        envelope = next(e for e in peers.events if e["type"] != "sampling.round.drawn")
        assert set(envelope) == {"id", "type", "source", "occurred_at", "version", "data"}
        assert envelope["version"] == 1  # the version of its schema in the event catalogue
        assert envelope["source"] == "sampling" and envelope["type"] == "sampling.round.published"
        assert peers.keys == [e["id"] for e in peers.events]
        assert await outbox.relay_once(city.app, cfg) == 0


class TestRedrawAfterPublish:
    async def test_needs_a_new_publication_and_moves_the_lookup_to_the_new_draw(self, city):
        first = await drawn_round(city, publish=True)
        r = await city.post(
            "/rounds/2026Q1/draws", json={"public_value": "99", "reason": "地区边界调整"}, headers=ADMIN
        )
        assert r.status_code == 201
        rnd = (await city.get("/rounds/2026Q1", headers=ADMIN)).json()
        assert (rnd["status"], rnd["current_draw_number"]) == ("drawn", 2)
        second = (await city.get("/rounds/2026Q1/draws/2", headers=ADMIN)).json()
        assert second["previous_draw"] == 1 and any(
            "redraw after the secret was revealed" in w for w in second["warnings"]
        )
        assert verify_record(second) == [] and verify_record(first) == []
        gone = {c for s in first["result"]["strata"] for c in s["selected"]} - {
            c for s in second["result"]["strata"] for c in s["selected"]
        }
        assert gone, "a different public value draws different sites"
        code = sorted(gone)[0]
        assert (await city.get(f"/rounds/2026Q1/assignments/{code}", headers=ADMIN)).status_code == 404
        before = len(await outbox_rows(city))
        assert (await city.post("/rounds/2026Q1/publish", headers=ADMIN)).status_code == 200
        assert len(await outbox_rows(city)) > before
