"""The org-unit grammar, the scope rule and the escaped SQL prefix filter every service uses."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from services.kit import orgunit
from services.kit.auth import Principal, scope_covers


class TestParse:
    @pytest.mark.parametrize(
        "unit", ["ningbo", "ningbo/yinzhou", "ningbo/yinzhou/dongwu/91330200MA2AB", "ningbo/a_b-c"]
    )
    def test_accepts_paths_in_the_city(self, unit: str) -> None:
        assert orgunit.parse(unit) == unit

    @pytest.mark.parametrize(
        "unit",
        [
            "",
            "/ningbo",
            "ningbo/",
            "ningbo//x",
            "ningbo/%",
            "ningbo/a b",
            "hangzhou/x",
            "ningbo/\x00",
            "n" * 500,
        ],
    )
    def test_refuses_anything_else(self, unit: str) -> None:
        with pytest.raises(ValueError):
            orgunit.parse(unit)

    def test_a_model_field_names_the_problem(self) -> None:
        class Body(BaseModel):
            org_unit: orgunit.OrgUnit

        with pytest.raises(ValidationError) as err:
            Body(org_unit="hangzhou/xihu")
        assert err.value.errors()[0]["loc"] == ("org_unit",)

    def test_city_root_comes_from_configuration(self) -> None:
        before = orgunit.city_root()
        try:
            orgunit.set_city_root("hangzhou")
            assert orgunit.parse("hangzhou/xihu") == "hangzhou/xihu"
            assert orgunit.district_unit("xihu") == "hangzhou/xihu"
            assert orgunit.is_city_wide("hangzhou")
            with pytest.raises(ValueError):
                orgunit.parse("ningbo/yinzhou")
        finally:
            orgunit.set_city_root(before)

    def test_the_kit_has_no_default_city(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(orgunit, "_city_root", None)
        monkeypatch.delenv("CITY_ROOT")
        with pytest.raises(orgunit.CityRootNotConfigured, match="CITY_ROOT"):
            orgunit.city_root()
        with pytest.raises(orgunit.CityRootNotConfigured):
            orgunit.parse("ningbo/yinzhou")

    def test_before_any_settings_the_environment_names_the_city(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(orgunit, "_city_root", None)
        monkeypatch.setenv("CITY_ROOT", "hangzhou")
        assert orgunit.parse("hangzhou/xihu") == "hangzhou/xihu"
        monkeypatch.setattr(orgunit, "_city_root", None)
        monkeypatch.setenv("CITY_ROOT", "Not A Slug")
        with pytest.raises(ValueError, match="slug"):
            orgunit.city_root()

    def test_a_city_root_is_one_slug(self) -> None:
        with pytest.raises(ValueError, match="one lower-case slug"):
            orgunit.set_city_root("Ningbo/yinzhou")


class TestCovers:
    def test_a_unit_below_or_equal(self) -> None:
        assert scope_covers("ningbo/yinzhou", "ningbo/yinzhou/dongwu")
        assert scope_covers("ningbo/yinzhou", "ningbo/yinzhou")

    def test_not_a_sibling_with_a_common_prefix(self) -> None:
        assert not scope_covers("ningbo/yin", "ningbo/yinzhou")

    def test_an_empty_scope_covers_nothing(self) -> None:
        assert not scope_covers("", "ningbo/yinzhou")
        assert not Principal(sub="k", roles=("system",), scope="", kind="api_key").covers("ningbo")

    def test_only_the_service_principal_is_unrestricted(self) -> None:
        service = Principal(sub="service:scoring", roles=("system",), scope="", kind="service")
        key = Principal(sub="apikey:1", roles=("system",), scope="ningbo/yinzhou", kind="api_key")
        assert service.covers("ningbo/haishu/x")
        assert not key.covers("ningbo/haishu/x")
        assert not key.city_wide


class TestUnder:
    @pytest.fixture
    def table(self) -> tuple[sa.Engine, sa.Table]:
        engine = sa.create_engine("sqlite://")
        meta = sa.MetaData()
        t = sa.Table("t", meta, sa.Column("org_unit", sa.String))
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                t.insert(),
                [
                    {"org_unit": u}
                    for u in ["ningbo/yinzhou", "ningbo/yinzhou/a", "ningbo/haishu/b", "ningbo/yinzhouX/c"]
                ],
            )
        return engine, t

    def _units(self, table: tuple[sa.Engine, sa.Table], scope: str) -> list[str]:
        engine, t = table
        with engine.connect() as conn:
            return sorted(conn.scalars(sa.select(t.c.org_unit).where(orgunit.under(t.c.org_unit, scope))))

    def test_prefix_match_on_whole_segments(self, table: tuple[sa.Engine, sa.Table]) -> None:
        assert self._units(table, "ningbo/yinzhou") == ["ningbo/yinzhou", "ningbo/yinzhou/a"]

    def test_wildcards_in_a_scope_match_only_themselves(self, table: tuple[sa.Engine, sa.Table]) -> None:
        assert self._units(table, "ningbo/_______") == []
        assert self._units(table, "ningbo/%") == []

    def test_empty_scope_matches_nothing(self, table: tuple[sa.Engine, sa.Table]) -> None:
        assert self._units(table, "") == []
