"""The web process's single Redis subscription, fanned out to local listeners.

Sockets and long-polls never open Redis connections of their own: they register a
Subscription here and read events from it. Under gunicorn's gevent worker the thread,
lock and events below are a greenlet and gevent primitives (monkey-patched).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api.runtime import per_process
from domain.config import get_settings
from domain.events import CHANNEL_PREFIX, Event, channel, parse_channel_message

log = logging.getLogger(__name__)

_QUEUE_LIMIT = 1000  # a socket this far behind is closed; the client resumes with last_event_id
_CONFIRM_WAIT_SECONDS = 2.0
_IDLE_PING_SECONDS = 5.0

# Put in every queue when the hub (re)subscribes: events published while it was
# disconnected were missed, so sockets catch up from the stream.
RESYNC = object()
# Put in a long-poll's queue to end its wait early (the token watch: its token ended).
STOP = object()


class Subscription:
    """A listener's events (and RESYNC markers), in order.

    A socket passes its own `wakeup` (anything with `set()`), so that one greenlet
    waits for the client and the hub at once; a long-poll waits on the default Event.
    Slots and a deque: 10,000 sockets each hold one of these.
    """

    __slots__ = ("user_id", "overflowed", "_events", "_wakeup")

    def __init__(self, user_id: str, wakeup: Any = None):
        self.user_id = user_id
        self.overflowed = False
        self._events: deque[Any] = deque()
        self._wakeup = wakeup if wakeup is not None else threading.Event()

    def deliver(self, event: Any) -> None:
        if len(self._events) >= _QUEUE_LIMIT:
            self.overflowed = True
            return
        self._events.append(event)
        self._wakeup.set()

    def pop(self) -> Any:
        """The next event or RESYNC, without waiting; None when there is none."""
        return self._events.popleft() if self._events else None

    def get(self, timeout: float | None) -> Any:
        """The next event or RESYNC; None after `timeout` seconds of silence (default wakeup only)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._events:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0 or not self._wakeup.wait(remaining):
                break
            self._wakeup.clear()  # before looking again: a later delivery sets it anew
        return self.pop()

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            event = self.get(remaining)
            if event is STOP:
                return None
            if isinstance(event, Event) and predicate(event):
                return event
        return None


@dataclass(slots=True)
class _Channel:
    """A learner's channel on the hub's current connection."""

    listeners: set[Subscription] = field(default_factory=set)
    sent: int = 0  # SUBSCRIBEs sent on this connection
    confirmed: int = 0  # ... and confirmed (Redis answers them in order)
    resync_when_confirmed: bool = False  # subscribed again after a lost connection


