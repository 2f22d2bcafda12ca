"""Responsible people come from notify's directory and sites from sampling's, inside the caller's scope.

The body names a person by user id and a site by code; their unit and name are the directory's. An
unknown, inactive or out-of-scope one is 422 naming the field, and nothing is written; a directory
that cannot answer is 503. The lookups carry the services' own principal.
"""

import httpx

from services.kit.auth import PRINCIPAL_HEADER, verify_principal
from services.kit.settings import DEV_PRINCIPAL_SECRET
from tests.rectification.conftest import (
    CITY,
    LI_REF,
    YINZHOU,
    SignedAs,
    count_problems,
    create,
    events,
    problem_body,
)
from tests.rectification.problems.test_lifecycle import act, history, to_submitted

TOWN_ADMIN = SignedAs(roles=["district_admin"], scope="ningbo/yinzhou/dongwu/tiantong", sub="u-town-admin")


def lookups(directories, host: str) -> list[httpx.Request]:
    return [r for r in directories.requests if r.url.host == host]


class TestAssign:
    async def test_person_facts_come_from_notify_not_the_body(self, client, directories):
        p = await create(client)
        r = await act(client, p["id"], "assign", {"responsible_person": {"user_id": "u-li-na"}}, YINZHOU)
        assert r.status_code == 200, r.text
        assert r.json()["responsible_person"] == {"user_id": "u-li-na", "name": "李娜"}
        assert r.json()["responsible_unit"] == "ningbo/yinzhou/dongwu"
        (lookup,) = [r for r in lookups(directories, "notify.test") if r.url.path == "/people/u-li-na"]
        assert lookup.method == "GET"
        caller = verify_principal(lookup.headers[PRINCIPAL_HEADER], secret=DEV_PRINCIPAL_SECRET)
        assert caller.is_service and caller.sub == "service:rectification"

    async def test_a_name_or_unit_that_is_not_notifys_is_422_naming_it_and_nothing_written(self, client):
        p = await create(client)
        before = (await history(client, p["id"]), len(await events(client)))
        body = {"responsible_person": {"user_id": "u-li-na", "name": "假名", "org_unit": "ningbo/haishu"}}
        r = await act(client, p["id"], "assign", body, YINZHOU)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/invalid-reference"
        assert [e["loc"] for e in r.json()["errors"]] == [
            ["body", "responsible_person", "name"],
            ["body", "responsible_person", "org_unit"],
        ]
        assert "李娜" in r.json()["errors"][0]["msg"]
        assert (await history(client, p["id"]), len(await events(client))) == before

    async def test_notifys_own_name_and_unit_may_be_repeated(self, client):
        p = await create(client)
        body = {
            "responsible_person": {"user_id": "u-li-na", "name": "李娜", "org_unit": "ningbo/yinzhou/dongwu"}
        }
        r = await act(client, p["id"], "assign", body, YINZHOU)
        assert r.status_code == 200, r.text
        assert r.json()["responsible_person"] == {"user_id": "u-li-na", "name": "李娜"}

    async def test_a_closed_problem_cannot_be_assigned(self, client):
        p = await create(client)
        await to_submitted(client, p["id"])
        assert (await act(client, p["id"], "close", {}, YINZHOU)).status_code == 200
        r = await act(client, p["id"], "assign", {"responsible_person": LI_REF}, YINZHOU)
        assert r.status_code == 409
        assert r.json()["problem_status"] == "closed"

    async def test_unknown_person_is_422_and_nothing_written(self, client):
        p = await create(client)
        before = (await history(client, p["id"]), len(await events(client)))
        r = await act(client, p["id"], "assign", {"responsible_person": {"user_id": "u-typo"}}, YINZHOU)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/invalid-reference"
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "user_id"]
        assert (await history(client, p["id"]), len(await events(client))) == before
        got = (await client.get(f"/problems/{p['id']}", headers=CITY)).json()
        assert got["responsible_person"]["user_id"] == "u-zhang-wei"

    async def test_inactive_person_is_refused(self, client):
        p = await create(client)
        r = await act(client, p["id"], "assign", {"responsible_person": {"user_id": "u-gone"}}, YINZHOU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "user_id"]

    async def test_person_outside_the_callers_scope_is_refused_like_an_unknown_one(self, client):
        p = await create(client)
        # Li Na's unit (the town) lies above the village admin's scope.
        r = await act(client, p["id"], "assign", {"responsible_person": LI_REF}, TOWN_ADMIN)
        unknown = await act(client, p["id"], "assign", {"responsible_person": {"user_id": "u-x"}}, TOWN_ADMIN)
        assert r.status_code == unknown.status_code == 422
        assert r.json()["errors"][0]["msg"] == unknown.json()["errors"][0]["msg"]
        assert "ningbo/yinzhou/dongwu" not in r.text
        assert ("reassign", "open", "open") not in await history(client, p["id"])

    async def test_notify_down_is_503_and_nothing_written(self, client, directories):
        p = await create(client)
        before = await history(client, p["id"])
        directories.down = True
        r = await act(client, p["id"], "assign", {"responsible_person": LI_REF}, YINZHOU)
        assert r.status_code == 503
        assert r.json()["type"] == "/problems/directory-unavailable"
        assert "notify.test" not in r.text  # no internal address in the answer
        assert await history(client, p["id"]) == before

    async def test_notify_error_is_503_not_unknown(self, client, directories):
        p = await create(client)
        directories.fail_with = 500
        r = await act(client, p["id"], "assign", {"responsible_person": LI_REF}, YINZHOU)
        assert r.status_code == 503


