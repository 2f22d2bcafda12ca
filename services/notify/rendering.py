"""Jinja2 rendering in a sandbox: strict for saved templates, with the failing line on error."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from types import TracebackType
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError, TemplateSyntaxError, Undefined
from jinja2.environment import Template
from jinja2.sandbox import SandboxedEnvironment


def cn_date(value: Any) -> Any:
    """A Beijing date as events carry it (2026-03-10) as people read it: 3月10日. Anything else as is."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    return f"{day.month}月{day.day}日" if day else value


FILTERS: dict[str, Any] = {"cn_date": cn_date}
"""Filters every template may use (built-in and saved)."""


def environment(undefined: type[Undefined]) -> SandboxedEnvironment:
    """A sandboxed environment with notify's filters."""
    env = SandboxedEnvironment(undefined=undefined, autoescape=False)
    env.filters.update(FILTERS)
    return env


_strict = environment(StrictUndefined)
# Built-in templates must survive senders that leave optional fields out.
_lenient = environment(ChainableUndefined)


class TemplateProblem(Exception):
    """A template that does not compile or render; `line` is the template line, when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def describe(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@functools.lru_cache(maxsize=1024)
def _compile(source: str, strict: bool) -> Template:
    return (_strict if strict else _lenient).from_string(source)


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def compile_template(source: str, *, strict: bool = True) -> Template:
    try:
        return _compile(source, strict)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), exc.lineno) from exc


def render(source: str, context: Mapping[str, Any], *, strict: bool = True) -> str:
    """Render `source` with `context`; raise TemplateProblem naming the line that failed."""
    template = compile_template(source, strict=strict)
    try:
        return template.render(context).strip()
    except TemplateError as exc:
        raise TemplateProblem(str(exc), _template_line(exc.__traceback__)) from exc
    except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as exc:
        raise TemplateProblem(f"{type(exc).__name__}: {exc}", _template_line(exc.__traceback__)) from exc