class Hub:
    """One pub/sub connection per process, subscribed to the channels of the learners
    who have a listener here (not to every learner's: each process reads only the
    events it delivers)."""

    def __init__(self, redis_url: str):
        self._redis_url = redis_url
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._pubsub: redis.client.PubSub | None = None  # None while (re)connecting
        self._generation = 0  # connections made so far

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="parlons-event-hub", daemon=True)
                self._thread.start()

    @contextmanager
    def subscribe(self, user_id: str, wakeup: Any = None) -> Iterator[Subscription]:
        """`listen` for the duration of a `with` block."""
        subscription = self.listen(user_id, wakeup)
        try:
            yield subscription
        finally:
            self.leave(subscription)

    def listen(self, user_id: str, wakeup: Any = None) -> Subscription:
        """Listen to a learner's events until `leave`. Returns once Redis has confirmed the
        learner's subscription, so every event published afterwards reaches the listener
        (if Redis is away it gives up after a short wait; the listener gets RESYNC when it
        is back)."""
        self.start()
        subscription = Subscription(user_id, wakeup)
        with self._changed:
            state = self._channels.setdefault(user_id, _Channel())
            state.listeners.add(subscription)
            if len(state.listeners) == 1:
                self._send("subscribe", user_id, state)
            target, generation = state.sent, self._generation

            def live() -> bool:
                if self._generation == generation:
                    return target > 0 and state.confirmed >= target
                # A (new) connection subscribed every listened learner on a fresh record.
                current = self._channels.get(user_id)
                return self._pubsub is not None and current is not None and current.confirmed >= 1

            self._changed.wait_for(live, timeout=_CONFIRM_WAIT_SECONDS)
        return subscription

    def leave(self, subscription: Subscription) -> None:
        """Stop listening; the learner's subscription goes with its last listener."""
        user_id = subscription.user_id
        with self._lock:
            state = self._channels.get(user_id)  # a reconnection may have replaced the record
            if state is None or subscription not in state.listeners:
                return
            state.listeners.discard(subscription)
            if not state.listeners:
                self._send("unsubscribe", user_id, state)
                self._forget_if_idle(user_id, state)

    def _send(self, command: str, user_id: str, state: _Channel) -> None:
        """SUBSCRIBE or UNSUBSCRIBE a learner (the caller holds the lock, so one greenlet
        writes to the connection at a time). Without a connection, nothing to do: the
        hub subscribes every listened learner when it connects."""
        if self._pubsub is None:
            return
        try:
            getattr(self._pubsub, command)(channel(user_id))
        except redis.RedisError:
            return  # the hub's loop notices the broken connection and starts over
        if command == "subscribe":
            state.sent += 1

    def _forget_if_idle(self, user_id: str, state: _Channel) -> None:
        # Kept while confirmations are due, so that they are counted on the right record.
        if not state.listeners and state.confirmed >= state.sent and self._channels.get(user_id) is state:
            del self._channels[user_id]

    def _confirmed(self, channel_name: str) -> None:
        user_id = channel_name[len(CHANNEL_PREFIX):]
        with self._changed:
            state = self._channels.get(user_id)
            if state is None:
                return
            state.confirmed += 1
            if state.resync_when_confirmed:
                state.resync_when_confirmed = False
                for subscription in state.listeners:
                    subscription.deliver(RESYNC)
            self._forget_if_idle(user_id, state)
            self._changed.notify_all()

    def _dispatch(self, channel_name: str, payload: str) -> None:
        user_id, event = parse_channel_message(channel_name, payload)
        with self._lock:
            state = self._channels.get(user_id)
            targets = list(state.listeners) if state else ()
        for subscription in targets:
            subscription.deliver(event)

    def _connected(self, pubsub: redis.client.PubSub) -> None:
        """Subscribe every listened learner on a new connection. Their listeners get
        RESYNC once that is confirmed: events published meanwhile were missed."""
        with self._changed:
            self._generation += 1
            # Only listeners that were live before can have missed anything.
            self._channels = {user_id: _Channel(listeners=state.listeners, sent=1,
                                                resync_when_confirmed=state.confirmed > 0)
                              for user_id, state in self._channels.items() if state.listeners}
            if self._channels:
                pubsub.subscribe(*(channel(user_id) for user_id in self._channels))
            self._pubsub = pubsub
            self._changed.notify_all()

    def _disconnected(self) -> None:
        with self._lock:
            self._pubsub = None

    def _run(self) -> None:
        backoff = 0.1
        while True:
            # No automatic health checks or retries: a health check would write to the
            # connection from this thread while a listener may be writing a SUBSCRIBE,
            # and a silent reconnection would hide missed events. We ping ourselves.
            client = redis.Redis.from_url(self._redis_url, socket_connect_timeout=2, health_check_interval=0,
                                          retry=Retry(NoBackoff(), 0), decode_responses=True)
            pubsub = client.pubsub()
            try:
                pubsub.ping()  # connect now, so that an outage shows here
                pubsub.parse_response(block=False, timeout=2)  # its PONG
                self._connected(pubsub)
                backoff = 0.1
                heard_at = time.monotonic()
                while True:
                    message = pubsub.get_message(timeout=_IDLE_PING_SECONDS)
                    now = time.monotonic()
                    if message is None:
                        if not pubsub.subscribed:  # nothing to hear; a PONG would wait unread
                            heard_at = now
                        elif now - heard_at > 2.5 * _IDLE_PING_SECONDS:
                            raise redis.ConnectionError("Redis stopped answering pings")
                        else:
                            with self._lock:
                                pubsub.ping()
                        continue
                    heard_at = now
                    if message["type"] == "message":
                        self._dispatch(message["channel"], message["data"])
                    elif message["type"] == "subscribe":
                        self._confirmed(message["channel"])
            except Exception:  # reconnect on anything: the hub must outlive Redis restarts
                self._disconnected()
                log.warning("event hub lost Redis; reconnecting in %.1fs", backoff, exc_info=True)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                pubsub.close()
                client.close()


@per_process
def hub() -> Hub:
    """This process's hub (a forked child gets its own)."""
    return Hub(get_settings().redis_url)
