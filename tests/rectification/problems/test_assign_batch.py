"""Assigning responsible people to many problems in one call (POST /problems/assign-batch): the rules of
one assignment for each item, all or nothing with every refused item named, each assignment's event."""

import pytest

from services.kit.auth import Principal
from services.rectification.clients import DirectoryPerson
from services.rectification.problems import access
from tests.rectification.conftest import (
    CITY,
    CITY_KEY,
    HAISHU,
    HAISHU_SITE,
    LEADER,
    YINZHOU,
    ZHANG,
    create,
    events,
)
from tests.rectification.problems.test_directory import TOWN_ADMIN, lookups
from tests.rectification.problems.test_lifecycle import act, history, to_submitted

BATCH = "/problems/assign-batch"
ASSIGNED = "rectification.problem.assigned"


async def unassigned(client, n: int) -> list[int]:
    return [(await create(client, responsible_person=None))["id"] for _ in range(n)]


async def snapshot(client, ids: list[int]) -> tuple:
    """What a refused batch must leave as it was: each problem's person and history, and the events."""
    people = []
    for pid in ids:
        got = (await client.get(f"/problems/{pid}", headers=CITY)).json()
        people.append((got["responsible_person"], await history(client, pid)))
    return people, len(await events(client))


def errors_of(r) -> list[tuple]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/batch-rejected"
    return [(e["loc"], e["type"], e["problem_id"]) for e in r.json()["errors"]]


class TestAssignBatch:
    async def test_every_problem_gets_its_person_history_and_event(self, client):
        a, b = await unassigned(client, 2)
        c = (await create(client))["id"]  # Zhang Wei's, reassigned to Li Na
        items = [
            {"problem_id": a, "user_id": "u-zhang-wei"},
            {"problem_id": b, "user_id": "u-li-na"},
            {"problem_id": c, "user_id": "u-li-na"},
        ]
        r = await client.post(BATCH, json={"items": items, "reason": "按属地分派"}, headers=YINZHOU)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["assigned"] == [a, b, c] and body["unchanged"] == []
        assert [p["id"] for p in body["problems"]] == [a, b, c]
        assert [p["responsible_person"] for p in body["problems"]] == [
            {"user_id": "u-zhang-wei", "name": "张伟"},
            {"user_id": "u-li-na", "name": "李娜"},
            {"user_id": "u-li-na", "name": "李娜"},
        ]
        assert body["problems"][1]["responsible_unit"] == "ningbo/yinzhou/dongwu"
        assert ("assign", "open", "open") in await history(client, a)
        assert ("reassign", "open", "open") in await history(client, c)
        # One assigned event per problem, to its new person (events of one moment have no order).
        sent = sorted(
            (
                e["payload"]["problem_id"],
                e["payload"]["recipients"],
                e["payload"]["previous_responsible_person_id"],
            )
            for e in await events(client, ASSIGNED)
        )
        assert sent == [
            (a, [{"kind": "person", "user_id": "u-zhang-wei"}], None),
            (b, [{"kind": "person", "user_id": "u-li-na"}], None),
            (c, [{"kind": "person", "user_id": "u-li-na"}], "u-zhang-wei"),
        ]
        r = await client.get(f"/problems/{c}/history", headers=CITY)
        assert r.json()["items"][-1]["detail"]["reason"] == "按属地分派"

    async def test_the_responsible_person_sees_what_a_batch_gave_them(self, client):
        a, b = await unassigned(client, 2)
        items = [{"problem_id": a, "user_id": "u-zhang-wei"}, {"problem_id": b, "user_id": "u-zhang-wei"}]
        assert (await client.post(BATCH, json={"items": items}, headers=CITY)).status_code == 200
        mine = (await client.get("/my/problems", headers=ZHANG)).json()
        assert {p["id"] for p in mine["items"]} == {a, b}

    async def test_sending_it_again_changes_nothing(self, client):
        a, b = await unassigned(client, 2)
        items = [{"problem_id": a, "user_id": "u-li-na"}, {"problem_id": b, "user_id": "u-zhang-wei"}]
        assert (await client.post(BATCH, json={"items": items}, headers=YINZHOU)).status_code == 200
        before = await snapshot(client, [a, b])
        again = await client.post(BATCH, json={"items": items}, headers=YINZHOU)
        assert again.status_code == 200
        assert again.json()["assigned"] == [] and again.json()["unchanged"] == [a, b]
        assert await snapshot(client, [a, b]) == before

    async def test_each_person_is_looked_up_once(self, client, directories):
        ids = await unassigned(client, 3)
        items = [{"problem_id": pid, "user_id": "u-li-na"} for pid in ids]
        directories.requests.clear()
        assert (await client.post(BATCH, json={"items": items}, headers=YINZHOU)).status_code == 200
        assert [r.url.path for r in lookups(directories, "notify.test")] == ["/people/u-li-na"]


