"""services.kit.clock: time that tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.kit.clock import FrozenClock, OffsetClock, SystemClock

T0 = datetime(2026, 10, 9, 1, 30, tzinfo=UTC)


class TestFrozenClock:
    def test_stands_still_until_told(self) -> None:
        clock = FrozenClock(T0)
        assert clock.now() == clock.now() == T0

    def test_advance_and_set(self) -> None:
        clock = FrozenClock(T0)
        assert clock.advance(hours=2, minutes=30) == T0 + timedelta(hours=2, minutes=30)
        clock.set(T0)
        assert clock.now() == T0

    def test_refuses_a_naive_start(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            FrozenClock(datetime(2026, 1, 1))

    def test_has_a_fixed_default(self) -> None:
        assert FrozenClock().now() == FrozenClock().now()
        assert FrozenClock().now().tzinfo is not None


class TestWallClocks:
    def test_system_clock_is_utc_and_near_now(self) -> None:
        now = SystemClock().now()
        assert now.tzinfo == UTC
        assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)

    def test_offset_clock_moves_by_its_offset(self) -> None:
        clock = OffsetClock(timedelta(days=3))
        assert abs(clock.now() - (SystemClock().now() + timedelta(days=3))) < timedelta(minutes=1)
        clock.offset = timedelta(0)
        assert abs(clock.now() - SystemClock().now()) < timedelta(minutes=1)
