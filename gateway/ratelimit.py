"""Rate limits, per gateway replica (with N replicas the effective limits are N×).

A token bucket per principal, and a count of failed authentications per client address.
"""

from __future__ import annotations

import math
import time
from collections import deque
from datetime import datetime, timedelta

from services.kit.clock import Clock
from services.kit.errors import TooManyRequests


class RateLimiter:
    def __init__(self, *, per_minute: int, burst: int, enabled: bool = True) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.enabled = enabled
        self.buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        """Take one token for `key`, or raise 429 with the seconds until one is available."""
        if not self.enabled:
            return
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            retry = max(1, math.ceil((1.0 - tokens) / self.rate))
            raise TooManyRequests(
                f"Rate limit of {round(self.rate * 60)} requests per minute exceeded; retry in {retry}s",
                zh=f"已超过每分钟 {round(self.rate * 60)} 次请求的限制，请 {retry} 秒后重试",
                headers={"Retry-After": str(retry)},
                retry_after=retry,
            )
        self.buckets[key] = (tokens - 1.0, now)
        if len(self.buckets) > 100_000:  # forget idle callers rather than grow without bound
            cutoff = now - self.burst / max(self.rate, 1e-9)
            self.buckets = {k: v for k, v in self.buckets.items() if v[1] > cutoff}


class FailedAuthLimiter:
    """Failed authentications per client address in a sliding one-minute window.

    After `per_minute` failures an address gets 429 for every request until the oldest failure is a
    minute old: guessing tokens, API keys or calendar-feed tokens costs a minute per `per_minute`
    tries. Time comes from the injectable clock. `per_minute <= 0` switches the limit off.
    """

    WINDOW = timedelta(minutes=1)

    def __init__(self, *, per_minute: int, clock: Clock) -> None:
        self.limit = per_minute
        self.clock = clock
        self.failures: dict[str, deque[datetime]] = {}

    def _recent(self, address: str, now: datetime) -> deque[datetime] | None:
        seen = self.failures.get(address)
        if seen is None:
            return None
        while seen and seen[0] <= now - self.WINDOW:
            seen.popleft()
        if not seen:
            del self.failures[address]
            return None
        return seen

    def check(self, address: str) -> None:
        """Raise 429 while `address` has used up its failures for the window."""
        if self.limit <= 0:
            return
        now = self.clock.now()
        seen = self._recent(address, now)
        if seen is not None and len(seen) >= self.limit:
            retry = max(1, math.ceil((seen[0] + self.WINDOW - now).total_seconds()))
            raise TooManyRequests(
                f"Too many failed authentications from your address; retry in {retry}s",
                zh=f"来自您地址的身份认证失败次数过多，请 {retry} 秒后重试",
                headers={"Retry-After": str(retry)},
                retry_after=retry,
            )

    def record(self, address: str) -> None:
        """Count one failed authentication for `address`."""
        if self.limit <= 0:
            return
        now = self.clock.now()
        seen = self._recent(address, now)
        if seen is None:
            if len(self.failures) > 100_000:  # forget the oldest addresses rather than grow
                for key in list(self.failures)[: len(self.failures) // 2]:
                    del self.failures[key]
            seen = self.failures[address] = deque(maxlen=self.limit)
        seen.append(now)
