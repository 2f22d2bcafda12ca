"""A Server-Sent Events parser (the WHATWG event-stream format) over lines of text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent", "iter_events"]


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: `event` defaults to "message"; `id` is the last id seen so far."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Fed one line at a time (without its line ending); returns an event when a blank line ends one.

    Comments (`:` lines, the server's keep-alives) are skipped; an event the stream ends in the
    middle of (no blank line after it) is never returned.
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self.last_id: str | None = None

    def feed(self, raw: str) -> ServerSentEvent | None:
        line = raw.rstrip("\r\n")
        if not line:
            if not self._data:
                self._event, self._retry = "", None
                return None
            event = ServerSentEvent(
                data="\n".join(self._data), event=self._event or "message", id=self.last_id, retry=self._retry
            )
            self._data, self._event, self._retry = [], "", None
            return event
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from the stream's lines (without their line endings)."""
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
