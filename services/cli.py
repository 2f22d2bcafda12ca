"""Operations from the command line: ``python -m services.cli migrate [SERVICE...]`` and
``python -m services.cli revision SERVICE -m MESSAGE`` (autogenerate a migration from the models).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from alembic import command

from services.kit.db import make_engine
from services.kit.migrations import alembic_config, upgrade_to_head
from services.registry import BY_NAME, SERVICES


def _selected(names: list[str]) -> list[str]:
    return names or [s.name for s in SERVICES]


async def _migrate(names: list[str]) -> None:
    for name in _selected(names):
        info = BY_NAME[name]
        settings = info.settings()
        engine = make_engine(settings.database_url)
        try:
            await upgrade_to_head(engine, info.migrations_dir)
        finally:
            await engine.dispose()
        print(f"{name}: migrated ({engine.url.render_as_string(hide_password=True)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("migrate", help="apply every pending migration (all services, or those named)")
    m.add_argument("service", nargs="*", help="service names (default: all)")
    r = sub.add_parser("revision", help="autogenerate a migration for one service from its models")
    r.add_argument("service", choices=list(BY_NAME))
    r.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "migrate":
        asyncio.run(_migrate(args.service))
    elif args.cmd == "revision":
        info = BY_NAME[args.service]
        cfg = alembic_config(info.migrations_dir, info.settings().database_url)
        command.revision(cfg, message=args.message, autogenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
