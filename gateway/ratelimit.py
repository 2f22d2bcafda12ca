"""A token bucket per principal (per gateway replica: with N replicas the effective limit is N×)."""

from __future__ import annotations

import math
import time

from services.kit.errors import TooManyRequests


class RateLimiter:
    def __init__(self, *, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        """Take one token for `key`, or raise 429 with the seconds until one is available."""
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            retry = max(1, math.ceil((1.0 - tokens) / self.rate))
            raise TooManyRequests(
                f"Rate limit of {round(self.rate * 60)} requests per minute exceeded; retry in {retry}s",
                headers={"Retry-After": str(retry)},
                retry_after=retry,
            )
        self.buckets[key] = (tokens - 1.0, now)
        if len(self.buckets) > 100_000:  # forget idle callers rather than grow without bound
            cutoff = now - self.burst / max(self.rate, 1e-9)
            self.buckets = {k: v for k, v in self.buckets.items() if v[1] > cutoff}
