"""Revoked tokens in Redis, and the rules that end a session.

Keys, each kept until the tokens it covers would have expired anyway:
- `revoked:<jti>`: one token (a logout of a token without a family);
- `revoked-family:<family>`: every token descended from one login (a logout, or a
  refresh token used twice);
- `revoked-before:<user>`: every token of the account issued until a moment (a password
  change or reset);
- `refresh-used:<jti>`: a refresh token already exchanged (refresh tokens rotate).

A login starts a family; its refresh token, and every access and refresh token obtained
by refreshing, carry the family's id (`fam`). One MGET checks a token, and one pipelined
MGET checks every socket of a web process (`revoked_among`). While Redis is away, a
request's refresh token is refused and its access token accepted (`token_revoked`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from domain.config import get_settings
from domain.errors import Unauthorized, Unavailable

log = logging.getLogger(__name__)
_MGET_CHUNK = 1000  # keys per MGET in a sweep: no single command blocks Redis for long


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What revocation needs from a verified JWT."""

    jti: str
    user_id: str
    issued_at: int
    expires_at: int
    family: str | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TokenClaims:
        return cls(jti=payload["jti"], user_id=payload["sub"], issued_at=int(payload["iat"]),
                   expires_at=int(payload["exp"]), family=payload.get("fam"))

    def keys(self) -> tuple[str, ...]:
        keys = (_key(self.jti), _account_key(self.user_id))
        return keys + (_family_key(self.family),) if self.family else keys

    def revoked_by(self, values: Mapping[str, bytes | str | None]) -> bool:
        """Whether the values read for `keys()` revoke this token."""
        before = values.get(_account_key(self.user_id))
        return (values.get(_key(self.jti)) is not None
                or (self.family is not None and values.get(_family_key(self.family)) is not None)
                or (before is not None and self.issued_at <= int(before)))


def longest_token_seconds() -> int:
    """How long any token lives (a refresh token's lifetime): how long a revocation covering
    tokens not yet expired must be kept."""
    return get_settings().jwt_refresh_token_days * 86400


def _key(jti: str) -> str:
    return f"parlons:revoked:{jti}"


def _account_key(user_id: str) -> str:
    return f"parlons:revoked-before:{user_id}"


def _family_key(family: str) -> str:
    return f"parlons:revoked-family:{family}"


def _used_key(jti: str) -> str:
    return f"parlons:refresh-used:{jti}"


def _ttl_until(expires_at: int) -> int:
    return max(1, int(expires_at - time.time()))


def revoke(client: redis.Redis, *, token: TokenClaims, longest_token_seconds: int) -> None:
    """A logout: the token and, when it has one, its whole family (the login it came from)."""
    with client.pipeline(transaction=False) as pipe:
        pipe.set(_key(token.jti), "1", ex=_ttl_until(token.expires_at))
        if token.family:
            pipe.set(_family_key(token.family), "1", ex=max(1, longest_token_seconds))
        pipe.execute()


def revoke_all(client: redis.Redis, *, user_id: str, longest_token_seconds: int) -> None:
    """Every token of the account issued until now stops working. Token times are whole
    seconds, so this covers the whole current second, and returns once it is over: a
    token issued afterwards is valid."""
    second = int(time.time())
    client.set(_account_key(user_id), str(second), ex=max(1, longest_token_seconds))
    time.sleep(max(0.0, second + 1 - time.time()))


def spend_refresh_token(client: redis.Redis, *, token: TokenClaims, longest_token_seconds: int) -> str:
    """Exchange a refresh token once; returns the family the new tokens belong to. A second
    use means the token was copied: the whole family is revoked (the thief's tokens and
    the learner's) and Unauthorized raised; the learner logs in again."""
    family = token.family or token.jti  # a token issued before families existed starts one
    if client.set(_used_key(token.jti), "1", nx=True, ex=_ttl_until(token.expires_at)):
        return family
    client.set(_family_key(family), "1", ex=max(1, longest_token_seconds))
    raise Unauthorized("This refresh token was already used; every token of that login is revoked. "
                       "Log in again.", code="refresh_token_reused")


def is_revoked(client: redis.Redis, *, token: TokenClaims) -> bool:
    keys = token.keys()
    return token.revoked_by(dict(zip(keys, client.mget(keys))))


def token_revoked(client: redis.Redis, payload: Mapping[str, Any]) -> bool:
    """Whether a verified token (its JWT payload) is revoked. Without Redis, a refresh
    token fails closed (Unavailable) and an access token fails open."""
    try:
        return is_revoked(client, token=TokenClaims.from_payload(payload))
    except redis.RedisError:
        if payload.get("type") == "refresh":
            # A 30-day token must not outlive a logout just because Redis is away.
            raise Unavailable("Sign-in is temporarily unavailable.", code="auth_unavailable") from None
        # Access tokens live 15 minutes: accepting them during a Redis outage keeps
        # learners talking (their turns are safe in Postgres).
        log.warning("revocation list unreachable; accepting access token %s", payload["jti"])
        return False


def revoked_among(client: redis.Redis, tokens: Iterable[TokenClaims]) -> list[bool]:
    """For many tokens at once (a web process's sockets): one round trip, each key read once."""
    tokens = list(tokens)
    keys = list(dict.fromkeys(key for token in tokens for key in token.keys()))
    if not keys:
        return []
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, len(keys), _MGET_CHUNK):
            pipe.mget(keys[start:start + _MGET_CHUNK])
        chunks = pipe.execute()
    values = dict(zip(keys, (value for chunk in chunks for value in chunk)))
    return [token.revoked_by(values) for token in tokens]


def token_ended(token: TokenClaims, *, revoked: bool, now: float | None = None) -> str | None:
    """Why an open connection's token no longer holds (None while it does)."""
    if revoked:
        return "token revoked: log in again"
    if (time.time() if now is None else now) >= token.expires_at:
        return "token expired: refresh it and reconnect"
    return None
