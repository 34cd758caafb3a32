"""Login throttling per account and per client address, shared by every web process
through Redis (the `limits` library's moving window)."""
from __future__ import annotations

import logging
import math
import time

import redis
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from domain.errors import RateLimited

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, redis_url: str, *, per_account: str, per_address: str,
                 connection_pool: redis.ConnectionPool | None = None):
        storage = RedisStorage(redis_url, connection_pool=connection_pool, key_prefix="parlons:login")
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)

    def hit(self, *, email: str, address: str) -> None:
        """Count one login attempt; raise RateLimited when either window is full.

        If Redis is unreachable the attempt is let through (and logged): learners can
        still sign in during an outage, and Argon2 keeps guessing slow meanwhile.
        """
        for limit, key in ((self._per_account, "account:" + email.lower()), (self._per_address, "address:" + address)):
            try:
                allowed = self._limiter.hit(limit, key)
            except redis.RedisError:
                log.warning("login throttle unavailable (Redis); letting the attempt through")
                return
            if not allowed:
                reset_at = self._limiter.get_window_stats(limit, key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(
                    "Too many login attempts; wait before trying again.",
                    code="too_many_login_attempts",
                    retry_after=retry_after,
                    details={"retry_after_seconds": retry_after},
                )
