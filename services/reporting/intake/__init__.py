"""Intake: the other services' fact events, stored once each (append-only) and projected at once."""
