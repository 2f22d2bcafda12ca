"""API shapes of the site directory (名录库) and of every import report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from services.kit.schema import OutputModel
from services.kit.text import InputModel
from services.sampling.enums import FileFormat, ImportMode, SiteSubtype, SiteType
from services.sampling.importing import CODE_RE, SITE_SUBTYPES, SITE_TYPES

assert set(SITE_TYPES) == {t.value for t in SiteType}
assert set(SITE_SUBTYPES) == {t.value for t in SiteSubtype}

SITE_EXAMPLE: dict[str, Any] = {
    "id": 4211,
    "code": "330212001001",
    "type": "village",
    "subtype": None,
    "name": "三塘村",
    "parent_id": 4102,
    "parent_code": "330212001",
    "district": "yinzhou",
    "town_code": "330212001",
    "org_unit": "ningbo/yinzhou/330212001/330212001001",
    "active": True,
    "tags": ["示范点"],
}


def _code(v: str) -> str:
    if not CODE_RE.match(v):
        raise ValueError("must be 1-64 letters, digits, '.', '_' or '-'")
    return v


class SiteBase(InputModel):
    name: str = Field(min_length=1, max_length=200)
    """The site's name (村名、单位名称)."""
    active: bool = True
    """Whether the site may be drawn (an inactive site stays in the directory)."""
    tags: list[str] = Field(default_factory=list, max_length=50)
    """Free labels (e.g. 示范点)."""


class SiteCreate(SiteBase):
    """A new site, placed under an existing parent (a district or zone has none)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "330212001001",
                    "type": "village",
                    "name": "三塘村",
                    "parent_code": "330212001",
                    "tags": ["示范点"],
                },
                {
                    "code": "12330212I01",
                    "type": "institution",
                    "subtype": "hospital",
                    "name": "鄞州第一人民医院",
                    "parent_code": "330212",
                },
            ]
        }
    )

    code: str
    """The external code (统一社会信用代码 or administrative code); never changes."""
    type: SiteType
    """What kind of unit the site is."""
    subtype: SiteSubtype | None = None
    """What kind of unit it is within its type (e.g. a hospital among institutions); quotas can name it."""
    parent_code: str | None = None
    """Code of the parent site (required except for a district or zone)."""
    district: str | None = Field(None, description="Slug, required for a district or zone")

    _v_code = field_validator("code")(_code)


class SiteUpdate(InputModel):
    """The fields of a site that change; the ones left out stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "三塘村", "active": False, "tags": ["示范点", "回头看"]}]}
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    """A new name."""
    active: bool | None = None
    """Deactivate (or reactivate) the site: an inactive site is never drawn."""
    tags: list[str] | None = None
    """The new set of labels."""
    subtype: SiteSubtype | None = None
    """A new subtype (null removes it)."""
    parent_code: str | None = None
    """Move the site (and its subtree) under another parent."""


class SiteRead(OutputModel):
    """One site of the directory."""

    model_config = ConfigDict(json_schema_extra={"examples": [SITE_EXAMPLE]})

    id: int
    """The site's id."""
    code: str
    """The external code (the import's upsert key)."""
    type: SiteType
    """What kind of unit the site is."""
    subtype: SiteSubtype | None = None
    """What kind of unit it is within its type (hospital, school, …), if recorded."""
    name: str
    """The site's name."""
    parent_id: int | None = None
    """Id of the parent site (none for a district or zone)."""
    parent_code: str | None = None
    """Code of the parent site."""
    district: str
    """Slug of the district or zone the site lies in."""
    town_code: str | None = None
    """Code of the town or street the site belongs to (itself for a town)."""
    org_unit: str
    """The site's org unit: the path scopes are matched against."""
    active: bool
    """Whether the site may be drawn."""
    tags: list[str] = []
    """Free labels."""


class ImportRowError(OutputModel):
    """One bad row (or cell) of an imported file."""

    line: int = Field(description="CSV/XLSX row number (header is row 1) or JSON item number (from 1)")
    column: str | None = None
    """The column at fault, when one is."""
    code: str | None = None
    """The row's code (or user_id), when it has one."""
    problem: str = Field(description="unknown-parent, duplicate-code, wrong-type, cycle, missing-field, ...")
    reason: str
    """What is wrong, in Chinese words for the person who fixes the file (`problem` is the stable slug)."""


class ImportReport(OutputModel):
    """What an import did (or, on a dry run, would do)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "format": "csv",
                    "dry_run": False,
                    "mode": "good_rows",
                    "applied": True,
                    "total_rows": 3,
                    "created": 1,
                    "updated": 1,
                    "unchanged": 0,
                    "rejected": 1,
                    "errors": [
                        {
                            "line": 4,
                            "column": "parent_code",
                            "code": "330212009001",
                            "problem": "unknown-parent",
                            "reason": "上级 330212009 既不在文件中，也不在名录中",
                        }
                    ],
                }
            ]
        }
    )

    format: FileFormat
    """The format the file was read as."""
    dry_run: bool
    """Whether this was a dry run (nothing changed)."""
    mode: ImportMode
    """Whether bad rows refused the whole file or only themselves."""
    applied: bool
    """Whether the good rows were written."""
    total_rows: int
    """Rows in the file."""
    created: int
    """New rows (or rows a dry run would create)."""
    updated: int
    """Changed rows."""
    unchanged: int
    """Rows equal to what the directory already holds."""
    rejected: int
    """Bad rows (left out)."""
    errors: list[ImportRowError]
    """Every problem found, by line."""


class ExportLanguage(StrEnum):
    """The language of an export's headers and labels: English identifiers, or Chinese (编码, 类型 村, 是/否)."""

    EN = "en"
    ZH = "zh"


@dataclass(frozen=True)
class SiteFilter:
    """What a list or an export of the directory keeps (always inside the caller's scope)."""

    types: Sequence[str] | None = None
    subtypes: Sequence[str] | None = None
    parent_code: str | None = None
    district: str | None = None
    active: bool | None = None
    q: str | None = None