class TestAllOrNothing:
    async def test_every_refused_item_is_named_and_nothing_is_written(self, client):
        ok, other = await unassigned(client, 2)
        closed = (await create(client))["id"]
        await to_submitted(client, closed)
        assert (await act(client, closed, "close", {}, YINZHOU)).status_code == 200
        before = await snapshot(client, [ok, other, closed])
        items = [
            {"problem_id": ok, "user_id": "u-li-na"},
            {"problem_id": 987654, "user_id": "u-li-na"},
            {"problem_id": closed, "user_id": "u-li-na"},
            {"problem_id": other, "user_id": "u-typo"},
            {"problem_id": other, "user_id": "u-li-na"},
        ]
        r = await client.post(BATCH, json={"items": items}, headers=YINZHOU)
        assert errors_of(r) == [
            (["body", "items", 1, "problem_id"], "problem_not_found", 987654),
            (["body", "items", 2, "problem_id"], "transition_not_allowed", closed),
            (["body", "items", 3, "user_id"], "person_unknown", other),
            (["body", "items", 4, "problem_id"], "duplicate", other),
        ]
        msgs = [e["msg"] for e in r.json()["errors"]]
        assert "已销号" in msgs[1] and "u-typo" in msgs[2] and "第 4 项" in msgs[3]
        assert r.json()["detail"] == "4 of 5 item(s) refused; nothing was assigned"
        assert await snapshot(client, [ok, other, closed]) == before

    async def test_a_person_of_another_district_is_refused(self, client):
        [pid] = await unassigned(client, 1)
        r = await client.post(
            BATCH, json={"items": [{"problem_id": pid, "user_id": "u-chen-jing"}]}, headers=CITY
        )
        assert errors_of(r) == [(["body", "items", 0, "user_id"], "person_outside_district", pid)]
        assert "ningbo/yinzhou" in r.json()["errors"][0]["msg"]

    async def test_a_problem_outside_the_scope_reads_like_a_missing_one(self, client):
        [pid] = await unassigned(client, 1)
        items = [
            {"problem_id": pid, "user_id": "u-chen-jing"},
            {"problem_id": 987654, "user_id": "u-chen-jing"},
        ]
        r = await client.post(BATCH, json={"items": items}, headers=HAISHU)
        outside, missing = r.json()["errors"]
        assert errors_of(r) == [
            (["body", "items", 0, "problem_id"], "problem_not_found", pid),
            (["body", "items", 1, "problem_id"], "problem_not_found", 987654),
        ]
        assert outside["msg"].replace(str(pid), "N") == missing["msg"].replace("987654", "N")

    async def test_a_person_outside_the_callers_scope_reads_like_an_unknown_one(self, client):
        [pid] = await unassigned(client, 1)
        # Li Na's unit (the town) lies above the village admin's scope.
        items = [{"problem_id": pid, "user_id": "u-li-na"}]
        r = await client.post(BATCH, json={"items": items}, headers=TOWN_ADMIN)
        assert errors_of(r) == [(["body", "items", 0, "user_id"], "person_unknown", pid)]
        assert "ningbo/yinzhou/dongwu" not in r.text

    async def test_notify_down_is_503_and_nothing_written(self, client, directories):
        [pid] = await unassigned(client, 1)
        before = await snapshot(client, [pid])
        directories.down = True
        r = await client.post(
            BATCH, json={"items": [{"problem_id": pid, "user_id": "u-li-na"}]}, headers=CITY
        )
        assert r.status_code == 503 and r.json()["type"] == "/problems/directory-unavailable"
        directories.down = False
        assert await snapshot(client, [pid]) == before


