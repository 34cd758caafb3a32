"""Forgotten passwords: a one-time token mailed to the account's address, valid
PASSWORD_RESET_TOKEN_MINUTES (30), kept in Redis under `parlons:password-reset`
(domain/one_time_tokens.py). Resetting goes through accounts.set_password, which revokes
every token of the account, and drops any other reset token still pending for it.

Requests are throttled per client address (429 when the window is full) and per account
(a request over that window is answered the same 202 but sends nothing, so the answer
never tells whether the address has an account).
"""
from __future__ import annotations

import logging
import uuid

import redis
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from domain import accounts, mail
from domain.config import Settings
from domain.errors import Invalid, RateLimited
from domain.models import User
from domain.one_time_tokens import OneTimeTokens

log = logging.getLogger(__name__)

TEMPLATE = "password_reset"


TOKENS = OneTimeTokens("parlons:password-reset",
                       unavailable="Password resets are unavailable right now; try again shortly.")


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
    token = TOKENS.issue(client, user.id, seconds=settings.password_reset_token_minutes * 60)
    url = f"{settings.public_base_url.rstrip('/')}/#reset={token}"
    return mail.queue_mail(db, user_id=user.id, template=TEMPLATE,
                           context={"reset_url": url, "minutes": settings.password_reset_token_minutes})


def reset(db: Session, client: redis.Redis, *, token: str, new_password: str) -> User:
    """Spend the token and set the new password (every token of the account revoked)."""
    user_id = TOKENS.redeem(client, token)
    user = db.get(User, user_id) if user_id else None
    if user is None:
        raise Invalid("This reset link is invalid, used or expired; ask for a new one.",
                      code="invalid_reset_token", details={"token": ["invalid, used or expired"]})
    accounts.set_password(user, new_password)
    try:
        forget_tokens(client, user.id)
    except redis.RedisError:  # the spent token must still buy the reset; the others expire on their own
        log.warning("could not drop the other reset tokens of %s", user.id, exc_info=True)
    return user


def forget_tokens(client: redis.Redis, user_id: uuid.UUID | str) -> None:
    """Drop every pending reset token of the account (after a reset, or its deletion)."""
    TOKENS.drop_all(client, user_id)
