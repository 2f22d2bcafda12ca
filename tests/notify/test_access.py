"""Who may do what: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from services.notify.models import Delivery
from tests.notify.conftest import ADMIN, SYSTEM, Caller

YINZHOU_KEY = Caller(roles=["system"], scope="ningbo/yinzhou", sub="apikey:7", kind="api_key")
CITY_KEY = Caller(roles=["system"], scope="ningbo", sub="apikey:1", kind="api_key")
YINZHOU_ADMIN = Caller(roles=["district_admin"], scope="ningbo/yinzhou", sub="u-yinzhou-admin")
# Seven underscores: as an unescaped LIKE pattern it would match "yinzhou" (and every 7-letter district).
WILDCARD_KEY = Caller(roles=["system"], scope="ningbo/_______", sub="apikey:9", kind="api_key")
HOOK = "http://127.0.0.1:9/hook"


def _problem(r: Any) -> dict[str, Any]:
    """The problem body without the parts that name the request."""
    body = dict(r.json())
    for k in ("instance", "request_id"):
        body.pop(k, None)
    return body


async def _pending(notify, headers=ADMIN) -> dict[str, Any]:
    r = await notify.client.get("/deliveries?status=pending&limit=500", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
async def city(notify):
    """Two districts' people, each with contact points."""
    await notify.person("u-yinzhou-admin", org_unit="ningbo/yinzhou", roles=["district_admin"])
    await notify.person("u-yinzhou-responsible", org_unit="ningbo/yinzhou/dongwu", roles=["responsible"])
    await notify.person("u-haishu-admin", org_unit="ningbo/haishu", roles=["district_admin"])
    await notify.person(
        "u-haishu-responsible",
        org_unit="ningbo/haishu",
        roles=["responsible"],
        email="hs@haishu.gov.cn",
        is_contact=True,
    )
    return notify


class TestUpsertPerson:
    async def test_a_district_key_cannot_rewrite_another_districts_person(self, city):
        r = await city.client.put(
            "/people/u-haishu-responsible",
            json={"name": "改写", "org_unit": "ningbo/haishu", "email": "attacker@example.cn"},
            headers=YINZHOU_KEY,
        )
        assert r.status_code == 404
        assert r.json()["detail"] == "No person 'u-haishu-responsible' in the directory"
        assert r.json()["type"] == "/problems/person-not-found"
        stored = (await city.client.get("/people/u-haishu-responsible", headers=ADMIN)).json()
        assert (stored["name"], stored["email"]) == ("u-haishu-responsible", "h***@haishu.gov.cn")

    async def test_nor_move_one_of_its_own_people_into_another_district(self, city):
        r = await city.client.put(
            "/people/u-yinzhou-responsible",
            json={"name": "x", "org_unit": "ningbo/haishu"},
            headers=YINZHOU_KEY,
        )
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/out-of-scope"
        assert [e["loc"] for e in r.json()["errors"]] == [["body", "org_unit"]]
        stored = (await city.client.get("/people/u-yinzhou-responsible", headers=ADMIN)).json()
        assert stored["org_unit"] == "ningbo/yinzhou/dongwu"

    async def test_a_district_admin_creates_people_only_inside_their_district(self, city):
        r = await city.client.put(
            "/people/u-new", json={"name": "新人", "org_unit": "ningbo/haishu/x"}, headers=YINZHOU_ADMIN
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "org_unit"]
        assert (await city.client.get("/people/u-new", headers=ADMIN)).status_code == 404
        r = await city.client.put(
            "/people/u-new",
            json={"name": "新人", "org_unit": "ningbo/yinzhou/dongwu", "roles": ["responsible"]},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 201, r.text

    async def test_only_a_city_wide_caller_gives_a_city_role(self, city):
        r = await city.client.put(
            "/people/u-new",
            json={"name": "x", "org_unit": "ningbo/yinzhou", "roles": ["responsible", "city_admin"]},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "roles", 1]
        assert (await city.client.get("/people/u-new", headers=ADMIN)).status_code == 404

    @pytest.mark.parametrize("unit", ["shanghai/pudong", "ningbo/%", "ningbo//x", "ningbo/yinzhou/"])
    async def test_an_org_unit_outside_the_grammar_or_the_city_is_refused(self, notify, unit):
        r = await notify.client.put("/people/u-x", json={"name": "x", "org_unit": unit}, headers=ADMIN)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "org_unit"]


