"""The countdown's light and its SQL form."""

from datetime import UTC, date, datetime, timedelta

from services.kit.workdays import end_of_local_day
from services.rectification.countdown import light_bounds, light_for


class TestLight:
    NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)

    def test_thresholds(self):
        def light(days: int) -> str | None:
            return light_for(
                end_of_local_day(date(2026, 1, 5) + timedelta(days=days)), self.NOW, yellow_days=7, red_days=3
            )

        assert [light(d) for d in (0, 3, 4, 7, 8, 30)] == ["red", "red", "yellow", "yellow", "green", "green"]
        assert light_for(self.NOW - timedelta(seconds=1), self.NOW, yellow_days=7, red_days=3) == "overdue"

    def test_sql_bounds_agree_with_the_light(self):
        for hours in range(-30, 24 * 12, 5):
            due = self.NOW + timedelta(hours=hours)
            light = light_for(due, self.NOW, yellow_days=7, red_days=3)
            assert light is not None
            low, high = light_bounds(light, self.NOW, yellow_days=7, red_days=3)
            assert (low is None or due >= low) and (high is None or due < high), (hours, light)
