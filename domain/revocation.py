"""Revoked tokens in Redis: one key per revoked JWT id (a logout), and one per account
whose every token issued before a moment is revoked (a password reset); each kept until
the tokens it covers would have expired anyway. One round trip checks both."""
from __future__ import annotations

import time

import redis


def _key(jti: str) -> str:
    return f"parlons:revoked:{jti}"


def _account_key(user_id: str) -> str:
    return f"parlons:revoked-before:{user_id}"


def revoke(client: redis.Redis, *, jti: str, expires_at: int) -> None:
    ttl = max(1, int(expires_at - time.time()))
    client.set(_key(jti), "1", ex=ttl)


def revoke_all(client: redis.Redis, *, user_id: str, longest_token_seconds: int) -> None:
    """Every token of the account issued until now stops working. Token times are whole
    seconds, so this covers the whole current second, and returns once it is over: a
    token issued afterwards is valid."""
    second = int(time.time())
    client.set(_account_key(user_id), str(second), ex=max(1, longest_token_seconds))
    time.sleep(max(0.0, second + 1 - time.time()))


def is_revoked(client: redis.Redis, *, jti: str, user_id: str, issued_at: int) -> bool:
    one, before = client.mget([_key(jti), _account_key(user_id)])
    return one is not None or (before is not None and issued_at <= int(before))
