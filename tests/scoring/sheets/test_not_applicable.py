"""不适用 through the sheet API: an item marked not applicable, with a reason, leaves the denominator."""

import pytest

from tests.scoring.conftest import (
    FULL_POLL,
    ROUND,
    act,
    as_admin,
    as_inspector,
    filled_sheet,
    full_items,
    open_sheet,
    patch,
    problem,
    to_status,
)

VILLAGE, TOWN, DISTRICT = "330212001201", "330212001", "330212"
NA = {"not_applicable": True, "not_applicable_reason": "新成立党支部，尚无党员基础信息可维护"}


def na_of(code: str) -> dict:
    return {"item_code": code, **NA}


class TestMarkNotApplicable:
    async def test_item_leaves_the_denominator_and_the_sheet_rescales_to_100(self, client):
        # Hand check. The village: C01 −2 (6 / 8), C02 较好 (5.6 / 7), every other item full, poll all 满意.
        # Without a mark: C = 96.6 / 100, score = 70 % × 96.6 + 30 % × 100 = 97.62.
        # C14 (6 points, full) not applicable: C = 90.6 / 94 = 96.3830 %, score = 70 % × 96.3830 + 30 %
        # × 100 = 67.4681 + 30 = 97.4681 → 97.47.
        overrides = {
            "C01": {"deductions": [{"points": 2, "reason": "换届资料不全"}]},
            "C02": {"grade": "较好"},
        }
        sheet = await filled_sheet(client, VILLAGE, overrides=overrides)
        assert sheet["results"]["score"] == 97.62
        r = await patch(client, sheet, {"items": [na_of("C14")]})
        assert r.status_code == 200, r.text
        body = r.json()
        c14 = next(i for i in body["items"] if i["item_code"] == "C14")
        assert (c14["not_applicable"], c14["not_applicable_reason"], c14["points"]) == (
            True,
            NA["not_applicable_reason"],
            None,
        )
        c = next(s for s in body["results"]["sections"] if s["code"] == "C")
        assert (c["points"], c["max_points"], c["percent"], c["items"]) == (90.6, 94.0, 96.38, 13)
        results = body["results"]
        assert (results["score"], results["grade"], results["complete"]) == (97.47, "好", True)
        assert (results["not_applicable_items"], results["items"], results["scored_items"]) == (
            ["C14"],
            21,
            21,
        )
        # the list shows the stored score, the same
        listed = (await client.get(f"/rounds/{ROUND}/sheets", headers=as_admin())).json()["items"]
        assert [s["score"] for s in listed] == [97.47]

    async def test_a_section_with_every_item_not_applicable_drops_out(self, client):
        # The town: B 60 %, D 40 %. B01 −5, all else full; every D item not applicable:
        # B alone carries 100 %: 95 / 100 → 95.00 (without the marks 60 % × 95 + 40 % × 100 = 97.00).
        items = full_items("town", overrides={"B01": {"deductions": [{"points": 5, "reason": "述职不实"}]}})
        sheet = await open_sheet(client, TOWN)
        r = await patch(client, sheet, {"items": items, "poll": FULL_POLL})
        assert r.json()["results"]["score"] == 97.0
        d_codes = [i["item_code"] for i in items if i["item_code"].startswith("D")]
        r = await patch(client, r.json(), {"items": [na_of(code) for code in d_codes]})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [s["code"] for s in results["sections"]] == ["B"]
        assert results["score"] == 95.0 and results["not_applicable_items"] == sorted(d_codes)

    async def test_district_sheet_rescaled_by_hand(self, client):
        # A01 −8, A10 not applicable: A = (100 − 10 − 8) / 90 = 91.111… → 91.11.
        overrides = {"A01": {"deductions": [{"points": 8, "reason": "述职评议流于形式"}]}, "A10": NA}
        items = [
            {k: v for k, v in i.items() if k != "deductions"} if i["item_code"] == "A10" else i
            for i in full_items("district", overrides=overrides)
        ]
        sheet = await open_sheet(client, DISTRICT)
        r = await patch(client, sheet, {"items": items})
        assert r.status_code == 200, r.text
        assert r.json()["results"]["score"] == 91.11

    async def test_marked_item_counts_as_scored_at_submit_and_is_in_the_locked_content(self, client):
        sheet = await open_sheet(client, VILLAGE)
        items = [i for i in full_items("village") if i["item_code"] != "C14"] + [na_of("C14")]
        r = await patch(client, sheet, {"items": items, "poll": FULL_POLL})
        assert r.status_code == 200, r.text
        locked = await to_status(client, r.json(), "locked")
        assert locked["results"]["score"] == 100.0
        content = (await client.get(f"/sheets/{sheet['id']}/content", headers=as_admin())).json()
        c14 = next(i for i in content["items"] if i["item_code"] == "C14")
        assert c14["points"] is None and c14["detail"]["not_applicable"] is True
        assert c14["detail"]["not_applicable_reason"] == NA["not_applicable_reason"]
        history = (await client.get(f"/sheets/{sheet['id']}/history", headers=as_admin())).json()["items"]
        assert history[1]["changes"]["items"]["C14"]["after"]["not_applicable"] is True

    async def test_unmarking_restores_the_item_unscored(self, client):
        sheet = await filled_sheet(client, VILLAGE)
        marked = (await patch(client, sheet, {"items": [na_of("C14")]})).json()
        again = (await patch(client, marked, {"items": [{"item_code": "C14", "deductions": []}]})).json()
        c14 = next(i for i in again["items"] if i["item_code"] == "C14")
        assert (c14["not_applicable"], c14["not_applicable_reason"], c14["points"]) == (False, None, 6.0)
        assert again["results"]["not_applicable_items"] == [] and again["results"]["score"] == 100.0

    async def test_a_sheet_with_every_item_not_applicable_cannot_be_submitted(self, client):
        sheet = await open_sheet(client, DISTRICT)
        items = [na_of(i["item_code"]) for i in full_items("district")]
        marked = (await patch(client, sheet, {"items": items})).json()
        assert marked["results"]["score"] is None
        r = await act(client, marked, "submit", as_inspector())
        assert r.status_code == 422 and r.json()["type"] == "/problems/sheet-incomplete"


