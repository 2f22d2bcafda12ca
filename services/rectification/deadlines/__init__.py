"""Deadlines: countdown templates, the holiday calendar, durable timers and the scheduler's tick."""
