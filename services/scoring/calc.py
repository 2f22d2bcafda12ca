"""The arithmetic of scoring, with no I/O: item points, section subtotals, the 100-point score, grades, composites.

Everything is computed in exact decimals and rounded once, half up, to two places, so a hand
calculation and the service agree to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.scoring.enums import Grade
from services.scoring.rubric import METHODS, RubricDefinition, RubricItem

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def dec(x: float | int | str | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(str(x))


def r2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


# --- one item ------------------------------------------------------------------------------------


_KINDS_ZH = {"deduction": "扣分类", "graded": "评等类", "rate": "比率类", "check": "达标类"}


def check_item_score(
    item: RubricItem, data: Mapping[str, Any], scale: Mapping[Grade, float], loc: list[str | int]
) -> list[dict[str, Any]]:
    """Field errors for one item's score against its rubric item (empty when acceptable)."""
    errors: list[dict[str, Any]] = []

    def err(where: list[str | int], msg: str, zh: str) -> None:
        # msg_zh: the Chinese msg the kit answers when the caller prefers Chinese (never sent as such).
        errors.append({"loc": [*loc, *where], "msg": msg, "type": "value_error", "msg_zh": zh})

    if data.get("not_applicable"):
        # 不适用: the item leaves the denominator, so it takes a reason and no score of any kind.
        if not str(data.get("not_applicable_reason") or "").strip():
            err(
                ["not_applicable_reason"],
                f"{item.code} is marked not applicable: say why (不适用的理由)",
                zh=f"{item.code} 标记为不适用：请说明不适用的理由",
            )
        for name in ("deductions", "grade", "rate", "met"):
            if data.get(name) not in (None, []):
                err(
                    [name],
                    f"{item.code} is marked not applicable; it takes no {name!r}",
                    zh=f"{item.code} 标记为不适用，不能填写 {name!r}",
                )
        if data.get("veto_triggered"):
            err(
                ["veto_triggered"],
                f"{item.code} is marked not applicable; its veto cannot be triggered",
                zh=f"{item.code} 标记为不适用，不能触发一票否决",
            )
        bad = [m for m in data.get("methods") or [] if m not in METHODS]
        if bad:
            err(
                ["methods"],
                f"unknown methods {bad}; known: {''.join(METHODS)}",
                zh=f"未知的测评方式 {bad}；已知方式：{''.join(METHODS)}",
            )
        return errors
    if data.get("not_applicable_reason") is not None:
        err(
            ["not_applicable_reason"],
            "a reason is given only with not_applicable: true",
            zh="只有 not_applicable 为 true 时才填写理由",
        )
    kind = item.scoring_type
    allowed = {
        "deduction": {"deductions"},
        "graded": {"grade"},
        "rate": set() if item.source else {"rate"},
        "check": {"met"},
    }[kind]
    for name in ("deductions", "grade", "rate", "met"):
        given = data.get(name)
        if name == "deductions" and not given:
            given = None
        if given is not None and name not in allowed:
            why = "is computed from the satisfaction poll" if item.source else f"is a {kind} item"
            why_zh = "由满意度测评计算得出" if item.source else f"是{_KINDS_ZH.get(kind, kind)}细项"
            err(
                [name],
                f"{item.code} {why}; {name!r} does not apply",
                zh=f"{item.code} {why_zh}，不适用 {name!r}",
            )
    max_points = dec(item.points)
    if kind == "deduction":
        for j, d in enumerate(data.get("deductions") or []):
            p = dec(d["points"])
            if p <= 0:
                err(["deductions", j, "points"], "a deduction must be greater than 0", zh="扣分须大于 0")
            elif p > max_points:
                err(
                    ["deductions", j, "points"],
                    f"exceeds the item maximum {item.points:g}",
                    zh=f"超过该细项的满分 {item.points:g}",
                )
    elif kind == "graded":
        g = data.get("grade")
        if g is None:
            err(
                ["grade"],
                f"{item.code} needs a grade: one of {', '.join(scale)}",
                zh=f"{item.code} 需要评定等次：{'、'.join(scale)} 之一",
            )
        elif g not in scale:
            err(
                ["grade"],
                f"{g!r} is not on the scale {', '.join(scale)}",
                zh=f"{g!r} 不在等次 {'、'.join(scale)} 之中",
            )
    elif kind == "rate" and not item.source:
        rate = data.get("rate")
        if rate is None:
            err(
                ["rate"],
                f"{item.code} needs a rate between 0 and 1",
                zh=f"{item.code} 需要 0 到 1 之间的比率",
            )
        elif not 0 <= rate <= 1:
            err(["rate"], "must be between 0 and 1", zh="须在 0 到 1 之间")
    elif kind == "check" and data.get("met") is None:
        err(["met"], f"{item.code} needs met: true or false", zh=f"{item.code} 需要填写 met：true 或 false")
    if data.get("veto_triggered") and not item.veto:
        err(["veto_triggered"], f"{item.code} is not a veto item", zh=f"{item.code} 不是一票否决项")
    bad = [m for m in data.get("methods") or [] if m not in METHODS]
    if bad:
        err(
            ["methods"],
            f"unknown methods {bad}; known: {''.join(METHODS)}",
            zh=f"未知的测评方式 {bad}；已知方式：{''.join(METHODS)}",
        )
    return errors


