"""The web process's single Redis subscription, fanned out to local listeners.

Sockets and long-polls never open Redis connections of their own: they register a
Subscription here and read events from its queue. Under gunicorn's gevent worker the
thread and queues below are greenlets and gevent queues (monkey-patched).
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from contextlib import contextmanager

import redis

from domain.config import get_settings
from domain.events import CHANNEL_PATTERN, Event, parse_channel_message

log = logging.getLogger(__name__)

_QUEUE_LIMIT = 1000  # a socket this far behind is closed; the client resumes with last_event_id

# Put in every queue when the hub (re)subscribes: events published while it was
# disconnected were missed, so sockets catch up from the stream.
RESYNC = object()


class Subscription:
    """A listener's queue of events (and RESYNC markers)."""

    def __init__(self, user_id: str):
        self.user_id = user_id
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_LIMIT)
        self.overflowed = False

    def deliver(self, event: Any) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.overflowed = True

    def get(self, timeout: float | None) -> Any:
        """The next event or RESYNC; None after `timeout` seconds of silence."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            event = self.get(remaining)
            if isinstance(event, Event) and predicate(event):
                return event
        return None


class Hub:
    def __init__(self, redis_url: str):
        self._redis_url = redis_url
        self._listeners: dict[str, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="parlons-event-hub", daemon=True)
                self._thread.start()

    @contextmanager
    def subscribe(self, user_id: str) -> Iterator[Subscription]:
        self.start()
        subscription = Subscription(user_id)
        with self._lock:
            self._listeners[user_id].add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                listeners = self._listeners.get(user_id)
                if listeners is not None:
                    listeners.discard(subscription)
                    if not listeners:
                        del self._listeners[user_id]

    def _dispatch(self, channel_name: str, payload: str) -> None:
        user_id, event = parse_channel_message(channel_name, payload)
        with self._lock:
            targets = list(self._listeners.get(user_id, ()))
        for subscription in targets:
            subscription.deliver(event)

    def _resync(self) -> None:
        """Events published while we were disconnected were missed: tell every listener."""
        with self._lock:
            targets = [s for listeners in self._listeners.values() for s in listeners]
        for subscription in targets:
            subscription.deliver(RESYNC)

    def _run(self) -> None:
        backoff = 0.1
        while True:
            client = redis.Redis.from_url(self._redis_url, socket_connect_timeout=2, health_check_interval=15,
                                          decode_responses=True)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PATTERN)
                self._resync()
                backoff = 0.1
                while True:
                    message = pubsub.get_message(timeout=5.0)
                    if message is not None and message["type"] == "pmessage":
                        self._dispatch(message["channel"], message["data"])
            except Exception:  # reconnect on anything: the hub must outlive Redis restarts
                log.warning("event hub lost Redis; reconnecting in %.1fs", backoff, exc_info=True)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                client.close()


_hub: Hub | None = None
_hub_pid: int | None = None


def hub() -> Hub:
    """This process's hub (a forked child gets its own)."""
    global _hub, _hub_pid
    if _hub is None or _hub_pid != os.getpid():
        _hub, _hub_pid = Hub(get_settings().redis_url), os.getpid()
    return _hub
