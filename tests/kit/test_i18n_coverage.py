"""Every error a service or the gateway raises on purpose has its Chinese (issue 15).

A problem document answers in Chinese when the caller prefers it: the title comes from
services/kit/i18n.py by slug (tests/kit/test_i18n.py), the detail from the raise itself. A raise that
gives no ``zh=`` falls back to 「<中文标题>（<English detail>）」, which is what this test forbids.

It reads the source (an AST scan of services/ and gateway/) and, for each file, resolves every call
against the module's own namespace, so a name that happens to match an error elsewhere (sampling's
``algorithm.TeamsInfeasible`` is a plain exception) is not mistaken for one. It requires:

- ``zh=`` on every construction of a ProblemError subclass that gives a detail (a call with no
  detail at all answers the title, which the catalogue translates: nothing to add);
- ``zh=`` on every ``field_error(...)`` (the kit translates pydantic's own errors by type; a message a
  service wrote itself has no type to translate from);
- ``detail_zh=`` on every ``problem_response(...)`` that answers a request (``request=``);
- ``"msg_zh"`` beside ``"msg"`` in a field error written as a dict literal (``{"loc": …, "msg": …}``;
  the kit's own translation of pydantic's errors in services/kit/errors.py excepted);
- a raise of something it cannot resolve (``raise cls(...)``) must carry ``zh=`` as well;
- a literal ``zh`` (a string or the text parts of an f-string) contains Chinese.

ALLOWED lists the exceptions, each with its reason. Reporting (services/reporting) is scanned like
every other service: its raises need ``zh=`` too.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from services.kit.errors import ProblemError

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("gateway", "services")
CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")  # Chinese, or its punctuation

# (path, the start of the call's source) -> why it needs no Chinese. Keep it short and justified.
# (A problem_response without `request=`, such as the per-event documents of notify's batch intake,
# answers a producing service, never a person, and is not scanned.)
ALLOWED: dict[tuple[str, str], str] = {}
# Folders whose Chinese is still owed (a debt, not a rule): scanned, counted, but not failing the test.
PENDING: tuple[str, ...] = ()


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    kind: str  # "raise" | "field_error" | "problem_response" | "unresolved"
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.source[:120]}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _resolve(expr: ast.expr, namespace: dict[str, Any]) -> Any:
    """The object `expr` (a name or a dotted attribute chain) names in the module, or None."""
    if isinstance(expr, ast.Name):
        if expr.id in namespace:
            return namespace[expr.id]
        return getattr(builtins, expr.id, None)
    if isinstance(expr, ast.Attribute):
        base = _resolve(expr.value, namespace)
        return None if base is None else getattr(base, expr.attr, None)
    return None


def _is_problem(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, ProblemError)


def _callee_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _keywords(call: ast.Call) -> dict[str | None, ast.expr]:
    return {k.arg: k.value for k in call.keywords}


def _literal_text(expr: ast.expr) -> str | None:
    """The text of a literal string or the constant parts of an f-string (None: not a literal)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        return "".join(
            v.value for v in expr.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def scan(source: str, path: str, namespace: dict[str, Any]) -> tuple[list[Site], list[Site]]:
    """(the sites found, those without Chinese) in one module's source."""
    tree = ast.parse(source)
    raised = {id(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None}
    found: list[Site] = []
    missing: list[Site] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            values = {
                k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
            }
            keys = set(values)
            schema = isinstance(values.get("msg"), ast.Dict)  # the OpenAPI schema of an entry, not one
            if {"loc", "msg"} <= keys and not schema and path != "services/kit/errors.py":
                entry = Site(path, node.lineno, "errors entry", ast.unparse(node))
                found.append(entry)
                if "msg_zh" not in keys:
                    missing.append(entry)
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _callee_name(node)
        kw = _keywords(node)
        target = _resolve(node.func, namespace)
        if name == "field_error":
            kind, key = "field_error", "zh"
        elif name == "problem_response":
            if "request" not in kw:
                continue
            kind, key = "problem_response", "detail_zh"
        elif _is_problem(target):
            if not node.args and "detail" not in kw:
                continue  # no detail: the answer is the title, which the catalogue translates
            kind, key = "raise", "zh"
        elif target is None and id(node) in raised and name and name[0].islower():
            kind, key = "unresolved", "zh"  # `raise cls(...)`: cannot tell, so ask for Chinese
        else:
            continue
        site = Site(path, node.lineno, kind, ast.unparse(node))
        found.append(site)
        if any(path == p and site.source.startswith(start) for p, start in ALLOWED):
            continue
        value = kw.get(key)
        if value is None:
            missing.append(site)
            continue
        text = _literal_text(value)
        if text is not None and not CJK.search(text):
            missing.append(Site(path, node.lineno, f"{kind} (zh is not Chinese)", site.source))
    if PENDING and path.startswith(PENDING):
        return found, []  # owed, not failing (see PENDING)
    return found, missing


def _files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted(ROOT.joinpath(top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path


def _namespace(path: Path) -> dict[str, Any]:
    module: ModuleType = importlib.import_module(_module_name(path))
    return vars(module)


def _scan_all() -> tuple[list[Site], list[Site]]:
    found: list[Site] = []
    missing: list[Site] = []
    for path in _files():
        source = path.read_text(encoding="utf-8")
        if "field_error" not in source and "raise" not in source and "problem_response" not in source:
            continue
        f, m = scan(source, str(path.relative_to(ROOT)), _namespace(path))
        found += f
        missing += m
    return found, missing


def test_every_raise_and_field_error_has_chinese() -> None:
    found, missing = _scan_all()
    # The scan must see what is there: fewer sites than this means it stopped resolving names.
    assert sum(s.kind == "raise" for s in found) > 200
    assert sum(s.kind == "field_error" for s in found) > 80
    assert not missing, "raises without a Chinese detail (give zh=…):\n" + "\n".join(map(str, missing))


def test_every_allowance_is_still_needed() -> None:
    found, _ = _scan_all()
    for path, start in ALLOWED:
        assert any(s.path == path and s.source.startswith(start) for s in found), (path, start)


# The scanner itself, on a module of its own.
_NS: dict[str, Any] = {}
exec(
    "from services.kit.errors import NotFound, Conflict, field_error, problem_response\n"
    "from services.kit import errors\n"
    "class Plain(Exception): ...\n",
    _NS,
)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("raise NotFound(f'No round {c}')", ["raise"]),
        ("raise NotFound(f'No round {c}', zh=f'没有督查轮次 {c}')", []),
        ("raise errors.Conflict('x', zh='冲突')", []),
        ("raise errors.Conflict('x')", ["raise"]),
        ("raise NotFound()", []),  # the title only
        ("raise Plain('not a problem')", []),
        ("raise NotFound('x', zh='still English')", ["raise (zh is not Chinese)"]),
        ("raise NotFound('x', zh=f'{what}')", ["raise (zh is not Chinese)"]),
        ("raise NotFound('x', zh=detail_zh)", []),  # a variable: its builder is checked where it is built
        ("e = field_error(['body', 'a'], 'bad')", ["field_error"]),
        ("e = field_error(['body', 'a'], 'bad', zh='无效')", []),
        ("r = problem_response(status=1, slug='s', title='t', detail='d', request=q)", ["problem_response"]),
        ("r = problem_response(status=1, slug='s', title='t', detail='d')", []),
        ("raise cls(reason)", ["unresolved"]),
        ("raise cls(reason, zh=reason)", []),
        ("err = NotFound('x')", ["raise"]),  # built for a later raise: same rule
        ("e = {'loc': ['body'], 'msg': 'bad', 'type': 't'}", ["errors entry"]),
        ("e = {'loc': ['body'], 'msg': 'bad', 'type': 't', 'msg_zh': '无效'}", []),
    ],
)
def test_the_scanner(source: str, flagged: list[str]) -> None:
    _, missing = scan(source, "m.py", _NS)
    assert [s.kind for s in missing] == flagged


def _status_and_action_tables() -> list[tuple[str, set[str], dict[str, str]]]:
    """(a service folder, the helpers there whose string arguments name an action, their Chinese)."""
    from services.notify import scope as notify_scope
    from services.rectification import errors as rectification_errors
    from services.rectification.deadlines import access as deadline_access
    from services.sampling import errors as sampling_errors
    from services.scoring import roles as scoring_roles

    return [
        ("services/sampling", {"require_status"}, sampling_errors.ROUND_ACTIONS_ZH),
        ("services/scoring", {"require_city_wide", "require_editor"}, scoring_roles.ACTIONS_ZH),
        (
            "services/rectification",
            {"require", "require_state", "require_responsible", "require_verifier", "require_issuing_admin"},
            rectification_errors.ACTIONS_ZH,
        ),
        ("services/rectification/deadlines", {"require_city_wide"}, deadline_access._WHAT_ZH),
        ("services/notify", {"require_city_wide"}, notify_scope._ACTIONS_ZH),
    ]


def test_every_action_a_detail_names_has_chinese() -> None:
    """Details that interpolate an action ("Cannot {action}: …") look it up in a table: a new action
    without its Chinese would fall back to English inside the Chinese sentence."""
    untranslated = []
    seen = 0
    for folder, names, table in _status_and_action_tables():
        for path in sorted(ROOT.joinpath(folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or _callee_name(node) not in names:
                    continue
                args = [*node.args, *(k.value for k in node.keywords)]
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        seen += 1
                        if arg.value not in table:
                            untranslated.append(f"{path.relative_to(ROOT)}:{node.lineno}: {arg.value!r}")
    assert seen > 20
    assert not untranslated, "actions without Chinese in their table:\n" + "\n".join(untranslated)


def test_every_status_has_chinese() -> None:
    from services.rectification import errors as rectification_errors
    from services.rectification.enums import ExtensionStatus, Status
    from services.sampling import errors as sampling_errors
    from services.sampling.enums import RoundStatus
    from services.scoring import errors as scoring_errors
    from services.scoring.enums import SheetStatus

    assert {str(s) for s in RoundStatus} <= set(sampling_errors.ROUND_STATUS_ZH)
    assert {str(s) for s in SheetStatus} <= set(scoring_errors.SHEET_STATUS_ZH)
    assert {str(s) for s in Status} <= set(rectification_errors.PROBLEM_STATUS_ZH)
    assert {str(s) for s in ExtensionStatus} <= set(rectification_errors.EXTENSION_STATUS_ZH)
