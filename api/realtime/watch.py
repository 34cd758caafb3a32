"""Sockets and long-polls end when their token does: one sweep per web process, every
WS_TOKEN_CHECK_SECONDS, over the tokens of its open sockets and waiting long-polls.

Expiry is checked locally; logout, refresh-token reuse, password change and admin reset
are read from the revocation keys in Redis with one pipelined MGET for all sockets (10,000
sockets cost one round trip per sweep, not one per socket). A socket whose token ended is
told through its wakeup; its own greenlet closes it with 1008 (a long-poll answers 401). If Redis is away the sweep
keeps only the expiry check, as REST requests accept access tokens during an outage.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import redis

from api.realtime.hub import STOP, Subscription
from api.runtime import per_process
from domain import revocation
from domain.config import get_settings
from domain.errors import Unauthorized
from domain.redis_client import get_redis

log = logging.getLogger(__name__)


class Watched(Protocol):
    token: revocation.TokenClaims

    def end(self, reason: str) -> None: ...


class _LongPoll:
    """A long-poll's wait, ended early (with a 401) when its token ends."""

    __slots__ = ("token", "subscription", "ended")

    def __init__(self, token: revocation.TokenClaims, subscription: Subscription):
        self.token = token
        self.subscription = subscription
        self.ended: str | None = None

    def end(self, reason: str) -> None:
        self.ended = reason
        self.subscription.deliver(STOP)

    def raise_if_ended(self) -> None:
        if self.ended is not None:
            code = "token_expired" if "expired" in self.ended else "token_revoked"
            raise Unauthorized(f"The wait ended: {self.ended}.", code=code)


class TokenWatch:
    def __init__(self, interval: float):
        self._interval = interval
        self._watched: set[Any] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, connection: Watched) -> None:
        with self._lock:
            self._watched.add(connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="parlons-token-watch", daemon=True)
                self._thread.start()

    def discard(self, connection: Watched) -> None:
        with self._lock:
            self._watched.discard(connection)

    @contextmanager
    def long_poll(self, token: revocation.TokenClaims, subscription: Subscription) -> Iterator[_LongPoll]:
        """Watch a long-poll's token while it waits on `subscription`; after the wait, call
        `raise_if_ended()` on what this yields."""
        poll = _LongPoll(token, subscription)
        self.add(poll)
        try:
            yield poll
        finally:
            self.discard(poll)

    def sweep(self) -> int:
        """End the connections whose token no longer holds; returns how many."""
        with self._lock:
            watched = list(self._watched)
        if not watched:
            return 0
        try:
            revoked = revocation.revoked_among(get_redis(), (connection.token for connection in watched))
        except redis.RedisError:
            log.warning("token watch: revocation list unreachable; checking expiry only")
            revoked = [False] * len(watched)
        now = time.time()
        ended = 0
        for connection, is_revoked in zip(watched, revoked):
            reason = revocation.token_ended(connection.token, revoked=is_revoked, now=now)
            if reason is not None:
                self.discard(connection)
                connection.end(reason)
                ended += 1
        return ended

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.sweep()
            except Exception:  # the watch must outlive any one bad sweep
                log.exception("token watch sweep failed")


@per_process
def token_watch() -> TokenWatch:
    """This process's watch (a forked child gets its own)."""
    return TokenWatch(get_settings().ws_token_check_seconds)
