"""Scope of results: rankings, item statistics, trend, exports and the results-published event hold only
the caller's (or the recipient's) districts; publishing is city-wide."""

import csv
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.notify.events import CATALOG
from services.notify.intake.schemas import EventData, RoleRecipient
from services.notify.rendering import render
from services.scoring.models import ResultsVersion
from tests.scoring.conftest import ROUND, START, as_admin, as_district_admin, outbox_rows
from tests.scoring.scope import CALLER_IDS, CALLERS, api_key, headers


@pytest.fixture
def client(scope_world, module_client):
    return module_client


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
    async def test_every_csv_table_holds_only_the_scope(self, client, scope_world, who, make, districts):
        tables = {}
        for table in ("districts", "sites", "items"):
            r = await client.get(f"/rounds/{ROUND}/export.csv", params={"table": table}, headers=make())
            assert r.status_code == 200
            tables[table] = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
        assert {row[2] for row in tables["districts"]} == districts  # 区县代码 beside 区县 (its name)
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
        assert [row[2] for row in wb["区县排名"].iter_rows(min_row=2, values_only=True)] == ["yinzhou"]
        items = {row[0]: row for row in wb["细项问题统计"].iter_rows(min_row=2, values_only=True)}
        assert items["A01"][4] == 1 and items["A02"][8] == 0


class TestPublishIsCityWide:
    """Publishing a round's results concerns the whole city."""

    DISTRICT_CITY_ADMIN = staticmethod(lambda: headers("city_admin", "ningbo/yinzhou"))

    async def test_district_scoped_callers_cannot_publish_results(self, client):
        for h in (self.DISTRICT_CITY_ADMIN(), api_key("ningbo/yinzhou")):
            r = await client.post(f"/rounds/{ROUND}/results/publish", headers=h)
            assert r.status_code == 403
        async with client.app.state.engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(ResultsVersion))).scalar_one()
        assert n == 0
        assert not [e for e in await outbox_rows(client) if e["event_type"] == "scoring.results.published"]


def reaches(recipient: Any, person: dict[str, Any]) -> bool:
    """Notify's rule (services/notify/intake/service.py resolve_recipients): a role reaches its holders
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
        # the scope world locks 4 of the 8 sites sampling drew: published with an override
        r = await client.post(
            f"/rounds/{ROUND}/results/publish", json={"override_reason": "先行发布"}, headers=as_admin()
        )
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
