"""The revoked-token list in Redis: one key per revoked JWT id, kept until the token
would have expired anyway."""
from __future__ import annotations

import time

import redis


def _key(jti: str) -> str:
    return f"parlons:revoked:{jti}"


def revoke(client: redis.Redis, *, jti: str, expires_at: int) -> None:
    ttl = max(1, int(expires_at - time.time()))
    client.set(_key(jti), "1", ex=ttl)


def is_revoked(client: redis.Redis, jti: str) -> bool:
    return bool(client.exists(_key(jti)))