def item_points(
    item: RubricItem,
    data: Mapping[str, Any],
    scale: Mapping[Grade, float],
    poll_rate: Decimal | None,
    *,
    exact: bool = False,
) -> Decimal | None:
    """Points awarded for one (already checked) item score; None when it cannot be scored yet or is
    marked not applicable.

    Shown rounded to the cent; `exact=True` gives the unrounded value the sheet's score is computed
    from, so a score is rounded once (D08 = 20 × 0.89667 counts as 17.9333…, not 17.93).
    """
    if data.get("not_applicable"):
        return None  # 不适用: no points, and out of the denominator (see sheet_result)
    max_points = dec(item.points)
    kind = item.scoring_type
    value: Decimal | None
    if kind == "deduction":
        taken = sum((dec(d["points"]) for d in data.get("deductions") or []), Decimal(0))
        value = max(Decimal(0), max_points - taken)
    elif kind == "graded":
        value = max_points * dec(scale[data["grade"]]) / HUNDRED
    elif kind == "rate":
        rate = poll_rate if item.source else (dec(data["rate"]) if data.get("rate") is not None else None)
        value = None if rate is None else max_points * rate
    else:
        value = max_points if data.get("met") else Decimal(0)
    if value is None or exact:
        return value
    return r2(value)


def item_vetoed(item: RubricItem, data: Mapping[str, Any]) -> bool:
    """A veto item fails when the inspector marks its condition, or, for a check item, when it is not met."""
    if not item.veto or data.get("not_applicable"):
        return False
    return bool(data.get("veto_triggered")) or (item.scoring_type == "check" and data.get("met") is False)


def poll_rate(poll: Mapping[str, Mapping[str, int]] | None, rubric: RubricDefinition) -> Decimal | None:
    """Satisfaction rate in 0..1: per group Σ count × answer weight / total, then the groups' weighted mean.

    Groups nobody answered in drop out and the others' weights are rescaled; no answers at all → None.
    """
    if not poll:
        return None
    cfg = rubric.satisfaction_poll
    num = Decimal(0)
    den = Decimal(0)
    for name, group in cfg.groups.items():
        counts = poll.get(name) or {}
        total = sum(int(counts.get(a, 0)) for a in cfg.answer_weights)
        if total <= 0:
            continue
        got = sum(
            (dec(cfg.answer_weights[a]) * int(counts.get(a, 0)) for a in cfg.answer_weights), Decimal(0)
        )
        num += dec(group.weight) * got / (HUNDRED * total)
        den += dec(group.weight)
    if den == 0:
        return None
    return num / den


# --- one sheet -----------------------------------------------------------------------------------


@dataclass
class SectionResult:
    code: str
    title: str
    weight: Decimal
    points: Decimal
    max_points: Decimal
    percent: Decimal | None
    scored_items: int
    items: int


@dataclass
class SheetResult:
    sections: list[SectionResult]
    score: Decimal | None
    grade: Grade | None
    grade_before_veto: Grade | None
    veto_items: list[str]
    scored_items: int
    items: int
    complete: bool = field(init=False)

    def __post_init__(self) -> None:
        self.complete = self.scored_items == self.items


def grade_for(score: Decimal, rubric: RubricDefinition) -> Grade:
    for band in rubric.grade_bands:
        if score >= dec(band.min):
            return band.grade
    return rubric.grade_bands[-1].grade


def cap_grade(grade: Grade, cap: Grade, rubric: RubricDefinition) -> Grade:
    """The worse of `grade` and `cap` (bands are listed best first)."""
    order = [b.grade for b in rubric.grade_bands]
    return order[max(order.index(grade), order.index(cap))]


