"""Creating, reading and listing problems, with scope checks and bad input."""

from datetime import date

from services.kit.testing import principal_headers
from tests.rectification.conftest import (
    CITY,
    HAISHU,
    LEADER,
    LI,
    YINZHOU,
    ZHANG,
    count_problems,
    create,
    events,
    pending_timers,
    problem_body,
)


class TestCreateProblem:
    async def test_general_problem_gets_the_template_countdown(self, client):
        p = await create(client)
        assert p["status"] == "open"
        assert p["severity_label"] == "一般"
        # Created Mon 5 Jan 2026: plan in 5 working days, mid-term at 50 %, completion in 30 days.
        due = {m["kind"]: m["due_on"] for m in p["milestones"]}
        assert due == {"plan": "2026-01-12", "midterm": "2026-01-20", "completion": "2026-02-04"}
        assert p["deadline_at"] == "2026-02-04T15:59:59Z"
        assert p["days_left"] == 30
        assert p["working_days_left"] == 22
        assert p["light"] == "green"
        assert p["provisional"] is False
        assert p["responsible_person"] == {"user_id": "u-zhang-wei", "name": "张伟"}

    async def test_severe_problem_gets_seven_days_and_a_red_light_soon(self, client):
        p = await create(client, severity="severe")
        assert p["deadline_at"][:10] == "2026-01-12"
        assert p["light"] == "yellow"
        p2 = await create(client, severity="severe", deadline_on="2026-01-07")
        assert p2["light"] == "red"
        assert p2["days_left"] == 2

    async def test_creation_is_announced_and_reminders_scheduled(self, client):
        p = await create(client)
        created = await events(client, "rectification.problem.created")
        assert len(created) == 1
        data = created[0]["payload"]
        assert data["problem_id"] == p["id"]
        assert {"kind": "person", "user_id": "u-zhang-wei"} in data["recipients"]
        assert data["site"]["district"] == "yinzhou"
        timers = await pending_timers(client, p["id"])
        kinds = {(t["milestone"], t["kind"], t["offset_days"]) for t in timers}
        assert ("completion", "reminder", 7) in kinds
        assert ("completion", "due", 0) in kinds
        assert ("completion", "escalation", 0) in kinds
        assert ("plan", "reminder", 1) in kinds

    async def test_explicit_deadline_with_a_time_is_kept(self, client):
        p = await create(client, deadline_at="2026-01-20T10:00:00+08:00")
        assert p["deadline_at"] == "2026-01-20T02:00:00Z"

    async def test_deadline_in_the_past_is_refused_and_nothing_written(self, client):
        r = await client.post("/problems", json=problem_body(deadline_on="2026-01-04"), headers=YINZHOU)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["body", "deadline_on"]
        assert await count_problems(client) == 0
        assert await events(client) == []

    async def test_milestone_after_the_deadline_is_refused(self, client):
        body = problem_body(deadline_on="2026-01-20", plan_due_on="2026-01-25")
        r = await client.post("/problems", json=body, headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/invalid-schedule"
        assert r.json()["errors"][0]["loc"] == ["body", "plan_due_on"]
        assert await count_problems(client) == 0

    async def test_evidence_without_a_file_id_is_refused(self, client):
        r = await client.post("/problems", json=problem_body(evidence=[{"note": "照片"}]), headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "evidence", 0, "file_id"]
        # A hash typed by the client is no longer evidence.
        r = await client.post(
            "/problems", json=problem_body(evidence=[{"name": "x", "file_hash": "a" * 64}]), headers=YINZHOU
        )
        assert r.status_code == 422
        assert await count_problems(client) == 0

    async def test_responsible_person_outside_the_scope_is_refused(self, client):
        # The body claims a Yinzhou unit; notify's directory says Haishu.
        outsider = {"user_id": "u-chen-jing", "name": "陈静", "org_unit": "ningbo/yinzhou/dongwu"}
        r = await client.post("/problems", json=problem_body(responsible_person=outsider), headers=YINZHOU)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/invalid-reference"
        assert r.json()["errors"][0]["loc"] == ["body", "responsible_person", "user_id"]
        assert await count_problems(client) == 0
        assert await events(client) == []

    async def test_district_admin_cannot_create_in_another_district(self, client):
        r = await client.post("/problems", json=problem_body(responsible_person=None), headers=HAISHU)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "site", "code"]
        assert await count_problems(client) == 0

    async def test_responsible_person_cannot_create(self, client):
        r = await client.post("/problems", json=problem_body(), headers=ZHANG)
        assert r.status_code == 403

    async def test_facts_the_body_invents_are_refused_each_named(self, client):
        body = problem_body()
        body["site"].update(name="假村", org_unit="ningbo/haishu/yuehu", district="haishu", type="community")
        body["responsible_person"] = {"user_id": "u-zhang-wei", "name": "假名", "org_unit": "ningbo/haishu"}
        r = await client.post("/problems", json=body, headers=CITY)
        assert r.status_code == 422, r.text
        assert [e["loc"] for e in r.json()["errors"]] == [
            ["body", "site", "name"],
            ["body", "site", "type"],
            ["body", "site", "org_unit"],
            ["body", "site", "district"],
            ["body", "responsible_person", "name"],
            ["body", "responsible_person", "org_unit"],
        ]

    async def test_site_facts_come_from_the_directory(self, client):
        p = await create(client, CITY)
        assert p["site"] == {
            "code": "330212001001",
            "name": "天童村",
            "type": "village",
            "org_unit": "ningbo/yinzhou/dongwu/tiantong",
            "district": "yinzhou",
        }
        assert p["responsible_person"] == {"user_id": "u-zhang-wei", "name": "张伟"}
        assert p["responsible_unit"] == "ningbo/yinzhou/dongwu/tiantong"


