"""Rubric versions and round bindings as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from services.kit.schema import OutputModel
from services.kit.text import InputModel, check_value
from services.scoring.enums import RubricStatus
from services.scoring.rubric import RubricDefinition

_SUMMARY_EXAMPLE: JsonDict = {
    "id": 2,
    "version": "2026.2",
    "name": "基层党建专项督查测评体系（2026年第二版）",
    "status": "published",
    "is_default": True,
    "based_on_id": 1,
    "definition_sha256": "5d41402abc4b2a76b9719d911017c592ae2f0c3e8b1d4f6a7c9e0b2d4f6a8c0e",
    "created_by": "u-city-admin",
    "created_at": "2026-04-01T02:00:00Z",
    "published_by": "u-city-admin",
    "published_at": "2026-04-03T02:00:00Z",
}
# A rubric document cut down to one section with one item (the default has 4 sections, 42 items).
_DEFINITION_EXAMPLE: JsonDict = {
    "version": "2026.2",
    "name": "基层党建专项督查测评体系（2026年第二版）",
    "site_types": {"village": "村", "community": "社区"},
    "methods": ["看", "问", "访", "核", "查", "谈"],
    "graded_scale": {"好": 100, "较好": 80, "一般": 60, "差": 0},
    "grade_bands": [
        {"grade": "好", "min": 90},
        {"grade": "较好", "min": 80},
        {"grade": "一般", "min": 60},
        {"grade": "差", "min": 0},
    ],
    "veto_grade": "差",
    "satisfaction_poll": {
        "answer_weights": {"satisfied": 100, "basically_satisfied": 80, "dissatisfied": 0},
        "groups": {
            "party_member": {"title": "党员", "weight": 50},
            "resident": {"title": "群众", "weight": 50},
        },
    },
    "sections": [
        {
            "code": "C",
            "title": "村（社区）、两新组织党组织标准化规范化建设",
            "points": 6,
            "site_types": ["village", "community"],
            "items": [
                {
                    "code": "C01",
                    "title": "“三会一课”制度落实",
                    "points": 6,
                    "methods": ["查", "谈"],
                    "scoring_type": "deduction",
                    "guidance": "从满分起按问题逐项扣分，扣完为止。",
                }
            ],
        }
    ],
    "section_weights": {"village": {"C": 100}, "community": {"C": 100}},
    "composite": {
        "own_site_types": ["district", "zone"],
        "own_weight": 40,
        "grassroots_site_types": ["village", "community"],
        "grassroots_weight": 60,
    },
}


class RubricSummary(OutputModel):
    """A rubric version without its document."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    id: int
    """The version's id"""
    version: str
    """The version's name, e.g. `2026.1`"""
    name: str
    """The rubric's title (Chinese)"""
    status: RubricStatus
    """draft (editable) or published (frozen)"""
    is_default: bool
    """New rounds are bound to this version"""
    based_on_id: int | None = None
    """The version this one was copied from"""
    definition_sha256: str | None = None
    """SHA-256 of the canonical document, set when published"""
    created_by: str
    """Who drafted it"""
    created_at: datetime
    """When it was drafted"""
    published_by: str | None = None
    """Who published it"""
    published_at: datetime | None = None
    """When it was published"""


class RubricRead(RubricSummary):
    """A rubric version with its whole document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_SUMMARY_EXAMPLE, "definition": _DEFINITION_EXAMPLE, "item_count": 1}]
        }
    )

    definition: RubricDefinition
    """The rubric document: sections and items, weights, grade bands, composite"""
    item_count: int
    """How many items the rubric has"""


class RubricDraftCreate(InputModel):
    """A new draft, copied from an existing version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"version": "2026.2", "name": "基层党建专项督查测评体系（2026年第二版）"}]
        }
    )

    version: str = Field(min_length=1, max_length=40, examples=["2026.2"])
    """The new version's name, unique"""
    name: str | None = Field(default=None, max_length=200)
    """The rubric's title; the copied version's when omitted"""
    based_on_id: int | None = Field(default=None, ge=1)
    """Version to copy; the current default when omitted"""


class RubricDraftUpdate(InputModel):
    """A draft's whole new document."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"definition": _DEFINITION_EXAMPLE}]})

    definition: RubricDefinition
    """The whole rubric document (sections, items, weights, bands)"""

    @model_validator(mode="after")
    def _safe_document(self) -> RubricDraftUpdate:
        # The document is a model (InputModel leaves nested models to themselves): check all its text.
        try:
            check_value(self.definition.model_dump())
        except ValueError as exc:
            raise ValueError(f"definition: {exc}") from None
        return self


class RubricPublish(InputModel):
    """Publishing options."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"make_default": True}]})

    make_default: bool = True
    """New rounds bind this version from now on"""


class RoundRubricBind(InputModel):
    """The version a round is to be scored on."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"rubric_id": 2}]})

    rubric_id: int = Field(ge=1)
    """A published rubric version's id"""


class RoundRubricRead(OutputModel):
    """Which rubric version a round is scored on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_code": "2026Q1",
                    "rubric_id": 1,
                    "rubric_version": "2026.1",
                    "bound_by": "u-city-admin",
                    "bound_at": "2026-03-01T01:00:00Z",
                }
            ]
        }
    )

    round_code: str
    """The round, e.g. `2026Q1`"""
    rubric_id: int
    """The rubric version's id"""
    rubric_version: str
    """The rubric version's name"""
    bound_by: str
    """Who bound it (or the first sheet's author, for the default)"""
    bound_at: datetime
    """When it was bound"""
