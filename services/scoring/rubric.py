"""The rubric (测评体系) as data: its shape, the default version, and the checks a version must pass to publish.

Nothing here touches the database or FastAPI; a rubric is a plain document that the service stores
as JSON and these functions read.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.scoring.enums import Grade, Method, ScoringType, SiteType

SITE_TYPES = tuple(t.value for t in SiteType)
METHODS = tuple(m.value for m in Method)
SCORING_TYPES = tuple(t.value for t in ScoringType)
POLL_ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied")
POLL_SOURCE = "satisfaction_poll"

DEFAULT_RUBRIC_PATH = Path(__file__).parent / "rubric_default.json"

Loc = list[str | int]


class _Doc(BaseModel):
    # Unknown keys are kept (a city may annotate its rubric) but never read. Codes, types and methods
    # stay plain strings while a draft is edited (publishing checks them, naming each); grades are
    # the closed set of enums.Grade from the start.
    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class RubricItem(_Doc):
    """One scored item (细项)."""

    code: str = Field(min_length=1, max_length=20)
    """The item's code, unique in the rubric, e.g. `C03`"""
    title: str = Field(min_length=1, max_length=200)
    """The item's title (Chinese)"""
    points: float
    """Maximum points"""
    methods: list[str] = Field(default_factory=list)
    """Evidence methods expected (看问访核查谈)"""
    scoring_type: str
    """How it is scored: deduction, graded, rate or check"""
    guidance: str = ""
    """How inspectors score it"""
    veto: bool = False
    """A veto item (一票否决): failing it caps the sheet's grade"""
    veto_condition: str | None = None
    """What triggers the veto"""
    site_types: list[str] | None = None
    """Narrower than the section's site types when the item does not apply everywhere its section does"""
    source: str | None = None
    """`satisfaction_poll`: a rate item whose rate comes from the sheet's poll, not typed in"""


class RubricSection(_Doc):
    """One of the sections (板块) and its items."""

    code: str = Field(min_length=1, max_length=20)
    """The section's code, e.g. `C`"""
    title: str = Field(min_length=1, max_length=200)
    """The section's title (Chinese)"""
    points: float
    """Maximum points: the sum of its items' points"""
    site_types: list[str]
    """Site types the section applies to"""
    items: list[RubricItem]
    """The section's items"""


class GradeBand(_Doc):
    """A grade and the lowest 100-point score that earns it."""

    grade: Grade
    """The grade"""
    min: float
    """Lowest score with this grade"""


class PollGroup(_Doc):
    """A group asked in the satisfaction poll."""

    title: str
    """The group's name (党员, 群众)"""
    weight: float
    """The group's weight in the satisfaction rate"""


class SatisfactionPoll(_Doc):
    """How the satisfaction poll (满意度测评) becomes a rate."""

    answer_weights: dict[str, float]
    """Percent credited per answer (satisfied, basically_satisfied, dissatisfied)"""
    groups: dict[str, PollGroup]
    """The groups polled, by key (party_member, resident)"""


class Composite(_Doc):
    """How a district's composite combines its own sheet with its grassroots sites' mean."""

    own_site_types: list[str]
    """Site types of the district's own sheet (district, zone)"""
    own_weight: float
    """Percent weight of the own score"""
    grassroots_site_types: list[str]
    """Site types whose mean counts as the grassroots part"""
    grassroots_weight: float
    """Percent weight of the grassroots mean"""


