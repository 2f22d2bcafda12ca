"""The six services, in one place, for the command line, the dev runner and the tests."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    port: int

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    def config(self) -> ModuleType:
        return importlib.import_module(f"{self.module}.config")

    def settings(self, **overrides: Any) -> Any:
        return self.config().Settings(**overrides)

    def main(self) -> ModuleType:
        return importlib.import_module(f"{self.module}.main")

    @property
    def migrations_dir(self) -> Path:
        return Path(__file__).parent / self.name / "migrations"


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("sampling", 8001),
    ServiceInfo("scoring", 8002),
    ServiceInfo("rectification", 8003),
    ServiceInfo("notify", 8004),
    ServiceInfo("reporting", 8005),
    ServiceInfo("evidence", 8006),
)
BY_NAME = {s.name: s for s in SERVICES}
