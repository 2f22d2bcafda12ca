"""Who may see results (results/access.py), publish them (publications/access.py), and the city-wide rule
(roles.py), without a database."""

import pytest

from services.kit.auth import Principal
from services.kit.errors import Forbidden
from services.scoring.publications import access as publications_access
from services.scoring.results import access


def who(role: str, scope: str = "ningbo") -> Principal:
    return Principal(sub=f"u-{role}", roles=(role,), scope=scope)


class TestPreview:
    def test_only_a_city_admin_previews(self):
        access.require_preview_allowed(True, who("city_admin"))
        access.require_preview_allowed(False, who("leader"))
        with pytest.raises(Forbidden):
            access.require_preview_allowed(True, who("leader"))


class TestPublisher:
    def test_a_district_scoped_city_admin_may_not_publish(self):
        publications_access.require_publisher(who("city_admin"))
        with pytest.raises(Forbidden) as refused:
            publications_access.require_publisher(who("city_admin", "ningbo/haishu"))
        assert "city-wide" in refused.value.detail


class TestCoversDistrict:
    def test_by_the_district_unit(self):
        assert access.covers_district(who("district_admin", "ningbo/yinzhou"), "yinzhou")
        assert not access.covers_district(who("district_admin", "ningbo/yinzhou"), "haishu")
        assert not access.covers_district(who("district_admin", "ningbo/_______"), "yinzhou")
