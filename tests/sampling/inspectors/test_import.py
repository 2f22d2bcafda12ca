"""Bulk import and export of the directory and the inspector pool."""

from __future__ import annotations

from tests.sampling.conftest import ADMIN, city_rows, import_json, inspector_rows


class TestImportInspectors:
    async def test_import_is_idempotent_and_exports_back(self, client):
        await import_json(client, "/sites/import", city_rows())
        first = await import_json(client, "/inspectors/import", inspector_rows())
        second = await import_json(client, "/inspectors/import", inspector_rows())
        assert first.json()["created"] == 12 and second.json()["unchanged"] == 12
        csv = await client.get("/inspectors/export", headers=ADMIN)
        assert csv.text.splitlines()[0] == "user_id,name,home_district,can_lead,active,tags"
        assert len(csv.text.splitlines()) == 13

    async def test_unknown_home_district_rejects_the_file(self, client):
        await import_json(client, "/sites/import", city_rows())
        rows = [*inspector_rows(), {"user_id": "u-x", "name": "某", "home_district": "atlantis"}]
        r = await import_json(client, "/inspectors/import", rows)
        assert r.status_code == 422
        assert r.json()["errors"][0]["line"] == 13 and r.json()["errors"][0]["problem"] == "unknown-district"
        assert (await client.get("/inspectors", headers=ADMIN)).json()["total"] == 0
