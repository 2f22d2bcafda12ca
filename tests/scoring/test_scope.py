"""Scope: every role (a district's `system` API key included) sees and changes only what its scope covers.

Out-of-scope sheets answer exactly like missing ones; aggregates (problems by item, exports, the
results-published event) hold only the caller's or the recipient's districts.
"""

import csv
import io
import json
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.kit.testing import principal_headers
from services.notify.events import CATALOG
from services.notify.schemas import EventData, RoleRecipient
from services.notify.templates import render
from services.scoring.models import ResultsPublication, Rubric
from tests.scoring.conftest import (
    ROUND,
    SITES,
    START,
    as_admin,
    as_district_admin,
    filled_sheet,
    outbox_rows,
    to_status,
)

# "yinzhou" has seven letters: an unescaped LIKE 'ningbo/_______/%' matched every Yinzhou sheet.
WILDCARD_SCOPE = "ningbo/_______"
YINZHOU_VILLAGE, HAISHU_COMMUNITY = "330212001201", "330203001001"


def headers(role: str, scope: str, *, kind: str = "user") -> dict[str, str]:
    return principal_headers(roles=[role], scope=scope, sub=f"u-{role}-{scope}", kind=kind, ttl=3600)


def api_key(scope: str) -> dict[str, str]:
    """A `system` integration's API key scoped to `scope` (never the services' own principal)."""
    return headers("system", scope, kind="api_key")


# (who, headers factory, districts they may see)
CALLERS: list[tuple[str, Any, set[str]]] = [
    ("city_admin of the city", lambda: headers("city_admin", "ningbo"), {"yinzhou", "haishu"}),
    ("city_admin scoped to Haishu", lambda: headers("city_admin", "ningbo/haishu"), {"haishu"}),
    ("leader scoped to Haishu", lambda: headers("leader", "ningbo/haishu"), {"haishu"}),
    ("district_admin of Yinzhou", lambda: as_district_admin("yinzhou"), {"yinzhou"}),
    ("system key of the city", lambda: api_key("ningbo"), {"yinzhou", "haishu"}),
    ("system key of Yinzhou", lambda: api_key("ningbo/yinzhou"), {"yinzhou"}),
    ("district_admin with a wildcard scope", lambda: headers("district_admin", WILDCARD_SCOPE), set()),
    ("system key with a wildcard scope", lambda: api_key(WILDCARD_SCOPE), set()),
]
CALLER_IDS = [c[0] for c in CALLERS]

PLAN = [
    ("330212", {"A01": {"deductions": [{"points": 8, "reason": "述职评议流于形式"}]}}),
    (YINZHOU_VILLAGE, {"C01": {"deductions": [{"points": 8, "reason": "未按期换届"}]}}),
    ("330203", {"A02": {"met": False}}),
    (HAISHU_COMMUNITY, {}),
]


@pytest.fixture(scope="module")
async def built(module_client, module_sampling, module_clock) -> dict[str, dict[str, Any]]:
    """Two districts' locked sheets in ROUND, built once for this module's read-only tests."""
    module_sampling.drawn.clear()
    module_sampling.down = False
    for code in SITES:
        module_sampling.draw(code)
    module_clock.set(START)
    out = {}
    for code, overrides in PLAN:
        sheet = await filled_sheet(module_client, code, overrides=overrides)
        out[code] = await to_status(module_client, sheet, "locked")
    return out


@pytest.fixture
def client(built, module_client):
    return module_client


def district_of_sheet(built: dict[str, dict[str, Any]], sheet_id: str) -> str:
    return next(s["site"]["district"] for s in built.values() if s["id"] == sheet_id)


def without(body: dict[str, Any], value: str) -> str:
    """The problem body with the id asked for masked (and the per-request id left out)."""
    body = {k: v for k, v in body.items() if k != "request_id"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).replace(value, "<id>")


class TestSheetsInScope:
    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_list_holds_only_sheets_inside_the_scope(self, client, built, who, make, districts):
        r = await client.get(f"/rounds/{ROUND}/sheets", headers=make())
        assert r.status_code == 200
        assert {s["site"]["district"] for s in r.json()["items"]} == districts
        assert r.json()["total"] == sum(1 for s in built.values() if s["site"]["district"] in districts)

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    @pytest.mark.parametrize("suffix", ["", "/history", "/content"])
    async def test_out_of_scope_sheet_answers_exactly_like_a_missing_one(
        self, client, built, who, make, districts, suffix
    ):
        missing_id = str(uuid.uuid4())
        missing = await client.get(f"/sheets/{missing_id}{suffix}", headers=make())
        assert missing.status_code == 404
        for sheet in built.values():
            r = await client.get(f"/sheets/{sheet['id']}{suffix}", headers=make())
            if sheet["site"]["district"] in districts:
                assert r.status_code == 200, (who, sheet["site"]["code"])
            else:
                assert r.status_code == 404
                assert r.headers["content-type"] == missing.headers["content-type"]
                assert without(r.json(), sheet["id"]) == without(missing.json(), missing_id)

    async def test_district_admin_cannot_narrow_the_list_to_another_district(self, client):
        r = await client.get(
            f"/rounds/{ROUND}/sheets", params={"district": "haishu"}, headers=as_district_admin("yinzhou")
        )
        assert r.status_code == 200 and r.json()["total"] == 0


