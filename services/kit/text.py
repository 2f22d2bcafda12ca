"""Input text that every export, log and document can carry safely.

NUL and other control characters stored in a name break every XLSX export that covers it (openpyxl
refuses them) and make logs and documents lie about what they show. They are refused where text
enters, with the field named. Request models inherit :class:`InputModel`, which checks every string
it holds (nested lists and dicts included), every integer's range (so a huge number never reaches the
database or a JSON encoder), and how deep free-form JSON nests.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

# C0 controls except TAB, LF and CR; DEL; C1 controls. TAB/LF/CR are kept for multi-line text
# (descriptions, notes); exports neutralise a cell that *starts* with one (see kit.exports).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 32


def control_character(value: str) -> str | None:
    """The first forbidden control character in `value`, as ``U+0000``, or None."""
    m = _CONTROL.search(value)
    return None if m is None else f"U+{ord(m.group()):04X}"


def check_text(value: str) -> str:
    """Return `value`, or raise ValueError if it holds a control character."""
    bad = control_character(value)
    if bad is not None:
        raise ValueError(f"text may not contain control characters ({bad})")
    return value


def check_value(value: Any, *, depth: int = 0) -> None:
    """Raise ValueError for a control character, an integer outside 64 bits or nesting past the limit."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError("integers must fit in 64 bits")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_value(k, depth=depth + 1)
            check_value(v, depth=depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            check_value(v, depth=depth + 1)
    elif isinstance(value, BaseModel):
        return  # a nested model checked itself


class InputModel(BaseModel):
    """Base of request bodies: no control characters, 64-bit integers, bounded nesting, no unknown
    fields (a misspelt or unsupported field is a 422 naming it, never silently ignored). A field is
    documented by the docstring under it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    @model_validator(mode="after")
    def _safe_values(self) -> InputModel:
        for name in type(self).model_fields:
            try:
                check_value(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self