class TestReadPeople:
    async def test_a_district_key_lists_only_its_districts_people(self, city):
        r = await city.client.get("/people?limit=500", headers=YINZHOU_KEY)
        assert r.status_code == 200
        assert sorted(p["user_id"] for p in r.json()["items"]) == [
            "u-yinzhou-admin",
            "u-yinzhou-responsible",
        ]
        assert r.json()["total"] == 2

    async def test_an_org_unit_filter_outside_the_scope_finds_nobody(self, city):
        r = await city.client.get("/people?org_unit=ningbo/haishu", headers=YINZHOU_KEY)
        assert r.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}

    async def test_another_districts_person_reads_like_a_missing_one(self, city):
        out = await city.client.get("/people/u-haishu-responsible", headers=YINZHOU_ADMIN)
        missing = await city.client.get("/people/u-nobody", headers=YINZHOU_ADMIN)
        assert out.status_code == missing.status_code == 404
        assert _problem(out) == _problem(missing) | {
            "detail": "No person 'u-haishu-responsible' in the directory",
            "user_id": "u-haishu-responsible",
        }

    async def test_a_wildcard_scope_matches_only_itself(self, city):
        r = await city.client.get("/people", headers=WILDCARD_KEY)
        assert r.json()["total"] == 0
        one = await city.client.get("/people/u-yinzhou-admin", headers=WILDCARD_KEY)
        assert one.status_code == 404


class TestPreferences:
    async def test_a_district_key_cannot_mute_another_districts_person(self, city):
        r = await city.client.patch(
            "/people/u-haishu-admin/preferences", json={"channels": {"*": []}}, headers=YINZHOU_KEY
        )
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/person-not-found"
        r = await city.client.get("/people/u-haishu-admin/preferences", headers=YINZHOU_KEY)
        assert r.status_code == 404
        prefs = (await city.client.get("/people/u-haishu-admin/preferences", headers=ADMIN)).json()
        assert prefs["channels"] == {}

    async def test_a_district_admin_keeps_the_preferences_of_their_districts_people(self, city):
        r = await city.client.patch(
            "/people/u-yinzhou-responsible/preferences",
            json={"digest_enabled": True},
            headers=YINZHOU_ADMIN,
        )
        assert r.status_code == 200 and r.json()["digest_enabled"] is True

    async def test_a_person_reads_their_own_preferences_whatever_their_scope(self, city):
        me = Caller(roles=["responsible"], scope="ningbo/yinzhou/dongwu/tiantong", sub="u-yinzhou-admin")
        r = await city.client.get("/people/u-yinzhou-admin/preferences", headers=me)
        assert r.status_code == 200


class TestCreateNotification:
    def _body(self, *recipients: dict[str, Any], **data: Any) -> dict[str, Any]:
        return {"data": {"title": "逾期", "body": "请处理", **data}, "recipients": list(recipients)}

    async def _send(self, notify, body: dict[str, Any], headers=YINZHOU_KEY, key: str = "k1") -> Any:
        return await notify.client.post(
            "/notifications", json=body, headers={**headers, "Idempotency-Key": key}
        )

    async def test_a_person_outside_the_scope_is_refused_like_an_unknown_one(self, city):
        out = await self._send(city, self._body({"kind": "person", "user_id": "u-haishu-responsible"}))
        ghost = await self._send(city, self._body({"kind": "person", "user_id": "u-ghost"}), key="k2")
        assert out.status_code == ghost.status_code == 422
        assert out.json()["type"] == "/problems/unknown-recipient"
        [err] = out.json()["errors"]
        assert err["loc"] == ["body", "recipients", 0, "user_id"]
        assert err["msg"] == ghost.json()["errors"][0]["msg"].replace("u-ghost", "u-haishu-responsible")
        assert (await _pending(city))["total"] == 0

    @pytest.mark.parametrize(
        "recipient",
        [
            {"kind": "role", "role": "responsible", "org_unit": "ningbo/haishu"},
            {"kind": "role", "role": "district_admin", "org_unit": "ningbo"},
            {"kind": "org_unit", "org_unit": "ningbo/haishu"},
        ],
        ids=["role in another district", "role city-wide", "another district's contacts"],
    )
    async def test_a_unit_outside_the_scope_is_named_and_nothing_is_queued(self, city, recipient):
        mine = {"kind": "person", "user_id": "u-yinzhou-admin"}
        r = await self._send(city, self._body(mine, recipient))
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/out-of-scope"
        assert r.json()["errors"][0]["loc"] == ["body", "recipients", 1, "org_unit"]
        assert (await _pending(city))["total"] == 0

    async def test_a_place_outside_the_scope_is_refused(self, city):
        r = await self._send(
            city,
            self._body({"kind": "person", "user_id": "u-yinzhou-admin"}, org_unit="ningbo/haishu/x"),
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "data", "org_unit"]
        assert (await _pending(city))["total"] == 0

    async def test_inside_the_scope_a_role_reaches_only_the_districts_holders(self, city):
        r = await self._send(
            city, self._body({"kind": "role", "role": "responsible", "org_unit": "ningbo/yinzhou"})
        )
        assert r.status_code == 202, r.text
        assert r.json()["recipients"] == ["u-yinzhou-responsible"]