class TestResultsInScope:
    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_district_ranking_rows(self, client, who, make, districts):
        r = await client.get(f"/rounds/{ROUND}/rankings/districts", headers=make())
        assert r.status_code == 200
        assert {d["district"] for d in r.json()["items"]} == districts

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_site_rankings(self, client, who, make, districts):
        r = await client.get(
            f"/rounds/{ROUND}/rankings/sites", params={"site_type": "district"}, headers=make()
        )
        assert r.status_code == 200
        assert {s["site"]["district"] for s in r.json()["items"]} == districts
        assert r.json()["total"] == len(districts)

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_problems_by_item_count_only_sheets_in_scope(self, client, who, make, districts):
        r = await client.get(f"/rounds/{ROUND}/problems/by-item", headers=make())
        assert r.status_code == 200
        by_code = {i["item_code"]: i for i in r.json()["items"]}
        if not districts:
            assert by_code == {}
            return
        # each district has one own (district-type) sheet: A01 counts one sheet per district seen
        assert by_code["A01"]["sheets"] == len(districts)
        # Haishu's A02 is not met (10 points lost); Yinzhou's A01 lost 8
        assert by_code["A02"]["points_lost"] == (10.0 if "haishu" in districts else 0.0)
        assert by_code["A01"]["points_lost"] == (8.0 if "yinzhou" in districts else 0.0)

    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_trend(self, client, who, make, districts):
        r = await client.get("/trend", headers=make())
        assert r.status_code == 200
        assert {d["district"] for d in r.json()["items"]} == districts
        assert r.json()["rounds"] == ([ROUND] if districts else [])


class TestExportsInScope:
    @pytest.mark.parametrize(("who", "make", "districts"), CALLERS, ids=CALLER_IDS)
    async def test_every_csv_table_holds_only_the_scope(self, client, built, who, make, districts):
        tables = {}
        for table in ("districts", "sites", "items"):
            r = await client.get(f"/rounds/{ROUND}/export.csv", params={"table": table}, headers=make())
            assert r.status_code == 200
            tables[table] = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
        assert {row[1] for row in tables["districts"]} == districts
        assert {row[4] for row in tables["sites"]} == districts
        items = {row[0]: row for row in tables["items"]}
        if not districts:
            assert items == {}
        else:
            # 评分表数 of A01 (one district sheet per district) and 累计失分 of Haishu's A02
            assert int(items["A01"][4]) == len(districts)
            assert float(items["A02"][8]) == (10.0 if "haishu" in districts else 0.0)

    async def test_xlsx_items_sheet_holds_only_the_district(self, client):
        r = await client.get(f"/rounds/{ROUND}/export.xlsx", headers=as_district_admin("yinzhou"))
        assert r.status_code == 200
        wb = load_workbook(io.BytesIO(r.content))
        assert [row[1] for row in wb["区县排名"].iter_rows(min_row=2, values_only=True)] == ["yinzhou"]
        items = {row[0]: row for row in wb["细项问题统计"].iter_rows(min_row=2, values_only=True)}
        assert items["A01"][4] == 1 and items["A02"][8] == 0


