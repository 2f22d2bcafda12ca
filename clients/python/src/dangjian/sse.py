"""A Server-Sent Events parser (the WHATWG event-stream format) over lines of text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["ServerSentEvent", "iter_events"]


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: `event` defaults to "message"; `id` is the last id seen so far."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from the stream's lines (without their line endings); comments are skipped."""
    data: list[str] = []
    event = ""
    last_id: str | None = None
    retry: int | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(data="\n".join(data), event=event or "message", id=last_id, retry=retry)
            data, event, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    # An event the stream ends in the middle of (no blank line after it) is not dispatched.
