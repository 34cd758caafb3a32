"""Sign-in throttling, shared by every web process through Redis (the `limits` library's
moving window): login attempts per account (its normalized email, so " Foo@X.com " and
"foo@x.com" share a counter) and per client address, registrations per client address.
The address is the client's as ProxyFix resolves it (TRUSTED_PROXY_HOPS), not a proxy's."""
from __future__ import annotations

import logging
import math
import time

import redis
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from domain.accounts import normalize_email
from domain.errors import RateLimited

log = logging.getLogger(__name__)


class LoginThrottle:
    def __init__(self, redis_url: str, *, per_account: str, per_address: str, registrations_per_address: str,
                 connection_pool: redis.ConnectionPool | None = None):
        storage = RedisStorage(redis_url, connection_pool=connection_pool, key_prefix="parlons:login")
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse(per_account)
        self._per_address = parse(per_address)
        self._registrations_per_address = parse(registrations_per_address)

    def hit(self, *, email: str, address: str) -> None:
        """Count one login attempt; raise RateLimited when either window is full."""
        self._hit([(self._per_account, "account:" + normalize_email(email)),
                   (self._per_address, "address:" + address)],
                  code="too_many_login_attempts", message="Too many login attempts; wait before trying again.")

    def hit_registration(self, *, address: str) -> None:
        """Count one registration attempt from a client address."""
        self._hit([(self._registrations_per_address, "register:" + address)],
                  code="too_many_registrations", message="Too many accounts created from this address; "
                                                         "wait before trying again.")

    def _hit(self, windows: list[tuple], *, code: str, message: str) -> None:
        """If Redis is unreachable the attempt is let through (and logged): learners can
        still sign in during an outage, and Argon2 keeps guessing slow meanwhile."""
        for limit, key in windows:
            try:
                allowed = self._limiter.hit(limit, key)
            except redis.RedisError:
                log.warning("sign-in throttle unavailable (Redis); letting the attempt through")
                return
            if not allowed:
                reset_at = self._limiter.get_window_stats(limit, key).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(message, code=code, retry_after=retry_after,
                                  details={"retry_after_seconds": retry_after})
