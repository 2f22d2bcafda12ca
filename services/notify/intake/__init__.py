"""Intake: domain events from the other services' outboxes and notification requests, accepted once each."""