def sheet_result(
    rubric: RubricDefinition,
    site_type: str,
    points: Mapping[str, Decimal | None],
    vetoed: Iterable[str] = (),
    not_applicable: Iterable[str] = (),
) -> SheetResult:
    """Section subtotals, the 100-point score (Σ weight × subtotal / section maximum), grade and veto cap.

    Only items that apply to `site_type` count, so a village and a town are scored on the same scale.
    An item marked not applicable (不适用) at this site leaves the denominator exactly as an item that
    does not apply to the site type: its points leave its section's maximum; a section left with no item
    drops out and the other sections' weights are rescaled to 100 %.
    The score is None until every applicable item is scored.
    """
    weights = rubric.section_weights.get(site_type, {})
    skipped = set(not_applicable)
    by_section: dict[str, list[tuple[RubricItem, Decimal | None]]] = {}
    titles: dict[str, str] = {}
    for section, it in rubric.applicable_items(site_type):
        if it.code in skipped:
            continue
        by_section.setdefault(section.code, []).append((it, points.get(it.code)))
        titles[section.code] = section.title
    sections: list[SectionResult] = []
    raw = Decimal(0)
    weight_sum = Decimal(0)
    scored = total = 0
    for code, rows in by_section.items():
        got = sum((p for _, p in rows if p is not None), Decimal(0))
        maximum = sum((dec(i.points) for i, _ in rows), Decimal(0))
        n_scored = sum(1 for _, p in rows if p is not None)
        w = dec(weights.get(code, 0))
        complete = n_scored == len(rows)
        sections.append(
            SectionResult(
                code=code,
                title=titles[code],
                weight=w,
                points=r2(got),
                max_points=maximum,
                percent=r2(got * HUNDRED / maximum) if complete and maximum else None,
                scored_items=n_scored,
                items=len(rows),
            )
        )
        if maximum:
            raw += w * got / maximum
            weight_sum += w
        scored += n_scored
        total += len(rows)
    veto_items = sorted(set(vetoed))
    if scored < total or not weight_sum:
        return SheetResult(sections, None, None, None, veto_items, scored, total)
    score = r2(raw * HUNDRED / weight_sum)
    grade = grade_for(score, rubric)
    capped = cap_grade(grade, rubric.veto_grade, rubric) if veto_items else grade
    return SheetResult(sections, score, capped, grade, veto_items, scored, total)


# --- districts -----------------------------------------------------------------------------------


@dataclass
class CompositeResult:
    own_score: Decimal | None
    grassroots_mean: Decimal | None
    grassroots_count: int
    own_weight: Decimal
    grassroots_weight: Decimal
    composite: Decimal | None
    complete: bool


def composite(
    own: Decimal | None, grassroots: Sequence[Decimal], rubric: RubricDefinition
) -> CompositeResult:
    """A district's composite: own_weight % of its own section-A score + grassroots_weight % of its sites' mean.

    When one part is missing the other carries the whole weight and the result is marked incomplete.
    """
    mean = sum(grassroots, Decimal(0)) / len(grassroots) if grassroots else None
    return composite_of_mean(own, mean, len(grassroots), rubric)


def composite_of_mean(
    own: Decimal | None, mean: Decimal | None, count: int, rubric: RubricDefinition
) -> CompositeResult:
    """`composite` given the grassroots mean (exact, unrounded) and how many sites it covers."""
    cw = rubric.composite
    ow, gw = dec(cw.own_weight), dec(cw.grassroots_weight)
    present = [(w, v) for w, v in ((ow, own), (gw, mean)) if v is not None]
    value: Decimal | None = None
    if present:
        wsum = sum((w for w, _ in present), Decimal(0))
        value = r2(sum((w * v for w, v in present), Decimal(0)) / wsum) if wsum else None
    return CompositeResult(
        own_score=own,
        grassroots_mean=r2(mean) if mean is not None else None,
        grassroots_count=count,
        own_weight=ow,
        grassroots_weight=gw,
        composite=value,
        complete=len(present) == 2,
    )


def competition_ranks(values: Sequence[object | None]) -> list[int | None]:
    """Standard competition ranks ("1224") for values sorted best first; equal values share a rank.

    A value may be a tuple such as (vetoed, incomplete, score): entries share a rank only when all equal.
    """
    ranks: list[int | None] = []
    prev: object | None = None
    prev_rank = 0
    for i, v in enumerate(values):
        if v is None:
            ranks.append(None)
            continue
        if prev is None or v != prev:
            prev_rank = i + 1
            prev = v
        ranks.append(prev_rank)
    return ranks
