"""A provider's request budget, shared by every process through Redis.

A caller that finds the window full waits for the oldest request in it to age out
instead of failing; it gives up only when that would pass its deadline. The callers of a
process that wait do so in line, and only the first of them asks Redis for a slot: if
each asked, every slot that freed would wake them all for one to get it, a Redis round
trip per waiter per slot (with hundreds of turns waiting on a busy `llm` worker, that
was most of its CPU).
"""
from __future__ import annotations

import logging
import threading
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
        self._line = threading.Lock()  # held by the caller waiting for a slot; a greenlet lock under gevent

    def acquire(self, *, deadline: float) -> None:
        """Take one request slot, waiting for one if needed. If Redis is down the request
        goes ahead (logged): an outage of the limiter must not stop every reply."""
        if not self._line.locked() and self._hit():  # no one waiting before us, and a free slot
            return
        if not self._line.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise ProviderFailure("rate limit: no free slot before the deadline")
        try:
            while not self._hit():
                self._sleep_until_a_slot_frees(deadline)
        finally:
            self._line.release()

    def _hit(self) -> bool:
        try:
            return self._limiter.hit(self._limit, self._key)
        except redis.RedisError:
            log.warning("LLM rate limit unavailable (Redis); sending the %s request anyway", self._key)
            return True

    def _sleep_until_a_slot_frees(self, deadline: float) -> None:
        try:
            free_at = self._limiter.get_window_stats(self._limit, self._key).reset_time
        except redis.RedisError:
            free_at = time.time()  # the next hit finds Redis down too, and goes ahead
        wait = max(0.01, free_at - time.time())
        if time.monotonic() + wait > deadline:
            raise ProviderFailure("rate limit: no free slot before the deadline")
        time.sleep(wait)
