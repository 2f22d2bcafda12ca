"""Rectification (整改): Problems (问题清单), countdown schedules (倒排时间表), reminders and escalation."""

__version__ = "0.1.0"
