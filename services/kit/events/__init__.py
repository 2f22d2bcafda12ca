"""The catalogue of event types: one JSON Schema (draft 2020-12) per event type and version.

Every event a service puts in its outbox, and every event notify takes in, is described by a data
file ``schemas/<type>.v<version>.json`` beside this module. :func:`catalogue` lists them (the newest
version of each type), :func:`schema` reads one, and :func:`validate` checks a payload (an event's
``data``) against it; validators are compiled once per type and version and cached.

The rules the files follow (docs/events.md, "Event contracts"):

- **Strict.** Every object has ``additionalProperties: false``: a producer that sends a field the
  schema does not describe fails, so no field travels undocumented. A field is added by editing the
  schema in the same change as the producer (a backward-compatible change: same version).
- **Versions.** A change a receiver could trip on (a field removed, renamed, retyped, or newly
  required of an old producer) is a new file ``<type>.v<N+1>.json``; the old version stays as long as
  events of it may still be in flight. The envelope carries the version (``version``, see
  :func:`version_of`); a receiver validates against the version named, and refuses one it does not know.
- **Text people read is never empty**: such fields have ``minLength: 1`` (a template would otherwise
  print 「请于 期限 前完成整改」).
- Annotations ``x-title`` (Chinese name), ``x-producer``, ``x-target`` and ``x-path`` (where the
  outbox sends it) and ``x-audiences`` feed the generated documentation (``python -m services.eventdoc``).
- **Fact events** (``x-target: reporting``, :attr:`EventSchema.fact`) carry no ``recipients`` nor
  ``priority``: each is a full snapshot of one entity with a ``revision`` that grows with every
  change, so the receiver keeps the highest and a replay gives the same read model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, ValidationError

SCHEMA_DIR = Path(__file__).parent / "schemas"
_FILE = re.compile(r"^(?P<type>[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)\.v(?P<version>[1-9][0-9]*)\.json$")

# Fields notify reads itself from an event's data (who hears it, how urgent, not before when).
ENVELOPE_FIELDS = frozenset({"recipients", "priority", "not_before"})
# The receiver of fact events (``x-target``): full snapshots of a round's sample, a score sheet, a
# results version or a problem, each with a revision, for reporting's read model.
FACT_TARGET = "reporting"


@dataclass(frozen=True)
class EventSchema:
    """One version of one event type."""

    type: str
    version: int
    schema: Mapping[str, Any]

    @property
    def title(self) -> str:
        """The Chinese name of the event type."""
        return str(self.schema.get("x-title", self.type))

    @property
    def description(self) -> str:
        return str(self.schema.get("description", ""))

    @property
    def target(self) -> str:
        """The service the outbox sends it to (``notify``, ``rectification``, ``reporting``)."""
        return str(self.schema.get("x-target", "notify"))

    @property
    def fact(self) -> bool:
        """A fact event: a snapshot of an entity for reporting's read model, heard by no person
        (no ``recipients`` nor ``priority``; notify neither takes it in nor passes it to webhooks)."""
        return self.target == FACT_TARGET

    @property
    def path(self) -> str:
        """The receiver's path the outbox POSTs it to."""
        return str(self.schema.get("x-path", "/events"))

    @property
    def producer(self) -> str:
        return str(self.schema.get("x-producer", ""))

    @property
    def examples(self) -> list[dict[str, Any]]:
        """Complete sample payloads (the first is notify's sample for templates)."""
        return [dict(e) for e in self.schema.get("examples", [])]


@dataclass(frozen=True)
class Violation:
    """One way a payload breaks its schema: where (a JSON path into the payload) and what."""

    path: tuple[str | int, ...]
    message: str

    @property
    def where(self) -> str:
        return json_path(self.path)


