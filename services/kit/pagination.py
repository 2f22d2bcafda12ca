"""Lists: one envelope, one pair of paging parameters, one ``sort`` and one ``q`` for every service.

Every list an API returns is a :class:`Page` ``{items, total, limit, offset}``, paged or not (a short
list that is always returned whole is ``Page.whole(items)``). Endpoints take ``page: PageDep`` (or
``page_params(maximum=...)`` for a different cap), a ``sort`` built by :func:`sort_param` from the
fields the list may be sorted by, and ``q: SearchQuery`` for text search; repositories apply them with
:func:`apply_sort` and :func:`contains`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, or_

from services.kit.errors import UnprocessableEntity, field_error
from services.kit.orgunit import escape_like
from services.kit.params import MAX_OFFSET

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """One page of a list, with how many items match in all."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[T] = Field(description="The items on this page, in the requested order")
    total: int = Field(description="How many items match the filters, over all pages", ge=0)
    limit: int = Field(description="The page size asked for (for a list returned whole: its length)", ge=0)
    offset: int = Field(description="How many matching items come before this page", ge=0)

    @classmethod
    def of(cls, items: Sequence[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=list(items), total=total, limit=params.limit, offset=params.offset)

    @classmethod
    def whole(cls, items: Sequence[T]) -> Page[T]:
        """A list that is never paged (a round's draws, a rubric's levels): all of it on one page."""
        return cls(items=list(items), total=len(items), limit=len(items), offset=0)

    @classmethod
    def slice(cls, items: Sequence[T], params: PageParams) -> Page[T]:
        """Page a list already in memory (computed rankings, aggregated statistics)."""
        return cls(
            items=list(items[params.offset : params.offset + params.limit]),
            total=len(items),
            limit=params.limit,
            offset=params.offset,
        )


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def apply(self, stmt: S) -> S:
        return stmt.limit(self.limit).offset(self.offset)


def page_params(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Callable[..., PageParams]:
    """A dependency reading ``limit`` (1..maximum) and ``offset``."""

    # Defaults, not Annotated: under `from __future__ import annotations` a closure's Annotated
    # metadata would be a string FastAPI cannot resolve.
    def dependency(
        limit: int = Query(
            default, ge=1, le=maximum, description=f"Items per page (1-{maximum}, default {default})"
        ),
        offset: int = Query(0, ge=0, le=MAX_OFFSET, description="How many matching items to skip"),
    ) -> PageParams:
        return PageParams(limit=limit, offset=offset)

    return dependency


PageDep = Annotated[PageParams, Depends(page_params())]
"""``limit`` (1-500, default 50) and ``offset``."""


@dataclass(frozen=True)
class Sort:
    """A validated ``sort``: one field, ascending unless ``descending``."""

    field: str
    descending: bool = False

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field


def sort_param(fields: Sequence[str], default: str) -> Callable[..., Sort]:
    """A ``sort`` query parameter over ``fields``: ``name`` ascending, ``-name`` descending.

    The allowed values are an enum in the OpenAPI document, so generated clients know them.
    """
    choices = [*fields, *(f"-{f}" for f in fields)]
    if default not in choices:
        raise ValueError(f"default sort {default!r} is not one of {choices}")

    def dependency(
        sort: str = Query(
            default,
            description=(
                "Sort order: a field name for ascending, `-` before it for descending; "
                f"one of {', '.join(fields)}"
            ),
            json_schema_extra={"enum": choices},
        ),
    ) -> Sort:
        if sort not in choices:
            raise UnprocessableEntity(
                f"sort must be one of {', '.join(choices)}",
                zh=f"sort 应为以下之一：{', '.join(choices)}",
                errors=[
                    field_error(
                        ["query", "sort"],
                        f"must be one of {', '.join(choices)}",
                        "enum",
                        zh=f"应为以下之一：{', '.join(choices)}",
                    )
                ],
            )
        return Sort(field=sort.removeprefix("-"), descending=sort.startswith("-"))

    return dependency


def apply_sort(
    stmt: S, sort: Sort, columns: Mapping[str, ColumnElement[Any] | Any], *, tiebreak: Any = None
) -> S:
    """Order ``stmt`` by the column ``sort`` names; ``tiebreak`` (usually the id) keeps pages stable."""
    column = columns[sort.field]
    stmt = stmt.order_by(column.desc() if sort.descending else column.asc())
    if tiebreak is not None:
        stmt = stmt.order_by(tiebreak.desc() if sort.descending else tiebreak.asc())
    return stmt


SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Text search: items whose text fields contain this (case-insensitive)",
    ),
]


def contains(q: str, *columns: Any) -> ColumnElement[bool]:
    """Any of ``columns`` contains ``q`` (case-insensitive; ``%`` and ``_`` match themselves)."""
    pattern = f"%{escape_like(q)}%"
    return or_(*(c.ilike(pattern, escape="\\") for c in columns))
