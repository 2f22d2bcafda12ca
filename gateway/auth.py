"""Who is calling: bearer JWTs (an SSO's JWKS, or the local development issuer) and API keys."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import HTTPConnection

from gateway import repository
from gateway.config import Settings
from services.kit import orgunit
from services.kit.auth import ROLES, Principal
from services.kit.clock import Clock
from services.kit.errors import Unauthorized
from services.kit.logs import get_logger

log = get_logger("gateway.auth")

API_KEY_PREFIX = "djk_"
_WWW_AUTH = {"WWW-Authenticate": 'Bearer realm="dangjian-inspection"'}


class DevIssuer:
    """A local RS256 issuer for development and tests: mints tokens, publishes its JWKS."""

    def __init__(self, key_path: Path, *, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key: rsa.RSAPrivateKey
        if key_path.exists():
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{key_path} does not hold an RSA private key")
            self._key = loaded
        else:
            key_path.parent.mkdir(parents=True, exist_ok=True)
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = key_path.with_suffix(".tmp")
            tmp.write_bytes(pem)
            tmp.chmod(0o600)
            tmp.replace(key_path)
        self.public_key = self._key.public_key()
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = hashlib.sha256(der).hexdigest()[:16]

    def mint(
        self, *, sub: str, roles: list[str], scope: str, name: str | None = None, ttl_seconds: int = 8 * 3600
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "iat": now,
            "exp": now + ttl_seconds,
            "roles": roles,
            "org_unit": scope,
        }
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.public_key))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(id, secret, full key shown once to the creator)."""
    key_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
    return key_id, secret, f"{API_KEY_PREFIX}{key_id}_{secret}"


V = TypeVar("V")