class TestBadMarks:
    @pytest.mark.parametrize(
        ("item", "field"),
        [
            ({"item_code": "C14", "not_applicable": True}, "not_applicable_reason"),
            (
                {"item_code": "C14", "not_applicable": True, "not_applicable_reason": "  "},
                "not_applicable_reason",
            ),
            ({"item_code": "C14", "not_applicable_reason": "不适用"}, "not_applicable_reason"),
            ({**na_of("C14"), "deductions": [{"points": 1, "reason": "x"}]}, "deductions"),
            ({**na_of("C02"), "grade": "好"}, "grade"),
            ({**na_of("C10"), "met": True}, "met"),
            ({**na_of("A10"), "veto_triggered": True}, "veto_triggered"),
        ],
    )
    async def test_is_422_naming_the_field_and_saves_nothing(self, client, item, field):
        site = DISTRICT if item["item_code"].startswith("A") else VILLAGE
        sheet = await open_sheet(client, site)
        r = await patch(client, sheet, {"items": [item]})
        problem(r, field)
        assert r.json()["errors"][0]["loc"] == ["body", "items", 0, field]
        after = (await client.get(f"/sheets/{sheet['id']}", headers=as_inspector())).json()
        assert after["version"] == 1

    async def test_empty_reason_is_refused_by_the_schema(self, client):
        sheet = await open_sheet(client, VILLAGE)
        r = await patch(client, sheet, {"items": [{**na_of("C14"), "not_applicable_reason": ""}]})
        problem(r, "not_applicable_reason")


class TestStatistics:
    async def test_an_item_marked_not_applicable_is_counted_apart(self, client):
        sheet = await filled_sheet(client, VILLAGE)
        marked = (await patch(client, sheet, {"items": [na_of("C14")]})).json()
        await to_status(client, marked, "locked")
        other = await filled_sheet(
            client, "330212001202", overrides={"C14": {"deductions": [{"points": 2, "reason": "信息未更新"}]}}
        )
        await to_status(client, other, "locked")
        body = (await client.get(f"/rounds/{ROUND}/problems/by-item", headers=as_admin())).json()
        c14 = next(i for i in body["items"] if i["item_code"] == "C14")
        assert (c14["sheets"], c14["not_applicable"], c14["mean_points"], c14["points_lost"]) == (
            1,
            1,
            4.0,
            2.0,
        )
