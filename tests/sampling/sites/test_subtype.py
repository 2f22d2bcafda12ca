"""Site subtypes (hospital, school, …): imported, exported, filtered, edited, and refused when unknown."""

from __future__ import annotations

from tests.sampling.conftest import ADMIN, csv_rows, export_file, import_json, site_id

CSV = "text/csv"
SUBTYPE_CSV = (
    "code,type,subtype,name,parent_code,district,active,tags\n"
    "330212,district,,鄞州区,,yinzhou,true,\n"
    "330212I01,institution,hospital,鄞州第一人民医院,330212,,true,\n"
    "330212I02,institution,school,鄞州中学,330212,,true,\n"
    "330212I03,institution,,鄞州图书馆,330212,,true,\n"
)


async def _import_csv(client, text: str, **params):
    return await client.post(
        "/sites/import", params=params, content=text.encode(), headers={**ADMIN, "content-type": CSV}
    )


class TestImportSubtype:
    async def test_csv_column_sets_the_subtype_and_the_list_filters_on_it(self, client):
        r = await _import_csv(client, SUBTYPE_CSV)
        assert r.status_code == 200 and r.json()["created"] == 4, r.text
        r = await client.get("/sites", params={"subtype": "hospital"}, headers=ADMIN)
        assert [(s["code"], s["subtype"]) for s in r.json()["items"]] == [("330212I01", "hospital")]
        r = await client.get("/sites", params=[("subtype", "hospital"), ("subtype", "school")], headers=ADMIN)
        assert r.json()["total"] == 2
        r = await client.get("/sites/by-code/330212I03", headers=ADMIN)
        assert r.json()["subtype"] is None

    async def test_an_unknown_subtype_is_a_bad_row_naming_the_column(self, client):
        text = SUBTYPE_CSV.replace("school", "clinic")
        r = await _import_csv(client, text)
        assert r.status_code == 422 and r.json()["type"] == "/problems/import-rejected"
        [error] = r.json()["errors"]
        assert (error["line"], error["column"], error["problem"]) == (4, "subtype", "invalid-value")
        assert error["reason"].startswith("未知的子类型“clinic”")
        assert (await client.get("/sites", headers=ADMIN)).json()["total"] == 0, "nothing imported"

    async def test_a_changed_subtype_is_an_update_and_a_second_import_changes_nothing(self, client):
        await _import_csv(client, SUBTYPE_CSV)
        r = await _import_csv(client, SUBTYPE_CSV.replace(",,鄞州图书馆", ",cultural_venue,鄞州图书馆"))
        assert (r.json()["updated"], r.json()["unchanged"]) == (1, 3)
        r = await _import_csv(client, SUBTYPE_CSV.replace(",,鄞州图书馆", ",cultural_venue,鄞州图书馆"))
        assert (r.json()["created"], r.json()["updated"]) == (0, 0)

    async def test_the_export_carries_the_subtype_and_reimports_unchanged(self, client):
        await _import_csv(client, SUBTYPE_CSV)
        exported = await export_file(client, "/sites/export", "csv")
        rows = {r["code"]: r for r in csv_rows(exported)}
        assert rows["330212I01"]["subtype"] == "hospital" and rows["330212I03"]["subtype"] == ""
        r = await client.post(
            "/sites/import", content=exported.content, headers={**ADMIN, "content-type": CSV}
        )
        assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 4)
        r = await client.get("/sites/export", params={"format": "json", "subtype": "school"}, headers=ADMIN)
        assert [s["code"] for s in r.json()] == ["330212I02"]

    async def test_json_import_takes_the_subtype_key(self, client):
        rows = [
            {"code": "330212", "type": "district", "name": "鄞州区", "district": "yinzhou"},
            {
                "code": "330212I01",
                "type": "institution",
                "subtype": "hospital",
                "name": "医院",
                "parent_code": "330212",
            },
        ]
        assert (await import_json(client, "/sites/import", rows)).status_code == 200
        assert (await client.get("/sites/by-code/330212I01", headers=ADMIN)).json()["subtype"] == "hospital"


class TestSubtypeThroughTheApi:
    async def test_create_and_patch_set_and_clear_it(self, city):
        body = {
            "code": "330212H9",
            "type": "institution",
            "subtype": "hospital",
            "name": "鄞州中医院",
            "parent_code": "330212",
        }
        r = await city.post("/sites", json=body, headers=ADMIN)
        assert r.status_code == 201 and r.json()["subtype"] == "hospital"
        sid = await site_id(city, "330212H9")
        r = await city.patch(f"/sites/{sid}", json={"subtype": "school"}, headers=ADMIN)
        assert r.status_code == 200 and r.json()["subtype"] == "school"
        r = await city.patch(f"/sites/{sid}", json={"name": "鄞州中学"}, headers=ADMIN)
        assert r.json()["subtype"] == "school", "a patch without subtype keeps it"
        r = await city.patch(f"/sites/{sid}", json={"subtype": None}, headers=ADMIN)
        assert r.json()["subtype"] is None

    async def test_an_unknown_subtype_is_a_422_naming_the_field(self, city):
        body = {
            "code": "330212H9",
            "type": "institution",
            "subtype": "clinic",
            "name": "诊所",
            "parent_code": "330212",
        }
        r = await city.post("/sites", json=body, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "subtype"]
        r = await city.get("/sites", params={"subtype": "clinic"}, headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "subtype", 0]