class TestGetProblem:
    async def test_district_admin_of_another_district_is_answered_as_missing(self, client):
        p = await create(client)
        r = await client.get(f"/problems/{p['id']}", headers=HAISHU)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/problem-not-found"

    async def test_responsible_person_reads_only_their_own(self, client):
        p = await create(client)
        assert (await client.get(f"/problems/{p['id']}", headers=ZHANG)).status_code == 200
        assert (await client.get(f"/problems/{p['id']}", headers=LI)).status_code == 404

    async def test_missing_problem_is_404(self, client):
        r = await client.get("/problems/999", headers=CITY)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/problem-not-found"

    async def test_anonymous_call_is_refused(self, client):
        assert (await client.get("/problems")).status_code == 401


class TestListProblems:
    async def test_filters(self, client, clock):
        a = await create(client, severity="severe", category="党费收缴", round_code="2026Q1")
        b = await create(client, severity="general", responsible_person=LI_REF_JSON, round_code="2026Q1")
        haishu_site = {
            "code": "330203001",
            "name": "月湖街道",
            "type": "street",
            "org_unit": "ningbo/haishu/yuehu",
            "district": "haishu",
        }
        c = await create(client, CITY, site=haishu_site, responsible_person=None, deadline_on="2026-01-08")

        async def ids(headers=CITY, **params):
            r = await client.get("/problems", params=params, headers=headers)
            assert r.status_code == 200, r.text
            return sorted(p["id"] for p in r.json()["items"])

        assert await ids(district="yinzhou") == [a["id"], b["id"]]
        assert await ids(severity="severe") == [a["id"]]
        assert await ids(category="党费收缴") == [a["id"]]
        assert await ids(responsible_person_id="u-li-na") == [b["id"]]
        assert await ids(round_code="2026Q1") == [a["id"], b["id"]]
        assert await ids(site_code="330203001") == [c["id"]]
        assert await ids(status="open") == [a["id"], b["id"], c["id"]]
        assert await ids(light="red") == [c["id"]]
        assert await ids(light="yellow") == [a["id"]]
        assert await ids(light="green") == [b["id"]]
        clock.set(date_moment(2026, 1, 9))
        assert await ids(light="overdue") == [c["id"]]
        assert await ids(light="red") == [a["id"]]

    async def test_scope(self, client):
        a = await create(client)
        b = await create(client, responsible_person=LI_REF_JSON)

        async def ids(headers):
            r = await client.get("/problems", headers=headers)
            return sorted(p["id"] for p in r.json()["items"]), r.json()["total"]

        assert await ids(YINZHOU) == ([a["id"], b["id"]], 2)
        assert await ids(HAISHU) == ([], 0)
        assert await ids(ZHANG) == ([a["id"]], 1)
        assert await ids(LI) == ([b["id"]], 1)
        assert await ids(LEADER) == ([], 0)
        town = principal_headers(
            roles=["district_admin"], scope="ningbo/yinzhou/dongwu/tiantong", sub="u-town"
        )
        assert (await ids(town))[1] == 2

    async def test_pagination(self, client):
        for _ in range(3):
            await create(client)
        r = await client.get("/problems", params={"limit": 2, "offset": 2}, headers=CITY)
        assert r.json()["total"] == 3
        assert len(r.json()["items"]) == 1
        assert (await client.get("/problems", params={"limit": 501}, headers=CITY)).status_code == 422

    async def test_filters_by_sheet_and_assignment(self, client):
        a = await create(client, sheet_id="118")
        b = await create(client, CITY, responsible_person=None, sheet_id="119")

        async def ids(**params):
            r = await client.get("/problems", params=params, headers=CITY)
            assert r.status_code == 200, r.text
            return sorted(p["id"] for p in r.json()["items"])

        assert await ids(sheet_id="118") == [a["id"]]
        assert await ids(unassigned="true") == [b["id"]]
        assert await ids(unassigned="false") == [a["id"]]

    async def test_text_search_covers_title_description_and_site(self, client):
        a = await create(client, description="党费收缴不及时", item_title="党费管理")
        b = await create(
            client, CITY, site={"code": "330203001"}, responsible_person=None, description="台账缺失"
        )

        async def ids(q):
            r = await client.get("/problems", params={"q": q}, headers=CITY)
            assert r.status_code == 200, r.text
            return sorted(p["id"] for p in r.json()["items"])

        assert await ids("党费") == [a["id"]]
        assert await ids("台账") == [b["id"]]
        assert await ids("月湖") == [b["id"]]  # the site's name
        assert await ids("330212001001") == [a["id"]]  # the site's code
        assert await ids("100%") == []  # % matches itself

    async def test_sort(self, client):
        a = await create(client, deadline_on="2026-03-01")
        b = await create(client, deadline_on="2026-02-01")

        async def ids(**params):
            r = await client.get("/problems", params=params, headers=CITY)
            assert r.status_code == 200, r.text
            return [p["id"] for p in r.json()["items"]]

        assert await ids() == [b["id"], a["id"]]  # newest first by default
        assert await ids(sort="deadline_at") == [b["id"], a["id"]]
        assert await ids(sort="-deadline_at") == [a["id"], b["id"]]
        assert await ids(sort="id") == [a["id"], b["id"]]
        r = await client.get("/problems", params={"sort": "description"}, headers=CITY)
        assert r.status_code == 422

    async def test_unknown_query_parameter_is_refused(self, client):
        r = await client.get("/problems", params={"assigned_to": "u-li-na"}, headers=CITY)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "assigned_to"]

    async def test_enums_in_the_answer(self, client):
        await create(client)
        p = (await client.get("/problems", headers=CITY)).json()["items"][0]
        assert (p["status"], p["light"], p["severity"], p["level"]) == (
            "open",
            "green",
            "general",
            "village_community",
        )
        assert p["created_at"].endswith("Z") and p["deadline_at"].endswith("Z")


LI_REF_JSON = {"user_id": "u-li-na", "name": "李娜", "org_unit": "ningbo/yinzhou/dongwu"}


def date_moment(y: int, m: int, d: int):
    from services.kit.workdays import start_of_local_day

    return start_of_local_day(date(y, m, d))


class TestLightThresholds:
    async def test_thresholds_come_from_settings(self, client):
        p = await create(client)  # 30 days left: green by default
        assert p["light"] == "green"
        client.app.state.settings.light_yellow_days = 30
        client.app.state.settings.light_red_days = 10
        r = await client.get(f"/problems/{p['id']}", headers=CITY)
        assert r.json()["light"] == "yellow"
        assert [
            x["id"]
            for x in (await client.get("/problems", params={"light": "yellow"}, headers=CITY)).json()["items"]
        ] == [p["id"]]
