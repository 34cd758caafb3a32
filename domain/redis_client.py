"""One Redis connection pool per process, and the event publisher on top of it."""
from __future__ import annotations

from functools import cache

import redis

from domain.config import get_settings
from domain.events import EventPublisher


@cache
def get_redis() -> redis.Redis:
    # Short timeouts: a Redis outage must fail fast (the outbox covers the turn), never hang a request.
    # A blocking pool: when a burst of greenlets (hundreds of model answers arriving at
    # once on `llm`, thousands of sockets on web) wants more than max_connections at
    # once, the excess waits a moment for a connection instead of failing its command.
    pool = redis.BlockingConnectionPool.from_url(
        get_settings().redis_url,
        socket_connect_timeout=2,
        socket_timeout=10,
        health_check_interval=30,
        max_connections=200,
        timeout=2,
    )
    return redis.Redis(connection_pool=pool)


@cache
def get_publisher() -> EventPublisher:
    settings = get_settings()
    return EventPublisher(get_redis(), maxlen=settings.event_stream_maxlen,
                          ttl_seconds=settings.event_stream_ttl_seconds)


def reset_after_fork() -> None:
    """Forget the parent's pool; the child opens its own connections."""
    get_redis.cache_clear()
    get_publisher.cache_clear()
