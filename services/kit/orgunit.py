"""Org-unit paths: one grammar, one notion of "inside", one escaped SQL prefix filter.

An org unit is a path from the city down: ``<city>/<district>/<town>/<site>``, e.g.
``<city>/<district>/<town>/<site>`` path such as ``city/district-a/town-b/site-c``. Every scope (a user's, an API key's) is such a path, and a caller
sees a row when the row's unit equals the scope or lies below it. The city root is configuration
(``CITY_ROOT``), not a literal: the same code serves another city, and the kit has no default —
a process that is not told its city refuses to start (see :mod:`services.kit.settings`).

Segments are ASCII letters, digits, ``_`` and ``-``; codes keep their case (unified social credit
codes carry capitals). ``%``, ``_``-wildcards and ``\\`` therefore never need to be trusted in SQL:
:func:`under` escapes the prefix anyway, so a scope ``city/_______`` matches only the literal
segment ``_______`` and nothing else. Examples here use the placeholder root ``city``.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import ColumnElement, false, or_

MAX_DEPTH = 6
MAX_LENGTH = 400

_SEGMENT = r"[A-Za-z0-9_\-]{1,64}"
# The grammar every org-unit field's JSON Schema carries. The first segment is a city slug;
# whether it is *this* city is checked at run time against the configured root.
ORG_UNIT_PATTERN = rf"^[a-z][a-z0-9_\-]{{0,63}}(/{_SEGMENT}){{0,{MAX_DEPTH - 1}}}$"
_ORG_UNIT_RE = re.compile(ORG_UNIT_PATTERN)

CITY_ROOT_PATTERN = r"^[a-z][a-z0-9_\-]{0,63}$"

_city_root: str | None = None


class CityRootNotConfigured(RuntimeError):
    """An org unit was needed before the process was told its city (``CITY_ROOT``)."""


def set_city_root(root: str) -> None:
    """Configure the city root for this process (called by the app factories from settings)."""
    global _city_root
    if not re.fullmatch(CITY_ROOT_PATTERN, root):
        raise ValueError(f"CITY_ROOT {root!r} must be one lower-case slug such as 'city'")
    _city_root = root


def city_root() -> str:
    """The configured city root, e.g. ``city``; raises when none was configured.

    Configured by the process's settings (reading them sets it) or, for code that runs before any
    settings are read (a module-level constant in a script), by the ``CITY_ROOT`` environment
    variable the settings would read.
    """
    if _city_root is None and os.environ.get("CITY_ROOT"):
        set_city_root(os.environ["CITY_ROOT"])
    if _city_root is None:
        raise CityRootNotConfigured(
            "CITY_ROOT is not configured: set the CITY_ROOT environment variable (one lower-case slug) "
            "before the process starts"
        )
    return _city_root


def parse(unit: str) -> str:
    """Return `unit` normalised, or raise ValueError naming what is wrong with it."""
    if not isinstance(unit, str):
        raise ValueError("an org unit is a string such as 'city/district'")
    if len(unit) > MAX_LENGTH:
        raise ValueError(f"an org unit is at most {MAX_LENGTH} characters")
    root = city_root()
    if not _ORG_UNIT_RE.fullmatch(unit):
        raise ValueError(
            f"{unit[:80]!r} is not an org-unit path: '{root}' then '/'-separated segments of "
            f"letters, digits, '_' or '-' (e.g. '{root}/district/town')"
        )
    if unit.split("/", 1)[0] != root:
        raise ValueError(f"{unit[:80]!r} does not lie in this city ('{root}')")
    return unit


def is_valid(unit: str) -> bool:
    try:
        parse(unit)
    except ValueError:
        return False
    return True


def _after(unit: str) -> str:
    return parse(unit)


def _example(schema: dict[str, Any]) -> None:
    """An example in this city, filled in when the document is built (the kit knows no city)."""
    if _city_root is not None:
        schema["examples"] = [f"{_city_root}/district/town"]


OrgUnit = Annotated[
    str,
    Field(pattern=ORG_UNIT_PATTERN, max_length=MAX_LENGTH, json_schema_extra=_example),
    AfterValidator(_after),
]
"""A request field that must be an org-unit path inside this city."""


def covers(scope: str, unit: str) -> bool:
    """Whether `unit` equals `scope` or lies below it. An empty scope covers nothing."""
    if not scope or not unit:
        return False
    return unit == scope or unit.startswith(scope + "/")


def escape_like(value: str) -> str:
    """`value` as a literal inside a LIKE pattern with ``escape='\\'``."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def under(column: Any, scope: str) -> ColumnElement[bool]:
    """SQL: `column` is `scope` or lies below it (an index-friendly, escaped prefix match)."""
    if not scope:
        return false()
    return or_(column == scope, column.like(escape_like(scope) + "/%", escape="\\"))


def district_unit(district: str) -> str:
    """The org unit of a district or zone slug: ``east`` → ``city/east``."""
    return f"{city_root()}/{district}"


def district_of(unit: str) -> str | None:
    """The district or zone slug a unit lies in (``city/east/town`` → ``east``)."""
    parts = unit.split("/")
    return parts[1] if len(parts) > 1 else None


def is_city_wide(scope: str) -> bool:
    """Whether `scope` is the whole city."""
    return scope == city_root()
