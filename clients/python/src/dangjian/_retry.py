"""When to retry and how long to wait: exponential backoff, capped, honouring Retry-After."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

__all__ = ["RetryPolicy", "delay_after_error", "delay_after_response", "parse_retry_after"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers that say the request was not processed at all: safe to repeat any write.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
# Failures that happen before the request left this machine: nothing was processed.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How a `Client` retries.

    - `attempts`: tries in all, the first included (1 = never retry).
    - Waits `backoff` x 2^(n-1) seconds before retry n, at most `max_backoff`; with `jitter`, a
      random 50-100 % of that (so many scripts do not retry in step).
    - A `Retry-After` header (429, 503) is honoured as given, up to `max_retry_after`; a longer
      wait than that is not attempted and the error is raised.
    - Retried: 429, 502, 503, 504 and connection errors. A write is retried after a 502/504 or a
      dropped connection only when it is safe to repeat (an idempotent route, or one that honours
      `Idempotency-Key`); after 429/503 or a refused connection (nothing processed) always.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    jitter: bool = True
    statuses: frozenset[int] = field(default=RETRY_STATUSES)
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, retry: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number `retry` (1-based); None when not worth waiting."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        wait = min(self.max_backoff, self.backoff * (2.0 ** (retry - 1)))
        if self.jitter:
            wait *= 0.5 + 0.5 * self.rand()
        return wait


NO_RETRY = RetryPolicy(attempts=1)


def delay_after_error(
    policy: RetryPolicy, attempt: int, exc: httpx.TransportError, *, safe: bool
) -> float | None:
    """Seconds to wait before trying again after try `attempt` failed without an answer; None: give up."""
    if attempt >= policy.attempts or not (safe or isinstance(exc, NOT_SENT)):
        return None
    return policy.delay(attempt) or 0.0


def delay_after_response(
    policy: RetryPolicy, attempt: int, response: httpx.Response, *, safe: bool
) -> float | None:
    """Seconds to wait before trying again after an error answer to try `attempt`; None: raise it."""
    status = response.status_code
    if status not in policy.statuses or attempt >= policy.attempts:
        return None
    if not (safe or status in NOT_PROCESSED_STATUSES):
        return None
    return policy.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
