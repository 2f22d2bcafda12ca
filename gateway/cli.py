"""``python -m gateway.cli migrate | token``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.auth import DevIssuer
from gateway.config import Settings
from gateway.main import MIGRATIONS_DIR
from services.kit.auth import ROLES
from services.kit.db import make_engine
from services.kit.migrations import upgrade_to_head


async def _migrate(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
    finally:
        await engine.dispose()
    print(f"gateway: migrated ({engine.url.render_as_string(hide_password=True)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply the gateway's migrations (API keys)")
    t = sub.add_parser("token", help="mint a development JWT from the local issuer")
    t.add_argument("--sub", required=True, help="user id, e.g. u-zhang-wei")
    t.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    t.add_argument("--scope", required=True, help="org unit, e.g. ningbo or ningbo/yinzhou")
    t.add_argument("--name", default=None)
    t.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.cmd == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if not settings.dev_issuer_enabled:
        print(
            "GATEWAY_JWKS_URL is set: tokens come from the identity provider, not from here", file=sys.stderr
        )
        return 2
    assert settings.dev_issuer_key_path is not None
    issuer = DevIssuer(
        settings.dev_issuer_key_path, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    print(issuer.mint(sub=args.sub, roles=args.role, scope=args.scope, name=args.name, ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