class TestNotificationsAndDeliveries:
    @pytest.fixture
    async def sent(self, city):
        """A Haishu event, a Yinzhou event, and a city-wide one to every district admin."""
        r = await city.event(
            "hs",
            recipients=[{"kind": "person", "user_id": "u-haishu-responsible"}],
            org_unit="ningbo/haishu/x",
        )
        assert r.status_code == 202, r.text
        await city.event(
            "yz",
            recipients=[{"kind": "person", "user_id": "u-yinzhou-responsible"}],
            org_unit="ningbo/yinzhou/dongwu/tiantong",
        )
        await city.event(
            "all",
            "scoring.results.published",
            recipients=[{"kind": "role", "role": "district_admin", "org_unit": "ningbo"}],
            org_unit="ningbo",
        )
        return city

    async def test_another_districts_notification_reads_like_a_missing_one(self, sent):
        out = await sent.client.get("/notifications/hs", headers=YINZHOU_KEY)
        missing = await sent.client.get("/notifications/nope", headers=YINZHOU_KEY)
        assert out.status_code == missing.status_code == 404
        assert _problem(out) == _problem(missing) | {"detail": "No notification hs", "notification_id": "hs"}

    async def test_a_notification_shows_only_the_deliveries_in_scope(self, sent):
        own = await sent.client.get("/notifications/yz", headers=YINZHOU_KEY)
        assert own.status_code == 200
        assert {d["recipient"] for d in own.json()["deliveries"]} == {"u-yinzhou-responsible"}
        city_wide = await sent.client.get("/notifications/all", headers=YINZHOU_KEY)
        assert city_wide.status_code == 200
        assert {d["recipient"] for d in city_wide.json()["deliveries"]} == {"u-yinzhou-admin"}
        everyone = await sent.client.get("/notifications/all", headers=CITY_KEY)
        assert {d["recipient"] for d in everyone.json()["deliveries"]} == {
            "u-yinzhou-admin",
            "u-haishu-admin",
        }

    async def test_delivery_lists_and_statistics_cover_only_the_scope(self, sent):
        mine = await _pending(sent, YINZHOU_KEY)
        assert {d["recipient"] for d in mine["items"]} == {"u-yinzhou-responsible", "u-yinzhou-admin"}
        assert mine["total"] == 4  # inbox + email each
        assert (await _pending(sent, CITY_KEY))["total"] == 8
        stats = (await sent.client.get("/deliveries/stats", headers=YINZHOU_KEY)).json()["items"]
        assert {s["channel"]: s["by_status"] for s in stats}["inbox"] == {"pending": 2}
        assert (await _pending(sent, WILDCARD_KEY))["total"] == 0

    async def test_re_driving_dead_letters_is_a_city_wide_action(self, sent):
        async with sent.app.state.sessionmaker() as s, s.begin():
            await s.execute(update(Delivery).values(status="failed", last_error="boom"))
        dead = (await sent.client.get("/deliveries?status=failed", headers=YINZHOU_KEY)).json()
        one = dead["items"][0]["id"]
        for path in (f"/deliveries/{one}/retry", "/deliveries/retry-failed"):
            r = await sent.client.post(path, headers=YINZHOU_KEY)
            assert r.status_code == 403
            assert r.json()["type"] == "/problems/forbidden"
        assert (await _pending(sent))["total"] == 0
        r = await sent.client.post("/deliveries/retry-failed", headers=CITY_KEY)
        assert r.json() == {"updated": 8}


