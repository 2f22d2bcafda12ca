"""Bad sheet input is a 422 problem naming the field, never a 500, and nothing is written."""

import pytest

from tests.scoring.conftest import (
    FULL_POLL,
    ROUND,
    act,
    as_admin,
    as_inspector,
    as_leader,
    filled_sheet,
    open_sheet,
    patch,
    problem,
    to_status,
)

VILLAGE = "330212001201"
FINDING = {"category": "组织生活", "severity": "general", "level": "unit", "concerns": "某支部"}


async def history(client, sheet) -> list[str]:
    return [
        h["action"]
        for h in (await client.get(f"/sheets/{sheet['id']}/history", headers=as_inspector())).json()["items"]
    ]


class TestSheetBodies:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"notes": "记录\x00"}, "notes"),
            (
                {"items": [{"item_code": "C01", "deductions": [{"points": 2, "reason": "未换届\x01"}]}]},
                "reason",
            ),
            (
                {
                    "items": [
                        {
                            "item_code": "C01",
                            "deductions": [
                                {
                                    "points": 2,
                                    "reason": "未换届",
                                    "finding": {**FINDING, "concerns": "王\x00某"},
                                }
                            ],
                        }
                    ]
                },
                "concerns",
            ),
            ({"items": [{"item_code": "C01", "notes": "\x1b[31m", "deductions": []}]}, "notes"),
            ({"poll": {"resident": {**FULL_POLL["resident"], "satisfied": 2**64}}}, "satisfied"),
            (
                {
                    "items": [
                        {"item_code": "C01", "deductions": [{"points": 2, "reason": "x", "id": "a\x00"}]}
                    ]
                },
                "id",
            ),
        ],
        ids=[
            "nul-in-notes",
            "control-in-reason",
            "nul-in-finding",
            "escape-in-item-notes",
            "huge-poll",
            "nul-in-id",
        ],
    )
    async def test_refused_naming_the_field_and_nothing_saved(self, client, body, field):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, body)
        problem(r, field)
        again = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert again["version"] == sheet["version"] and again["notes"] == ""
        assert await history(client, sheet) == ["created"]

    async def test_return_reason_with_nul(self, client):
        submitted = await to_status(client, await filled_sheet(client, VILLAGE), "submitted")
        r = await act(client, submitted, "return", as_leader(), {"reason": "补充\x00材料"})
        problem(r, "reason")
        again = (await client.get(f"/sheets/{submitted['id']}", headers=as_inspector())).json()
        assert again["status"] == "submitted" and again["return_reason"] is None

    async def test_site_code_with_nul(self, client):
        r = await client.post(
            f"/rounds/{ROUND}/sheets", json={"site_code": "330212\x00"}, headers=as_inspector()
        )
        problem(r, "site_code")
        assert (await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())).json()["total"] == 0


class TestPathsAndQueries:
    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/rubrics/9223372036854775808", "rubric_id"),
            ("/rubrics/0", "rubric_id"),
            (f"/rounds/{ROUND}/sheets?offset=9223372036854775808", "offset"),
            (f"/rounds/{ROUND}/sheets?district=yin%00zhou", "district"),
            (f"/rounds/{ROUND}/sheets?site_type=%3DHYPERLINK", "site_type"),
            ("/trend?district=%00", "district"),
            ("/sheets/abc%00def", "sheet_id"),
            (f"/rounds/{ROUND}/rankings/sites?site_type=village&offset=-1", "offset"),
        ],
    )
    async def test_out_of_range_or_control_characters_are_422(self, client, path, field):
        problem(await client.get(path, headers=as_admin()), field)

    async def test_rubric_id_beyond_the_column_is_simply_missing(self, client):
        # 64-bit but beyond PostgreSQL's INTEGER: no such rubric, not a driver error
        r = await client.get(f"/rubrics/{2**40}", headers=as_admin())
        assert r.status_code == 404 and r.json()["type"] == "/problems/rubric-not-found"
