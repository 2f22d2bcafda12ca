"""Templates: Chinese by default, versioned, validated against the sample payload on save."""

from __future__ import annotations

from services.kit.testing import principal_headers
from services.notify.events import CATALOG
from tests.notify.conftest import ADMIN

URL = "/templates/rectification.problem.overdue"


def _as(user_id: str) -> dict[str, str]:
    return principal_headers(roles=["responsible"], scope="ningbo/yinzhou", sub=user_id)


class TestListTemplates:
    async def test_every_event_type_has_chinese_builtins_on_every_channel(self, notify):
        r = await notify.client.get("/templates", headers=ADMIN)
        assert r.status_code == 200
        items = r.json()["items"]
        assert {(t["channel"]) for t in items} == {"inbox", "email", "sms"}
        overdue = next(
            t for t in items if t["event_type"] == "rectification.problem.overdue" and t["channel"] == "inbox"
        )
        assert overdue["version"] == 0 and "逾期" in overdue["subject"]

    async def test_unknown_event_type_is_404(self, notify):
        r = await notify.client.get("/templates?event_type=nope", headers=ADMIN)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/event-type-not-found"


class TestSaveTemplate:
    async def test_saving_creates_a_new_version_used_by_the_next_event(self, notify):
        await notify.person("u-a")
        r1 = await notify.client.put(
            f"{URL}/inbox", json={"subject": "督办 v1", "body": "{{ title }}"}, headers=ADMIN
        )
        r2 = await notify.client.put(
            f"{URL}/inbox",
            json={"subject": "督办：{{ site.name }}", "body": "{{ title }}已逾期{{ days_overdue }}天"},
            headers=ADMIN,
        )
        assert (r1.status_code, r2.status_code) == (201, 201)
        assert r2.json()["version"] == 2
        assert r2.json()["preview"] == {
            "subject": "督办：东吴镇天童村",
            "body": "党员活动室台账记录不完整已逾期2天",
        }
        versions = await notify.client.get(f"{URL}/inbox/versions", headers=ADMIN)
        assert [v["version"] for v in versions.json()["items"]] == [2, 1, 0]
        await notify.event(
            "t1",
            "rectification.problem.overdue",
            recipients=[{"kind": "person", "user_id": "u-a"}],
            site=CATALOG["rectification.problem.overdue"].sample["site"] | {"name": "天童村"},
            title="台账不全",
            days_overdue=5,
        )
        await notify.deliver()
        [msg] = (await notify.client.get("/inbox", headers=_as("u-a"))).json()["items"]
        assert (msg["title"], msg["body"]) == ("督办：天童村", "台账不全已逾期5天")

    async def test_syntax_error_is_refused_with_its_line(self, notify):
        r = await notify.client.put(
            f"{URL}/email", json={"subject": "s", "body": "第一行\n第二行\n{{ title }"}, headers=ADMIN
        )
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/template-error"
        assert body["errors"][0]["loc"] == ["body", "body"]
        assert body["errors"][0]["line"] == 3
        assert "line 3" in body["errors"][0]["msg"]
        versions = await notify.client.get(f"{URL}/email/versions", headers=ADMIN)
        assert [v["version"] for v in versions.json()["items"]] == [0]

    async def test_variable_missing_from_the_sample_is_refused_with_its_line(self, notify):
        r = await notify.client.put(
            f"{URL}/inbox",
            json={"subject": "ok {{ title }}", "body": "第一行\n{{ responsible_phone }}"},
            headers=ADMIN,
        )
        assert r.status_code == 422
        err = r.json()["errors"][0]
        assert err["line"] == 2 and "responsible_phone" in err["msg"]

    async def test_sms_longer_than_the_limit_is_refused(self, notify):
        r = await notify.client.put(
            f"{URL}/sms", json={"body": "【党建督查】" + "很长的短信" * 40}, headers=ADMIN
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["type"] == "too_long"

    async def test_only_city_admin_edits_templates(self, notify):
        r = await notify.client.put(
            f"{URL}/sms", json={"body": "x"}, headers=principal_headers(roles=["district_admin"])
        )
        assert r.status_code == 403

    async def test_sandbox_refuses_unsafe_attribute_access(self, notify):
        r = await notify.client.put(
            f"{URL}/inbox", json={"subject": "x", "body": "{{ title.__class__.__mro__ }}"}, headers=ADMIN
        )
        assert r.status_code == 422


class TestEventTypes:
    """GET /event-types and /event-types/{type}: each type's JSON Schema and version, from the kit's catalogue."""

    async def test_the_list_gives_every_types_schema_and_version(self, notify):
        r = await notify.client.get("/event-types", headers=ADMIN)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "total", "limit", "offset"} and page["total"] == len(CATALOG)
        by_type = {e["type"]: e for e in page["items"]}
        upcoming = by_type["sampling.visit.upcoming"]
        assert upcoming["version"] == 1 and upcoming["versions"] == [1]
        assert upcoming["title"] == "明日督查安排"
        assert upcoming["data_schema"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert upcoming["data_schema"]["additionalProperties"] is False
        assert "recipients" not in upcoming["sample"] and upcoming["sample"]["visit_on"] == "2026-03-10"

    async def test_one_type_is_read_with_every_audiences_sample(self, notify):
        r = await notify.client.get("/event-types/sampling.round.published", headers=ADMIN)
        assert r.status_code == 200, r.text
        body = r.json()
        assert [s["audience"] for s in body["samples"]] == ["district", "team"]
        assert body["sample"] == body["samples"][0]
        assert "visit_on" in body["data_schema"]["properties"]["visits"]["items"]["required"]

    async def test_an_unknown_type_is_404(self, notify):
        r = await notify.client.get("/event-types/no.such.type", headers=ADMIN)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/event-type-not-found"

    async def test_a_saved_template_must_render_for_every_audience(self, notify):
        r = await notify.client.put(
            "/templates/sampling.round.published/inbox",
            json={"subject": "{{ round_code }}", "body": "{{ team.name }}"},
            headers=ADMIN,
        )
        assert r.status_code == 422  # the district audience has no team
        assert r.json()["type"] == "/problems/template-error"
        ok = await notify.client.put(
            "/templates/sampling.round.published/inbox",
            json={
                "subject": "{{ round_code }}",
                "body": "{% if team is defined %}{{ team.name }}{% else %}{{ name }}{% endif %}",
            },
            headers=ADMIN,
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["preview"]["body"] == "2026年第一季度基层党建专项督查"
