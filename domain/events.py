"""Events to clients: the envelope, the publisher, and replay.

Each learner has a capped Redis Stream (the replay window) and a pub/sub channel (the
live doorbell). One Lua call appends to the stream and publishes with the id the stream
assigned, so live and replayed copies of an event carry the same id and a client can
resume with `last_event_id` without gaps or duplicates.

Ephemeral events (typing, heartbeat, session_ready, error) are never stored; their ids
start with "x-" and cannot be used to resume.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import redis

from domain.metrics import EVENTS_PUBLISHED

CHANNEL_PREFIX = "parlons:events:"

# KEYS: stream, channel, and optionally a key that marks the event published (kept as
# long as the stream): then an event already published is not again, and nil is returned.
# ARGV: maxlen, ttl seconds, envelope JSON without id, origin.
_APPEND_AND_PUBLISH = """
if KEYS[3] and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then return nil end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[4] .. ' ' .. ARGV[3])
return id
"""


def stream_key(user_id: uuid.UUID | str) -> str:
    return f"parlons:stream:{user_id}"


def channel(user_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{user_id}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    type: str
    id: str
    ts: str
    data: dict[str, Any]
    origin: str = "-"  # the socket that caused it, so it is not echoed back (typing)

    def envelope(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "ts": self.ts, "data": self.data}

    @property
    def replayable(self) -> bool:
        return not self.id.startswith("x-")


def stream_id_key(event_id: str) -> tuple[int, int]:
    """Stream ids ("<ms>-<seq>") as a sortable pair."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def is_stream_id(value: str) -> bool:
    ms, sep, seq = value.partition("-")
    return ms.isdigit() and (not sep or seq.isdigit())


def parse_channel_message(channel_name: str, payload: str) -> tuple[str, Event]:
    """(user_id, event) from a pub/sub message as the publisher wrote it."""
    user_id = channel_name[len(CHANNEL_PREFIX):]
    event_id, origin, body = payload.split(" ", 2)
    doc = json.loads(body)
    return user_id, Event(type=doc["type"], id=event_id, ts=doc["ts"], data=doc["data"], origin=origin)


class EventPublisher:
    """The one way to send an event to a learner."""

    def __init__(self, client: redis.Redis, *, maxlen: int, ttl_seconds: int):
        self._redis = client
        self._maxlen = maxlen
        self._ttl = ttl_seconds
        self._append = client.register_script(_APPEND_AND_PUBLISH)

    def publish(self, user_id: uuid.UUID | str, event_type: str, data: dict[str, Any]) -> str:
        """Store the event in the learner's replay window and ring the doorbell; returns its id."""
        return self._publish([stream_key(user_id), channel(user_id)], event_type, data)

    def publish_once(self, user_id: uuid.UUID | str, event_type: str, data: dict[str, Any], *,
                     once_key: str) -> str | None:
        """`publish`, unless an event with `once_key` was published already (then None):
        a job that may run twice after a crash announces each thing once."""
        return self._publish([stream_key(user_id), channel(user_id), f"parlons:published:{once_key}"],
                             event_type, data)

    def _publish(self, keys: list[str], event_type: str, data: dict[str, Any]) -> str | None:
        event_id = self._append(keys=keys, args=[self._maxlen, self._ttl, _body(event_type, data), "-"])
        if event_id is None:
            return None
        EVENTS_PUBLISHED.labels(event_type).inc()
        return event_id.decode() if isinstance(event_id, bytes) else event_id

    def forget(self, user_id: uuid.UUID | str, event_ids: list[str]) -> None:
        """Drop stored events from the learner's replay window (a turn's `reply_delta`s,
        once its `turn_result` carries the whole reply)."""
        if event_ids:
            self._redis.xdel(stream_key(user_id), *event_ids)

    def publish_ephemeral(
        self, user_id: uuid.UUID | str, event_type: str, data: dict[str, Any], origin: str = "-"
    ) -> str:
        """Live-only event (typing): not stored, not replayable."""
        event_id = "x-" + uuid.uuid4().hex[:16]
        self._redis.publish(channel(user_id), f"{event_id} {origin} {_body(event_type, data)}")
        EVENTS_PUBLISHED.labels(event_type).inc()
        return event_id

    def replay(self, user_id: uuid.UUID | str, after_id: str, limit: int = 1000) -> list[Event]:
        """Stored events after `after_id` (exclusive), oldest first."""
        rows = self._redis.xrange(stream_key(user_id), min=f"({after_id}", max="+", count=limit)
        events = []
        for raw_id, fields in rows:
            event_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            doc = json.loads(fields[b"e"] if b"e" in fields else fields["e"])
            events.append(Event(type=doc["type"], id=event_id, ts=doc["ts"], data=doc["data"]))
        return events


def _body(event_type: str, data: dict[str, Any]) -> str:
    """The envelope as stored and sent, without its id (the stream assigns it)."""
    return json.dumps({"type": event_type, "ts": now_iso(), "data": data}, default=str)


def ephemeral_event(event_type: str, data: dict[str, Any]) -> Event:
    """An event made locally for one socket (session_ready, heartbeat, error)."""
    return Event(type=event_type, id="x-" + uuid.uuid4().hex[:16], ts=now_iso(), data=data)