class TestWhoMay:
    @pytest.mark.parametrize(
        "headers", [ZHANG, LEADER, CITY_KEY], ids=["responsible", "team_leader", "api_key"]
    )
    async def test_only_city_and_district_admins_assign(self, client, headers):
        [pid] = await unassigned(client, 1)
        r = await client.post(
            BATCH, json={"items": [{"problem_id": pid, "user_id": "u-li-na"}]}, headers=headers
        )
        assert r.status_code == 403
        got = (await client.get(f"/problems/{pid}", headers=CITY)).json()
        assert got["responsible_person"] is None

    async def test_a_district_admin_assigns_in_another_district_nothing(self, client):
        haishu = (await create(client, CITY, site=HAISHU_SITE, responsible_person=None))["id"]
        [yinzhou] = await unassigned(client, 1)
        items = [
            {"problem_id": haishu, "user_id": "u-chen-jing"},
            {"problem_id": yinzhou, "user_id": "u-li-na"},
        ]
        r = await client.post(BATCH, json={"items": items}, headers=HAISHU)
        assert errors_of(r) == [(["body", "items", 1, "problem_id"], "problem_not_found", yinzhou)]
        got = (await client.get(f"/problems/{haishu}", headers=CITY)).json()
        assert got["responsible_person"] is None


class TestInput:
    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"items": []}, ["body", "items"]),
            ({}, ["body", "items"]),
            ({"items": [{"problem_id": 0, "user_id": "u-li-na"}]}, ["body", "items", 0, "problem_id"]),
            ({"items": [{"problem_id": 2**63, "user_id": "u-li-na"}]}, ["body", "items", 0, "problem_id"]),
            ({"items": [{"problem_id": 1, "user_id": "u li"}]}, ["body", "items", 0, "user_id"]),
            ({"items": [{"problem_id": 1}]}, ["body", "items", 0, "user_id"]),
            (
                {"items": [{"problem_id": 1, "user_id": "u-li-na", "name": "李娜"}]},
                ["body", "items", 0, "name"],
            ),
            ({"items": [{"problem_id": i, "user_id": "u-li-na"} for i in range(1, 502)]}, ["body", "items"]),
        ],
        ids=["empty", "missing", "zero", "too-big", "bad-user", "no-user", "unknown-field", "too-many"],
    )
    async def test_a_malformed_body_names_the_field(self, client, body, loc):
        r = await client.post(BATCH, json=body, headers=CITY)
        assert r.status_code == 422 and r.json()["type"] == "/problems/validation-error"
        assert loc in [e["loc"] for e in r.json()["errors"]]


class TestPersonRefusal:
    """access.person_refusal: the one rule single and batch assignments share, without a database."""

    LI = DirectoryPerson(user_id="u-li-na", name="李娜", org_unit="ningbo/yinzhou/dongwu")

    @pytest.mark.parametrize(
        ("person", "scope", "refusal"),
        [
            (LI, "ningbo", None),
            (LI, "ningbo/yinzhou", None),
            (None, "ningbo", access.PERSON_UNKNOWN),
            (LI.model_copy(update={"active": False}), "ningbo", access.PERSON_UNKNOWN),
            (LI, "ningbo/yinzhou/dongwu/tiantong", access.PERSON_UNKNOWN),  # above the caller's scope
            (
                LI.model_copy(update={"org_unit": "ningbo/haishu/yuehu"}),
                "ningbo",
                access.PERSON_OUTSIDE_DISTRICT,
            ),
        ],
        ids=["city", "district", "unknown", "inactive", "out-of-scope", "other-district"],
    )
    def test_unknown_inactive_and_out_of_scope_read_the_same(self, person, scope, refusal):
        principal = Principal(sub="u-admin", roles=("district_admin",), scope=scope)
        assert access.person_refusal(person, principal, district="yinzhou") == refusal