class RubricDefinition(_Doc):
    """One version of the rubric: sections and items, weights per site type, grade bands, composite."""

    version: str = Field(min_length=1, max_length=40)
    """The version's name, e.g. `2026.1`"""
    name: str = Field(min_length=1, max_length=200)
    """The rubric's title (Chinese)"""
    site_types: dict[str, str] = Field(default_factory=dict)
    """Chinese names of the site types, by type"""
    methods: list[str] = Field(default_factory=lambda: list(METHODS))
    """The evidence methods (看问访核查谈)"""
    graded_scale: dict[Grade, float]
    """Percent of an item's maximum per grade, for graded items"""
    grade_bands: list[GradeBand]
    """Grades of a 100-point score, best first"""
    veto_grade: Grade = Grade.POOR
    """The grade a failed veto item caps a sheet at"""
    satisfaction_poll: SatisfactionPoll
    """How the satisfaction poll is weighted"""
    sections: list[RubricSection]
    """The sections and their items"""
    section_weights: dict[str, dict[str, float]]
    """Per site type, each section's percent weight in the 100-point score"""
    composite: Composite
    """How a district's composite is made"""

    # Convenience views used by scoring; cheap enough to rebuild per call.
    def item(self, code: str) -> RubricItem | None:
        for section in self.sections:
            for it in section.items:
                if it.code == code:
                    return it
        return None

    def applicable_items(self, site_type: str) -> list[tuple[RubricSection, RubricItem]]:
        """Items that apply to `site_type`: in a section weighted for it and not excluded by the item."""
        weights = self.section_weights.get(site_type, {})
        out: list[tuple[RubricSection, RubricItem]] = []
        for section in self.sections:
            if weights.get(section.code, 0) <= 0:
                continue
            for it in section.items:
                types = it.site_types if it.site_types is not None else section.site_types
                if site_type in types:
                    out.append((section, it))
        return out

    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)


@cache
def _default_text() -> str:
    return DEFAULT_RUBRIC_PATH.read_text(encoding="utf-8")


def default_definition() -> dict[str, Any]:
    """A fresh copy of the default rubric document (4 sections, 42 items)."""
    return json.loads(_default_text())  # type: ignore[no-any-return]


def parse_definition(doc: dict[str, Any]) -> RubricDefinition:
    return RubricDefinition.model_validate(doc)


