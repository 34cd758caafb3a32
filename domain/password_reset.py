"""Forgotten passwords: a one-time token mailed to the account's address, valid
PASSWORD_RESET_TOKEN_MINUTES (30), stored only as its SHA-256 in Redis
(`parlons:password-reset:<hash>` -> user id, expiring with the token; GETDEL makes it
one-time). Resetting goes through accounts.set_password, which revokes every token of
the account, and drops any other reset token still pending for it.

Requests are throttled per client address (429 when the window is full) and per account
(a request over that window is answered the same 202 but sends nothing, so the answer
never tells whether the address has an account).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import uuid

import redis
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from domain import accounts, mail
from domain.config import Settings
from domain.errors import Invalid, RateLimited, Unavailable
from domain.models import User

log = logging.getLogger(__name__)

TEMPLATE = "password_reset"


def _key(token_hash: str) -> str:
    return f"parlons:password-reset:{token_hash}"


def _account_key(user_id: uuid.UUID | str) -> str:
    """The hashes of the account's pending tokens (a set), to drop them all at a reset."""
    return f"parlons:password-reset-user:{user_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ResetThrottle:
    """Requests that mail a link to an address: per client address (429 over the window)
    and per account (over the window the caller sends nothing and answers the same).
    Subclasses (email_verification.ResendThrottle) change the names and the limits."""

    key_prefix = "parlons:password-reset-limit"
    code = "too_many_password_resets"
    message = "Too many password reset requests; wait before trying again."

    def __init__(self, settings: Settings, connection_pool: redis.ConnectionPool | None = None):
        storage = RedisStorage(settings.redis_url, connection_pool=connection_pool, key_prefix=self.key_prefix)
        self._limiter = MovingWindowRateLimiter(storage)
        per_account, per_address = self.limits(settings)
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    def limits(self, settings: Settings) -> tuple[str, str]:
        """(per account, per client address)"""
        return settings.password_reset_rate_limit_account, settings.password_reset_rate_limit_address

    def hit_address(self, address: str) -> None:
        try:
            allowed = self._limiter.hit(self._per_address, "address:" + address)
        except redis.RedisError:
            return
        if not allowed:
            raise RateLimited(self.message, code=self.code, retry_after=60, details={"retry_after_seconds": 60})

    def account_allowed(self, email: str) -> bool:
        try:
            return self._limiter.hit(self._per_account, "account:" + accounts.normalize_email(email))
        except redis.RedisError:
            return True


def request_reset(db: Session, client: redis.Redis, settings: Settings, *, email: str) -> uuid.UUID | None:
    """Mail a reset link when the address has an account (in the caller's transaction);
    the queued mail's id to publish after commit, or None (nothing to send)."""
    user = accounts.find_by_email(db, email)
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    ttl = settings.password_reset_token_minutes * 60
    try:
        with client.pipeline() as pipe:
            pipe.set(_key(token_hash), str(user.id), ex=ttl)
            pipe.sadd(_account_key(user.id), token_hash)
            pipe.expire(_account_key(user.id), ttl)
            pipe.execute()
    except redis.RedisError:
        raise Unavailable("Password resets are unavailable right now; try again shortly.",
                          code="auth_unavailable") from None
    url = f"{settings.public_base_url.rstrip('/')}/#reset={token}"
    return mail.queue_mail(db, user_id=user.id, template=TEMPLATE,
                           context={"reset_url": url, "minutes": settings.password_reset_token_minutes})


def reset(db: Session, client: redis.Redis, *, token: str, new_password: str) -> User:
    """Spend the token and set the new password (every token of the account revoked)."""
    try:
        user_id = client.getdel(_key(hash_token(token)))
    except redis.RedisError:
        raise Unavailable("Password resets are unavailable right now; try again shortly.",
                          code="auth_unavailable") from None
    user = db.get(User, uuid.UUID(user_id.decode() if isinstance(user_id, bytes) else user_id)) if user_id else None
    if user is None:
        raise Invalid("This reset link is invalid, used or expired; ask for a new one.",
                      code="invalid_reset_token", details={"token": ["invalid, used or expired"]})
    accounts.set_password(user, new_password)
    forget_tokens(client, user.id)
    return user


def forget_tokens(client: redis.Redis, user_id: uuid.UUID | str) -> None:
    """Drop every pending reset token of the account (after a reset, or its deletion)."""
    hashes = client.smembers(_account_key(user_id))
    with client.pipeline() as pipe:
        for token_hash in hashes:
            pipe.delete(_key(token_hash.decode() if isinstance(token_hash, bytes) else token_hash))
        pipe.delete(_account_key(user_id))
        pipe.execute()
