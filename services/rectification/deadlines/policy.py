"""The tunable parts of the rectification rules, from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.rectification.config import Settings


@dataclass(frozen=True)
class Policy:
    """The tunable parts of the rules (from settings)."""

    yellow_days: int = 7
    red_days: int = 3
    reminder_offsets_days: tuple[int, ...] = (7, 3, 1, 0)
    escalation_first_after: timedelta = timedelta(hours=9)
    escalation_repeat: timedelta = timedelta(days=7)
    max_extensions: int = 2


def policy_from(settings: Settings) -> Policy:
    """The policy the service's settings describe (reminder offsets latest first)."""
    return Policy(
        yellow_days=settings.light_yellow_days,
        red_days=settings.light_red_days,
        reminder_offsets_days=tuple(sorted(set(settings.reminder_offsets_days), reverse=True)),
        escalation_first_after=timedelta(hours=settings.escalation_first_after_hours),
        escalation_repeat=timedelta(days=settings.escalation_repeat_days),
        max_extensions=settings.max_extensions,
    )
