"""Who may do what with templates: every caller, a district-scoped `system` API key included, stays inside its scope.

Out of scope reads answer exactly like missing objects (404); writes naming something outside the
scope are 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from tests.notify.conftest import ADMIN, Caller


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
