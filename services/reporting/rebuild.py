"""Rebuild the read model from the event store: ``python -m services.reporting rebuild``."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("rebuild: not implemented yet")
