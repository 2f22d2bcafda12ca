"""Per-request context shared by logging, errors and outgoing HTTP calls."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