class _TTLCache(Generic[V]):
    """A small bounded cache of verified credentials, so a hot client costs one dict lookup."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self.data: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        hit = self.data.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            self.data.pop(key, None)
            return None
        return hit[1]

    def put(self, key: str, value: V, ttl: float) -> None:
        self.data[key] = (time.monotonic() + ttl, value)
        if len(self.data) > self.maxsize:
            self.data.popitem(last=False)

    def drop(self, predicate: Callable[[V], bool]) -> None:
        for k in [k for k, (_, v) in self.data.items() if predicate(v)]:
            self.data.pop(k, None)


class Authenticator:
    """Turns request credentials into a Principal, or raises 401."""

    API_KEY_CACHE_SECONDS = 5.0
    LAST_USED_EVERY = timedelta(seconds=60)

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[Any], clock: Clock) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.dev_issuer: DevIssuer | None = None
        self._jwks: jwt.PyJWKClient | None = None
        if settings.dev_issuer_enabled:
            assert settings.dev_issuer_key_path is not None
            self.dev_issuer = DevIssuer(
                settings.dev_issuer_key_path, issuer=settings.jwt_issuer, audience=settings.jwt_audience
            )
        else:
            assert settings.jwks_url
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=600, timeout=5)
        self._jwt_cache: _TTLCache[Principal] = _TTLCache()
        self._key_cache: _TTLCache[tuple[Principal, str]] = _TTLCache()
        self._last_used_written: dict[str, datetime] = {}

    async def authenticate(self, conn: HTTPConnection, *, query_token: bool = False) -> Principal:
        """The caller's principal, or 401. `query_token`: the operation is an event stream, so a JWT
        may come as ``?access_token=`` (a browser's EventSource cannot set headers)."""
        auth = conn.headers.get("authorization")
        api_key = conn.headers.get("x-api-key")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "Use 'Authorization: Bearer <token>'",
                    zh="请使用 'Authorization: Bearer <令牌>' 请求头",
                    headers=_WWW_AUTH,
                )
            token = token.strip()
            if token.startswith(API_KEY_PREFIX):
                return await self._api_key(token)
            return await self._jwt(token)
        if api_key:
            return await self._api_key(api_key.strip())
        stream_token = conn.query_params.get("access_token")
        if stream_token and query_token:
            # Only operations the service declares as `text/event-stream` (never because of what the
            # client puts in Accept); the proxy strips it before forwarding. Keep such tokens short-lived.
            return await self._jwt(stream_token)
        raise Unauthorized(
            "No credentials: send 'Authorization: Bearer <JWT>' or 'X-API-Key: <key>'",
            zh="未提供身份凭据：请发送 'Authorization: Bearer <JWT>' 或 'X-API-Key: <密钥>' 请求头",
            headers=_WWW_AUTH,
        )

    async def _jwt(self, token: str) -> Principal:
        cached = self._jwt_cache.get(token)
        if cached is not None:
            return cached
        try:
            if self.dev_issuer is not None:
                key: Any = self.dev_issuer.public_key
            else:
                assert self._jwks is not None
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            claims = jwt.decode(
                token,
                key,
                algorithms=self.settings.jwt_algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired", zh="令牌已过期", headers=_WWW_AUTH) from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(
                f"The token is not valid: {exc}", zh=f"令牌无效：{exc}", headers=_WWW_AUTH
            ) from exc
        principal = self._principal_from(claims)
        self._jwt_cache.put(token, principal, max(1.0, float(claims["exp"]) - time.time()))
        return principal

    def _principal_from(self, claims: dict[str, Any]) -> Principal:
        """The principal a validly signed token describes, or 401 when a claim has the wrong shape."""
        role_claim, scope_claim = self.settings.role_claim, self.settings.scope_claim
        sub, name = claims.get("sub"), claims.get("name")
        if not isinstance(sub, str) or not sub.strip() or len(sub) > 200:
            raise Unauthorized(
                "The token's 'sub' claim must be a non-empty string",
                zh="令牌的 'sub' 声明须为非空字符串",
                headers=_WWW_AUTH,
            )
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise Unauthorized(
                "The token's 'name' claim must be a string",
                zh="令牌的 'name' 声明须为字符串",
                headers=_WWW_AUTH,
            )
        raw_roles = claims.get(role_claim, [])
        if isinstance(raw_roles, str):
            raw_roles = [raw_roles]  # some identity providers send a single role as a string
        if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
            raise Unauthorized(
                f"The token's '{role_claim}' claim must be a list of strings",
                zh=f"令牌的 '{role_claim}' 声明须为字符串数组",
                headers=_WWW_AUTH,
            )
        raw_scope = claims.get(scope_claim)
        if raw_scope is None or raw_scope == "":
            raise Unauthorized(
                f"The token carries no '{scope_claim}' (org-unit scope) claim",
                zh=f"令牌缺少 '{scope_claim}'（管辖范围）声明",
                headers=_WWW_AUTH,
            )
        try:
            scope = orgunit.parse(raw_scope)
        except ValueError as exc:
            raise Unauthorized(
                f"The token's '{scope_claim}' claim is not a valid org unit: {exc}",
                zh=f"令牌的 '{scope_claim}' 声明不是有效的组织单元：{exc}",
                headers=_WWW_AUTH,
            ) from None
        try:
            return Principal(
                sub=sub,
                roles=tuple(r for r in raw_roles if r in ROLES),
                scope=scope,
                name=name,
                kind="user",
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise Unauthorized(
                "The token's claims do not describe a caller",
                zh="令牌的声明无法描述调用方",
                headers=_WWW_AUTH,
            ) from exc

    async def _api_key(self, presented: str) -> Principal:
        cached = self._key_cache.get(presented)
        if cached is not None:
            principal, key_id = cached
            await self._touch(key_id)
            return principal
        body = presented.removeprefix(API_KEY_PREFIX)
        key_id, _, secret = body.partition("_")
        if not presented.startswith(API_KEY_PREFIX) or not key_id or not secret:
            raise Unauthorized("Malformed API key", zh="API 密钥格式错误", headers=_WWW_AUTH)
        async with self.sessionmaker() as session:
            row = await repository.get_api_key(session, key_id)
        now = self.clock.now()
        if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
            raise Unauthorized("Unknown API key", zh="未知的 API 密钥", headers=_WWW_AUTH)
        if row.revoked_at is not None:
            raise Unauthorized("This API key has been revoked", zh="该 API 密钥已被吊销", headers=_WWW_AUTH)
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthorized("This API key has expired", zh="该 API 密钥已过期", headers=_WWW_AUTH)
        if not orgunit.is_valid(row.scope):
            # Keys created before scopes were validated: refuse rather than guess what they meant.
            raise Unauthorized(
                "This API key's scope is not a valid org unit; create a new key",
                zh="该 API 密钥的管辖范围不是有效的组织单元，请新建密钥",
                headers=_WWW_AUTH,
            )
        principal = Principal(
            sub=f"apikey:{row.id}", roles=tuple(row.roles), scope=row.scope, name=row.name, kind="api_key"
        )
        self._key_cache.put(presented, (principal, row.id), self.API_KEY_CACHE_SECONDS)
        await self._touch(row.id)
        return principal

    async def _touch(self, key_id: str) -> None:
        """Record last use, at most once a minute per key (not a write per request)."""
        now = self.clock.now()
        last = self._last_used_written.get(key_id)
        if last is not None and now - last < self.LAST_USED_EVERY:
            return
        self._last_used_written[key_id] = now
        async with self.sessionmaker() as session, session.begin():
            await repository.touch_api_key(session, key_id, now=now)

    def forget_api_key(self, key_id: str) -> None:
        """Called on revocation so this process stops accepting the key at once."""
        self._key_cache.drop(lambda v: v[1] == key_id)
        self._last_used_written.pop(key_id, None)
