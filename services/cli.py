"""Operations from the command line:

- ``python -m services.cli migrate [SERVICE...]``: apply every pending migration;
- ``python -m services.cli revision SERVICE -m MESSAGE``: autogenerate a migration from the models;
- ``python -m services.cli token --role R --scope S --sub U``: mint a development JWT (``make token``).

``token`` answers in a fraction of a second: it reads the gateway's settings and its development key,
and imports neither the gateway app nor FastAPI, Alembic or asyncio (the other commands import what
they need when they run).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.registry import BY_NAME, SERVICES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# services.kit.auth.ROLES, repeated: importing it pulls in FastAPI and SQLAlchemy (most of a second),
# which `make token` must not pay. tests/test_devrun_unit.py keeps the two equal.
TOKEN_ROLES: tuple[str, ...] = (
    "city_admin",
    "inspector",
    "team_leader",
    "district_admin",
    "responsible",
    "leader",
    "system",
)
DEFAULT_TTL_SECONDS = 8 * 3600


def _selected(names: list[str]) -> list[str]:
    return names or [s.name for s in SERVICES]


async def _migrate(names: list[str]) -> None:
    from services.kit.db import make_engine
    from services.kit.migrations import upgrade_to_head

    for name in _selected(names):
        info = BY_NAME[name]
        settings = info.settings()
        engine = make_engine(settings.database_url)
        try:
            await upgrade_to_head(engine, info.migrations_dir)
        finally:
            await engine.dispose()
        print(f"{name}: migrated ({engine.url.render_as_string(hide_password=True)})")


def dev_issuer_key(key_path: Path) -> rsa.RSAPrivateKey:
    """The development issuer's RSA key, created on first use exactly as the gateway creates it
    (gateway.auth.DevIssuer: PKCS#8 PEM, mode 0600, written atomically), so whichever of the two
    comes first, both sign with the same key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if key_path.exists():
        # Our own key, written by us (or the gateway) mode 0600: its RSA consistency check, which
        # costs a tenth of a second at every `make token`, guards against keys from elsewhere.
        loaded = serialization.load_pem_private_key(
            key_path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} does not hold an RSA private key")
        return loaded
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = key_path.with_suffix(f".{id(key)}.tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(key_path)
    return key


def key_id(key: rsa.RSAPrivateKey) -> str:
    """The ``kid`` the gateway publishes for this key (first 16 hex digits of its SPKI's SHA-256)."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def mint_token(
    key: rsa.RSAPrivateKey,
    *,
    issuer: str,
    audience: str,
    sub: str,
    roles: list[str],
    scope: str,
    name: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: int | None = None,
) -> str:
    """The same token gateway.auth.DevIssuer.mint signs."""
    import jwt

    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "roles": roles,
        "org_unit": scope,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id(key)})


def _token(args: argparse.Namespace) -> int:
    # The gateway's settings (pydantic-settings), not its app: where the key is, issuer, audience.
    from gateway.config import Settings

    settings = Settings()
    if not settings.dev_issuer_enabled:
        print(
            "GATEWAY_JWKS_URL is set: tokens come from the identity provider, not from here", file=sys.stderr
        )
        return 2
    assert settings.dev_issuer_key_path is not None
    key = dev_issuer_key(settings.dev_issuer_key_path)
    print(
        mint_token(
            key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            sub=args.sub,
            roles=args.role,
            scope=args.scope,
            name=args.name,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("migrate", help="apply every pending migration (all services, or those named)")
    m.add_argument("service", nargs="*", help="service names (default: all)")
    r = sub.add_parser("revision", help="autogenerate a migration for one service from its models")
    r.add_argument("service", choices=list(BY_NAME))
    r.add_argument("-m", "--message", required=True)
    t = sub.add_parser("token", help="mint a development JWT from the gateway's local issuer")
    t.add_argument("--sub", required=True, help="user id, e.g. u-admin")
    t.add_argument("--role", action="append", required=True, choices=TOKEN_ROLES, help="repeat for several")
    t.add_argument("--scope", required=True, help="org unit, e.g. ningbo or ningbo/yinzhou")
    t.add_argument("--name", default=None)
    t.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds")
    args = parser.parse_args(argv)
    if args.cmd == "migrate":
        import asyncio

        asyncio.run(_migrate(args.service))
    elif args.cmd == "revision":
        from alembic import command

        from services.kit.migrations import alembic_config

        info = BY_NAME[args.service]
        cfg = alembic_config(info.migrations_dir, info.settings().database_url)
        command.revision(cfg, message=args.message, autogenerate=True)
    elif args.cmd == "token":
        return _token(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