def json_path(path: Sequence[str | int]) -> str:
    """``$.visits[0].site.name`` for ("visits", 0, "site", "name")."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class EventContractError(ValueError):
    """An event that breaks the catalogue: a producer bug (or a sender's, at a receiver)."""

    def __init__(self, event_type: str, message: str) -> None:
        super().__init__(message)
        self.event_type = event_type


class UnknownEventType(EventContractError):
    """The catalogue has no schema for the event type."""

    def __init__(self, event_type: str) -> None:
        super().__init__(
            event_type,
            f"Unknown event type {event_type!r}: add services/kit/events/schemas/{event_type}.v1.json",
        )


class UnknownEventVersion(EventContractError):
    """The catalogue has the event type, but not that version of it."""

    def __init__(self, event_type: str, version: int, known: Sequence[int]) -> None:
        super().__init__(
            event_type,
            f"Unknown version {version} of event type {event_type!r} (known: {', '.join(map(str, known))})",
        )
        self.version = version
        self.known = list(known)


class InvalidEventPayload(EventContractError):
    """The payload does not match its event type's schema; `violations` says where and how."""

    def __init__(self, event_type: str, version: int, violations: Sequence[Violation]) -> None:
        lines = "; ".join(f"{v.where}: {v.message}" for v in violations[:10])
        if len(violations) > 10:
            lines += f"; and {len(violations) - 10} more"
        super().__init__(event_type, f"Event {event_type!r} (schema v{version}) is invalid: {lines}")
        self.version = version
        self.violations = list(violations)


# Schemas registered by tests on top of the files (see :func:`registered`).
_extra: dict[tuple[str, int], Mapping[str, Any]] = {}


@functools.cache
def _files() -> dict[tuple[str, int], Mapping[str, Any]]:
    out: dict[tuple[str, int], Mapping[str, Any]] = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        m = _FILE.match(path.name)
        if m is None:
            raise RuntimeError(f"{path}: event schema files are named <type>.v<version>.json")
        out[(m["type"], int(m["version"]))] = orjson.loads(path.read_bytes())
    return out


def _all() -> dict[tuple[str, int], Mapping[str, Any]]:
    return {**_files(), **_extra} if _extra else _files()


def versions(event_type: str) -> list[int]:
    """The versions of `event_type` in the catalogue, oldest first (empty: unknown type)."""
    return sorted(v for t, v in _all() if t == event_type)


def schema(event_type: str, version: int | None = None) -> EventSchema:
    """One version of `event_type` (default: the newest); UnknownEventType / UnknownEventVersion."""
    known = versions(event_type)
    if not known:
        raise UnknownEventType(event_type)
    v = known[-1] if version is None else version
    if v not in known:
        raise UnknownEventVersion(event_type, v, known)
    return EventSchema(event_type, v, _all()[(event_type, v)])


def catalogue() -> dict[str, EventSchema]:
    """Every event type, at its newest version, by type name (sorted)."""
    return {t: schema(t) for t in sorted({t for t, _ in _all()})}


def all_versions() -> list[EventSchema]:
    """Every version of every event type, by type then version."""
    return [EventSchema(t, v, s) for (t, v), s in sorted(_all().items())]


@functools.cache
def _validator(event_type: str, version: int) -> Draft202012Validator:
    """The validator that names each violation (jsonschema)."""
    return Draft202012Validator(_all()[(event_type, version)])


@functools.cache
def _fast(event_type: str, version: int) -> Callable[[Any], bool]:
    """A yes/no check: jsonschema-rs when installed (about 100 times faster), else jsonschema.

    A valid payload (nearly every one) costs a few microseconds; only an invalid one goes through
    :func:`_validator` to be explained. tests/kit/test_events.py checks both agree on every schema.
    """
    try:
        import jsonschema_rs  # optional: falls back to jsonschema
    except ImportError:  # pragma: no cover - jsonschema-rs is in the locked environment
        slow: Callable[[Any], bool] = _validator(event_type, version).is_valid
        return slow
    fast: Callable[[Any], bool] = jsonschema_rs.validator_for(dict(_all()[(event_type, version)])).is_valid
    return fast


def violations(event_type: str, data: Any, version: int | None = None) -> tuple[int, list[Violation]]:
    """(the version checked, every violation of it) for `data` as a payload of `event_type`."""
    v = schema(event_type, version).version
    if _fast(event_type, v)(data):
        return v, []
    found: dict[tuple[tuple[str | int, ...], str], None] = {}
    for e in _validator(event_type, v).iter_errors(data):
        for violation in _named(e):
            found.setdefault((violation.path, violation.message), None)
    return v, sorted((Violation(*k) for k in found), key=lambda x: (list(map(str, x.path)), x.message))


def _named(error: ValidationError) -> list[Violation]:
    """A violation per field: a missing or undocumented field is named in the path, not the message."""
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        return [Violation((*path, p), "required") for p in error.validator_value if p not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        return [
            Violation((*path, p), "not in the event type's schema (an undocumented field)")
            for p in instance
            if p not in known
        ]
    if error.validator == "not" and error.validator_value == {}:
        return [Violation(path, str(error.schema.get("description") or "not allowed here"))]
    return [Violation(path, error.message)]


def validate(event_type: str, data: Any, version: int | None = None) -> int:
    """Check `data` against `event_type`'s schema (default: the newest version); returns the version.

    Raises UnknownEventType, UnknownEventVersion, or InvalidEventPayload naming each bad field by its
    JSON path (``$.visits[0].site.name: '' should be non-empty``).
    """
    v, found = violations(event_type, data, version)
    if found:
        raise InvalidEventPayload(event_type, v, found)
    return v


def version_of(event_type: str, data: Any) -> int | None:
    """The schema version an outbox envelope names: the newest version `data` satisfies.

    With one version (every type today) that is it, unchecked (the payload was validated when it was
    enqueued). With several, an event enqueued before a deploy that added v2 still goes out as v1.
    None for a type the catalogue does not have.
    """
    known = versions(event_type)
    if not known:
        return None
    if len(known) == 1:
        return known[0]
    for v in reversed(known):
        if _fast(event_type, v)(data):
            return v
    return known[-1]


@contextmanager
def registered(event_type: str, schema_: Mapping[str, Any], version: int = 1) -> Iterator[None]:
    """Add a schema for the duration of a test (the kit's own tests use made-up event types)."""
    key = (event_type, version)
    _extra[key] = schema_
    _clear()
    try:
        yield
    finally:
        _extra.pop(key, None)
        _clear()


def _clear() -> None:
    _validator.cache_clear()
    _fast.cache_clear()


ANY_OBJECT: Mapping[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
"""A schema any JSON object satisfies: for a test's made-up event type."""
