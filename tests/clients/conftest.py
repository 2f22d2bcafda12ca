"""The running stack for the SDK's tests: tests/e2e's `system` fixture (real processes: the four
services and the gateway on free ports), re-exported here so both suites share one definition."""

from __future__ import annotations

from tests.e2e.conftest import System, system

__all__ = ["System", "system"]
