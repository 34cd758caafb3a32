"""One-time tokens mailed to an account (password resets, email verification). Only the
token's SHA-256 is kept in Redis (`<prefix>:<hash>` -> user id, expiring with the token;
GETDEL makes it one-time), and the account's pending hashes in a set
(`<prefix>-user:<user id>`) so they can all be dropped at once.
"""
from __future__ import annotations

import hashlib
import secrets
import uuid

import redis

from domain.errors import Unavailable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OneTimeTokens:
    """The tokens under one key prefix; `unavailable` is the 503 message when Redis fails."""

    def __init__(self, prefix: str, *, unavailable: str):
        self.prefix = prefix
        self.unavailable = unavailable

    def _key(self, token_hash: str) -> str:
        return f"{self.prefix}:{token_hash}"

    def _account_key(self, user_id: uuid.UUID | str) -> str:
        return f"{self.prefix}-user:{user_id}"

    def issue(self, client: redis.Redis, user_id: uuid.UUID, *, seconds: int) -> str:
        """A new token for the account, valid for `seconds`."""
        token = secrets.token_urlsafe(32)
        token_hash = hash_token(token)
        try:
            with client.pipeline() as pipe:
                pipe.set(self._key(token_hash), str(user_id), ex=seconds)
                pipe.sadd(self._account_key(user_id), token_hash)
                pipe.expire(self._account_key(user_id), seconds)
                pipe.execute()
        except redis.RedisError:
            raise Unavailable(self.unavailable, code="auth_unavailable") from None
        return token

    def redeem(self, client: redis.Redis, token: str) -> uuid.UUID | None:
        """Spend the token: the account it was issued to, or None if unknown, used or expired."""
        try:
            user_id = client.getdel(self._key(hash_token(token)))
        except redis.RedisError:
            raise Unavailable(self.unavailable, code="auth_unavailable") from None
        if not user_id:
            return None
        return uuid.UUID(user_id.decode() if isinstance(user_id, bytes) else user_id)

    def drop_all(self, client: redis.Redis, user_id: uuid.UUID | str) -> None:
        """Drop every pending token of the account (redis.RedisError is the caller's)."""
        hashes = client.smembers(self._account_key(user_id))
        with client.pipeline() as pipe:
            for token_hash in hashes:
                pipe.delete(self._key(token_hash.decode() if isinstance(token_hash, bytes) else token_hash))
            pipe.delete(self._account_key(user_id))
            pipe.execute()
