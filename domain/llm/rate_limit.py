"""A provider's request budget, shared by every process through Redis.

A caller that finds the window full waits for the oldest request in it to age out
instead of failing; it gives up only when that would pass its deadline.
"""
from __future__ import annotations

import logging
import time

import redis
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from domain.llm.base import ProviderFailure

log = logging.getLogger(__name__)


class RequestRateLimit:
    def __init__(self, redis_client: redis.Redis, *, provider: str, requests: int, per_seconds: int = 60):
        storage = RedisStorage("redis://", connection_pool=redis_client.connection_pool, key_prefix="parlons:llm")
        self._limiter = MovingWindowRateLimiter(storage)
        self._limit = RateLimitItemPerSecond(requests, per_seconds)
        self._key = provider

    def acquire(self, *, deadline: float) -> None:
        """Take one request slot, waiting for one if needed. If Redis is down the request
        goes ahead (logged): an outage of the limiter must not stop every reply."""
        while True:
            try:
                if self._limiter.hit(self._limit, self._key):
                    return
                free_at = self._limiter.get_window_stats(self._limit, self._key).reset_time
            except redis.RedisError:
                log.warning("LLM rate limit unavailable (Redis); sending the %s request anyway", self._key)
                return
            wait = max(0.01, free_at - time.time())
            if time.monotonic() + wait > deadline:
                raise ProviderFailure("rate limit: no free slot before the deadline")
            time.sleep(wait)