class TestWebhookSubscriptions:
    async def _subscribe(self, notify, headers, **kw: Any) -> Any:
        body = {"name": kw.pop("name", "OA"), "url": HOOK, "event_types": ["*"], **kw}
        return await notify.client.post("/webhooks/subscriptions", json=body, headers=headers)

    async def test_a_district_keys_subscription_records_its_scope(self, notify):
        r = await self._subscribe(notify, YINZHOU_KEY)
        assert r.status_code == 201, r.text
        assert r.json()["scope"] == "ningbo/yinzhou"
        narrower = await self._subscribe(notify, YINZHOU_KEY, scope="ningbo/yinzhou/dongwu")
        assert narrower.json()["scope"] == "ningbo/yinzhou/dongwu"
        wider = await self._subscribe(notify, YINZHOU_KEY, scope="ningbo")
        assert wider.status_code == 422
        assert wider.json()["errors"][0]["loc"] == ["body", "scope"]

    async def test_a_subscription_receives_only_events_inside_its_scope(self, city):
        yz = (await self._subscribe(city, YINZHOU_KEY, name="鄞州OA")).json()
        whole = (await self._subscribe(city, ADMIN, name="市OA")).json()
        assert whole["scope"] == "ningbo"
        hs = await city.event("hs", "rectification.problem.created", org_unit="ningbo/haishu/x")
        yzr = await city.event("yz", "rectification.problem.created", org_unit="ningbo/yinzhou/dongwu")
        city_event = await city.event("ct", "sampling.round.published", org_unit="ningbo")
        no_place = await city.event("np", "rectification.problem.created")
        assert hs.json()["deliveries"]["webhook"] == 1
        assert yzr.json()["deliveries"]["webhook"] == 2
        assert city_event.json()["deliveries"]["webhook"] == 1
        assert no_place.json()["deliveries"]["webhook"] == 1

        async def hooked(sub: dict[str, Any]) -> set[str]:
            url = f"/webhooks/subscriptions/{sub['id']}/deliveries?status=pending"
            return {d["notification_id"] for d in (await city.client.get(url, headers=ADMIN)).json()["items"]}

        assert await hooked(yz) == {"yz"}
        assert await hooked(whole) == {"hs", "yz", "ct", "np"}

    async def test_a_district_keys_own_request_reaches_its_own_subscription(self, city):
        yz = (await self._subscribe(city, YINZHOU_KEY)).json()
        r = await city.client.post(
            "/notifications",
            json={
                "data": {"title": "t", "body": "b"},
                "recipients": [{"kind": "person", "user_id": "u-yinzhou-admin"}],
            },
            headers={**YINZHOU_KEY, "Idempotency-Key": "own"},
        )
        assert r.json()["deliveries"]["webhook"] == 1
        n = (await city.client.get(f"/notifications/{r.json()['id']}", headers=YINZHOU_KEY)).json()
        assert n["org_unit"] == "ningbo/yinzhou"
        assert {d["recipient"] for d in n["deliveries"]} == {"u-yinzhou-admin", f"webhook:{yz['id']}"}

    async def test_listing_reading_and_switching_subscriptions_is_scoped(self, notify):
        yz = (await self._subscribe(notify, YINZHOU_KEY, name="鄞州OA")).json()
        whole = (await self._subscribe(notify, ADMIN, name="市OA")).json()
        listed = (await notify.client.get("/webhooks/subscriptions", headers=YINZHOU_KEY)).json()
        assert [s["id"] for s in listed["items"]] == [yz["id"]] and listed["total"] == 1
        everything = (await notify.client.get("/webhooks/subscriptions", headers=ADMIN)).json()
        assert everything["total"] == 2
        missing_id = whole["id"] + 100
        for suffix, method in (
            ("", "get"),
            ("/deliveries", "get"),
            ("/disable", "post"),
            ("/enable", "post"),
        ):
            out = await notify.client.request(
                method, f"/webhooks/subscriptions/{whole['id']}{suffix}", headers=YINZHOU_KEY
            )
            missing = await notify.client.request(
                method, f"/webhooks/subscriptions/{missing_id}{suffix}", headers=YINZHOU_KEY
            )
            assert out.status_code == missing.status_code == 404
            assert _problem(out)["title"] == _problem(missing)["title"]
            assert _problem(out)["detail"] == _problem(missing)["detail"].replace(
                str(missing_id), str(whole["id"])
            )
        still = (await notify.client.get(f"/webhooks/subscriptions/{whole['id']}", headers=ADMIN)).json()
        assert still["enabled"] is True
        r = await notify.client.post(f"/webhooks/subscriptions/{yz['id']}/disable", headers=YINZHOU_KEY)
        assert r.status_code == 200 and r.json()["enabled"] is False


class TestTemplates:
    async def test_saving_a_template_is_a_city_wide_action(self, notify):
        district_city_admin = Caller(roles=["city_admin"], scope="ningbo/yinzhou", sub="u-x")
        r = await notify.client.put(
            "/templates/notify.message/inbox", json={"body": "{{ body }}"}, headers=district_city_admin
        )
        assert r.status_code == 403
        versions = (
            await notify.client.get("/templates/notify.message/inbox/versions", headers=ADMIN)
        ).json()["items"]
        assert [v["version"] for v in versions] == [0]


class TestServicePrincipal:
    async def test_the_services_own_principal_reaches_every_district(self, city):
        r = await city.client.put(
            "/people/u-haishu-responsible",
            json={"name": "海曙责任人", "org_unit": "ningbo/haishu"},
            headers=SYSTEM,
        )
        assert r.status_code == 200
        r = await city.event(
            "svc",
            recipients=[
                {"kind": "person", "user_id": "u-haishu-responsible"},
                {"kind": "org_unit", "org_unit": "ningbo/haishu"},
            ],
        )
        assert r.status_code == 202 and r.json()["recipients"] == ["u-haishu-responsible"]