class TestCityWideActions:
    """Rubric versions, round bindings and publication concern the whole city."""

    DISTRICT_CITY_ADMIN = staticmethod(lambda: headers("city_admin", "ningbo/yinzhou"))

    async def _rubric_count(self, client) -> int:
        async with client.app.state.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Rubric))).scalar_one())

    async def test_district_scoped_city_admin_cannot_draft_edit_publish_or_bind(self, client):
        before = await self._rubric_count(client)
        r = await client.post("/rubrics", json={"version": "2099.1"}, headers=self.DISTRICT_CITY_ADMIN())
        assert r.status_code == 403
        assert await self._rubric_count(client) == before
        draft = await client.post("/rubrics", json={"version": "2099.2"}, headers=as_admin())
        assert draft.status_code == 201
        rid = draft.json()["id"]
        try:
            r = await client.put(
                f"/rubrics/{rid}",
                json={"definition": draft.json()["definition"]},
                headers=self.DISTRICT_CITY_ADMIN(),
            )
            assert r.status_code == 403
            r = await client.post(f"/rubrics/{rid}/publish", json={}, headers=self.DISTRICT_CITY_ADMIN())
            assert r.status_code == 403
            assert (await client.get(f"/rubrics/{rid}", headers=as_admin())).json()["status"] == "draft"
            current = (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).json()
            r = await client.put(
                f"/rounds/{ROUND}/rubric",
                json={"rubric_id": current["rubric_id"]},
                headers=self.DISTRICT_CITY_ADMIN(),
            )
            assert r.status_code == 403
            after = (await client.get(f"/rounds/{ROUND}/rubric", headers=as_admin())).json()
            assert after["bound_at"] == current["bound_at"]
        finally:
            async with client.app.state.engine.begin() as conn:
                await conn.execute(Rubric.__table__.delete().where(Rubric.__table__.c.id == rid))  # type: ignore[attr-defined]

    async def test_district_scoped_callers_cannot_publish_results(self, client):
        for h in (self.DISTRICT_CITY_ADMIN(), api_key("ningbo/yinzhou")):
            r = await client.post(f"/rounds/{ROUND}/results/publish", headers=h)
            assert r.status_code == 403
        async with client.app.state.engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(ResultsPublication))).scalar_one()
        assert n == 0
        assert not [e for e in await outbox_rows(client) if e["event_type"] == "scoring.results.published"]

    async def test_city_admin_outside_scope_cannot_return_a_sheet(self, client, built):
        sheet = built[YINZHOU_VILLAGE]
        r = await client.post(
            f"/sheets/{sheet['id']}/return",
            json={"reason": "重评"},
            headers={**headers("city_admin", "ningbo/haishu"), "If-Match": sheet["etag"]},
        )
        assert r.status_code == 404 and r.json()["type"] == "/problems/sheet-not-found"


# --- what each person receives when results are published -----------------------------------------


def reaches(recipient: Any, person: dict[str, Any]) -> bool:
    """Notify's rule (services/notify/service.py resolve_recipients): a role reaches its holders
    anywhere within the unit; a person spec reaches that person."""
    if isinstance(recipient, RoleRecipient):
        unit = person["org_unit"]
        inside = unit == recipient.org_unit or unit.startswith(recipient.org_unit + "/")
        return inside and recipient.role in person["roles"]
    return getattr(recipient, "user_id", None) == person["user_id"]


def received_by(events: list[dict[str, Any]], person: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in events if any(reaches(r, person) for r in EventData.model_validate(e).recipients)]


def rendered(data: dict[str, Any]) -> tuple[str | None, str]:
    subject, body = CATALOG["scoring.results.published"].default_template("inbox")
    ctx = {
        **data,
        "event": {"id": "e", "type": "scoring.results.published", "occurred_at": START.isoformat()},
    }
    return render(subject or "", ctx, strict=False), render(body, ctx, strict=False)


class TestResultsPublishedEvent:
    async def test_each_district_admin_receives_only_their_own_row(self, client):
        r = await client.post(f"/rounds/{ROUND}/results/publish", headers=as_admin())
        assert r.status_code == 201
        events = [
            e["payload"]
            for e in await outbox_rows(client)
            if e["event_type"] == "scoring.results.published" and e["payload"]["round_code"] == ROUND
        ]
        ranking = (await client.get(f"/rounds/{ROUND}/rankings/districts", headers=as_admin())).json()[
            "items"
        ]
        rows = {d["district"]: d for d in ranking}
        for district, other in (("yinzhou", "haishu"), ("haishu", "yinzhou")):
            admin = {
                "user_id": f"u-{district}-admin",
                "roles": ["district_admin"],
                "org_unit": f"ningbo/{district}",
            }
            [got] = received_by(events, admin)
            assert [d["district"] for d in got["districts"]] == [district]
            assert (got["rank"], got["composite"]) == (rows[district]["rank"], rows[district]["composite"])
            assert other not in json.dumps(got)  # nothing of the other district, anywhere
            subject, body = rendered(got)
            assert ROUND in subject and ROUND in body and "已发布" in body
            # what their rankings view shows is the same single row
            view = await client.get(
                f"/rounds/{ROUND}/rankings/districts", headers=as_district_admin(district)
            )
            assert [d["district"] for d in view.json()["items"]] == [district]
        town_admin = {
            "user_id": "u-dongwu-admin",
            "roles": ["district_admin"],
            "org_unit": "ningbo/yinzhou/330212001",
        }
        assert [[d["district"] for d in e["districts"]] for e in received_by(events, town_admin)] == [
            ["yinzhou"]
        ]
        leader = {"user_id": "u-leader", "roles": ["leader"], "org_unit": "ningbo"}
        [city] = received_by(events, leader)
        assert [d["district"] for d in city["districts"]] == ["haishu", "yinzhou"]
        assert rendered(city)[1]