class TestCreate:
    async def test_unknown_site_code_is_422_and_nothing_written(self, client, directories):
        r = await client.post("/problems", json=problem_body(site={"code": "330212999999"}), headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "site", "code"]
        assert await count_problems(client) == 0
        assert await events(client) == []
        (lookup,) = lookups(directories, "sampling.test")
        assert lookup.url.path == "/sites/by-code/330212999999"
        assert verify_principal(lookup.headers[PRINCIPAL_HEADER], secret=DEV_PRINCIPAL_SECRET).is_service

    async def test_inactive_site_is_refused(self, client, directories):
        directories.sites["330212001001"]["active"] = False
        r = await client.post("/problems", json=problem_body(), headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "site", "code"]

    async def test_unknown_responsible_person_is_refused(self, client):
        body = problem_body(responsible_person={"user_id": "u-typo", "org_unit": "ningbo/yinzhou"})
        r = await client.post("/problems", json=body, headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "user_id"]
        assert await count_problems(client) == 0

    async def test_responsible_unit_outside_the_district_is_refused(self, client):
        body = problem_body(responsible_unit="ningbo/haishu/yuehu")
        r = await client.post("/problems", json=body, headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_unit"]
        assert await count_problems(client) == 0

    async def test_sampling_down_is_503_and_nothing_written(self, client, directories):
        directories.down = True
        r = await client.post("/problems", json=problem_body(), headers=YINZHOU)
        assert r.status_code == 503
        assert r.json()["type"] == "/problems/directory-unavailable"
        assert await count_problems(client) == 0

    async def test_site_facts_come_from_sampling(self, client):
        r = await client.post("/problems", json=problem_body(), headers=YINZHOU)
        assert r.status_code == 201, r.text
        assert r.json()["site"] == {
            "code": "330212001001",
            "name": "天童村",
            "type": "village",
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "district": "yinzhou",
        }
        assert r.json()["responsible_person"] == {"user_id": "u-zhang-wei", "name": "张伟"}
        assert r.json()["responsible_unit"] == "ningbo/yinzhou/dongwu/tiantong"

    async def test_an_invented_site_name_or_unit_is_422_naming_it_and_nothing_written(self, client):
        site = {"code": "330212001001", "name": "幸福村", "org_unit": "ningbo/yinzhou/dongwu/xingfu"}
        r = await client.post("/problems", json=problem_body(site=site), headers=YINZHOU)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/invalid-reference"
        assert [e["loc"] for e in r.json()["errors"]] == [
            ["body", "site", "name"],
            ["body", "site", "org_unit"],
        ]
        assert "天童村" in r.json()["errors"][0]["msg"]
        assert await count_problems(client) == 0
        assert await events(client) == []

    async def test_a_wrong_district_or_type_is_422_naming_it(self, client):
        site = {"code": "330212001001", "district": "haishu", "type": "community"}
        r = await client.post("/problems", json=problem_body(site=site), headers=CITY)
        assert r.status_code == 422
        assert sorted(e["loc"][-1] for e in r.json()["errors"]) == ["district", "type"]
        assert await count_problems(client) == 0

    async def test_the_directorys_own_facts_may_be_repeated(self, client):
        site = {"code": "330212001001", "name": "天童村", "type": "village", "district": "yinzhou"}
        person = {"user_id": "u-zhang-wei", "name": "张伟", "org_unit": "ningbo/yinzhou/dongwu/tiantong"}
        r = await client.post(
            "/problems", json=problem_body(site=site, responsible_person=person), headers=CITY
        )
        assert r.status_code == 201, r.text

    async def test_an_invented_person_name_is_422_naming_it(self, client):
        person = {"user_id": "u-zhang-wei", "name": "王五"}
        r = await client.post("/problems", json=problem_body(responsible_person=person), headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "name"]
        assert await count_problems(client) == 0