def _near(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6


def validate_definition(rubric: RubricDefinition, *, base: Loc) -> list[dict[str, Any]]:
    """Every rule a version must meet to be published, as field errors (empty when it is valid)."""
    errors: list[dict[str, Any]] = []

    def err(loc: Loc, msg: str, zh: str) -> None:
        # msg_zh: the Chinese msg the kit answers when the caller prefers Chinese (never sent as such).
        errors.append({"loc": [*base, *loc], "msg": msg, "type": "value_error", "msg_zh": zh})

    section_codes: set[str] = set()
    item_codes: set[str] = set()
    for si, section in enumerate(rubric.sections):
        if section.code in section_codes:
            err(
                ["sections", si, "code"],
                f"section code {section.code!r} is used twice",
                zh=f"板块编码 {section.code!r} 重复使用",
            )
        section_codes.add(section.code)
        if not section.items:
            err(["sections", si, "items"], "a section needs at least one item", zh="每个板块至少需要一个细项")
        for t in section.site_types:
            if t not in SITE_TYPES:
                err(["sections", si, "site_types"], f"unknown site type {t!r}", zh=f"未知的单位类型 {t!r}")
        total = 0.0
        for ii, it in enumerate(section.items):
            loc: Loc = ["sections", si, "items", ii]
            if it.code in item_codes or it.code in section_codes:
                err(
                    [*loc, "code"],
                    f"item code {it.code!r} is used twice",
                    zh=f"细项编码 {it.code!r} 重复使用",
                )
            item_codes.add(it.code)
            if it.points <= 0:
                err([*loc, "points"], "item points must be greater than 0", zh="细项分值须大于 0")
            total += it.points
            if it.scoring_type not in SCORING_TYPES:
                err(
                    [*loc, "scoring_type"],
                    f"unknown scoring type {it.scoring_type!r}; known: {', '.join(SCORING_TYPES)}",
                    zh=f"未知的计分方式 {it.scoring_type!r}；已知方式：{', '.join(SCORING_TYPES)}",
                )
            bad = [m for m in it.methods if m not in METHODS]
            if bad:
                err(
                    [*loc, "methods"],
                    f"unknown methods {bad}; known: {''.join(METHODS)}",
                    zh=f"未知的测评方式 {bad}；已知方式：{''.join(METHODS)}",
                )
            if it.site_types is not None:
                outside = [t for t in it.site_types if t not in section.site_types]
                if outside:
                    err(
                        [*loc, "site_types"],
                        f"site types {outside} are not covered by section {section.code}",
                        zh=f"单位类型 {outside} 不在板块 {section.code} 的适用范围内",
                    )
            if it.source is not None and (it.source != POLL_SOURCE or it.scoring_type != "rate"):
                err(
                    [*loc, "source"],
                    f"only a rate item may take its rate from {POLL_SOURCE!r}",
                    zh=f"只有比率类细项才能从 {POLL_SOURCE!r} 取得比率",
                )
        if not _near(total, section.points):
            err(
                ["sections", si, "points"],
                f"section {section.code} declares {section.points:g} points but its items sum to {total:g}",
                zh=f"板块 {section.code} 声明 {section.points:g} 分，但其细项合计 {total:g} 分",
            )

    for t in SITE_TYPES:
        weights = rubric.section_weights.get(t)
        if not weights:
            err(
                ["section_weights", t],
                f"site type {t!r} has no section weights",
                zh=f"单位类型 {t!r} 没有板块权重",
            )
            continue
        for code, w in weights.items():
            if code not in section_codes:
                err(["section_weights", t, code], f"no section {code!r}", zh=f"没有板块 {code!r}")
            elif w < 0:
                err(["section_weights", t, code], "weights cannot be negative", zh="权重不能为负")
            elif w > 0 and not any(
                s.code == code
                and t in s.site_types
                and any(t in (i.site_types or s.site_types) for i in s.items)
                for s in rubric.sections
            ):
                err(
                    ["section_weights", t, code],
                    f"section {code} has no item that applies to {t!r}",
                    zh=f"板块 {code} 没有适用于 {t!r} 的细项",
                )
        if not _near(sum(weights.values()), 100):
            err(
                ["section_weights", t],
                f"weights for {t!r} sum to {sum(weights.values()):g} %, not 100 %",
                zh=f"{t!r} 的权重合计为 {sum(weights.values()):g}%，不是 100%",
            )
    for t in rubric.section_weights:
        if t not in SITE_TYPES:
            err(["section_weights", t], f"unknown site type {t!r}", zh=f"未知的单位类型 {t!r}")

    scale = rubric.graded_scale
    if not scale:
        err(["graded_scale"], "the graded scale is empty", zh="等次比例表为空")
    for g, pct in scale.items():
        if not 0 <= pct <= 100:
            err(
                ["graded_scale", g],
                "a grade's share must be between 0 and 100 %",
                zh="等次比例须在 0 到 100% 之间",
            )

    bands = rubric.grade_bands
    if not bands:
        err(["grade_bands"], "no grade bands", zh="没有等次分档")
    else:
        mins = [b.min for b in bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            err(
                ["grade_bands"],
                "bands must be listed from the highest minimum down, without repeats",
                zh="分档须按最低分从高到低列出，且不能重复",
            )
        if not _near(mins[-1], 0):
            err(
                ["grade_bands", len(bands) - 1, "min"],
                "the lowest band must start at 0",
                zh="最低一档须从 0 开始",
            )
        if rubric.veto_grade not in {b.grade for b in bands}:
            err(
                ["veto_grade"],
                f"{rubric.veto_grade!r} is not one of the grade bands",
                zh=f"{rubric.veto_grade!r} 不是分档中的等次",
            )

    poll = rubric.satisfaction_poll
    for answer in POLL_ANSWERS:
        if answer not in poll.answer_weights:
            err(["satisfaction_poll", "answer_weights", answer], "missing", zh="缺失")
    if not poll.groups or sum(g.weight for g in poll.groups.values()) <= 0:
        err(
            ["satisfaction_poll", "groups"],
            "at least one group with a positive weight",
            zh="至少需要一个权重为正的组别",
        )

    comp = rubric.composite
    if not _near(comp.own_weight + comp.grassroots_weight, 100):
        err(
            ["composite"],
            f"composite weights sum to {comp.own_weight + comp.grassroots_weight:g} %, not 100 %",
            zh=f"综合得分的权重合计为 {comp.own_weight + comp.grassroots_weight:g}%，不是 100%",
        )
    for field, types in (
        ("own_site_types", comp.own_site_types),
        ("grassroots_site_types", comp.grassroots_site_types),
    ):
        bad = [t for t in types if t not in SITE_TYPES]
        if bad:
            err(["composite", field], f"unknown site types {bad}", zh=f"未知的单位类型 {bad}")
    return errors
