"""The final events a client counts on — `turn_result`, `hint`, `journey_scored` — reach
the learner even if Redis blips the moment they are published.

The state change commits first (a client told of it can read it), then the event is
published, then the row is marked announced. A row finished a while ago and still not
marked lost its event (Redis was away, or the process died in between): the sweeper
publishes it again from the row. Each is published with a key that remembers it for as
long as the replay window lives, so a thing whose publish did happen (the process died
before the mark) is not announced twice. Penpal replies follow the same rule in
`domain/penpal.py`.

The marks a process makes are written together, one UPDATE per kind a moment later
(`MARK_INTERVAL_SECONDS`), not a transaction per thing: a turn's mark was a transaction
of its own on every turn. A mark lost with its process costs a sweep and no event: the
sweeper finds the thing unmarked, publishes it again, and its key keeps that publish out.

Each feature declares its final event as an `Announced` beside its rows (turns.ANNOUNCED,
hints.ANNOUNCED, journey.ANNOUNCED); the sweeper (domain/maintenance.py) lists them.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from domain.db import describe_unavailable, is_unavailable, statement_scope
from domain.events import EventPublisher

# A thing finished (or a penpal reply delivered) this long ago and still unannounced was
# left by a stopped job: the sweeper (or the delivery job) announces it again.
ANNOUNCE_GRACE_SECONDS = 30
# How long a mark waits for others to be written with it: far below the grace.
MARK_INTERVAL_SECONDS = 0.2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announced:
    event: str
    model: type
    finished_at: Any  # the column set when the thing is finished
    finished: ColumnElement[bool]
    event_data: Callable[[Any], dict[str, Any]]

    @cached_property
    def _mark(self) -> Any:  # built once per kind: one runs after every turn
        # On the table, not the mapped class: the ORM's bulk UPDATE would first look for
        # the row among the session's objects, and there are none.
        table = self.model.__table__
        return (update(table).where(table.c.id == any_(bindparam("thing_ids", type_=ARRAY(UUID(as_uuid=True)))))
                .values(announced_at=func.now()))


def announce(publisher: EventPublisher, kind: Announced, user_id: uuid.UUID, thing_id: uuid.UUID | str,
             data: dict[str, Any], db: Session | None = None) -> None:
    """Publish a final event once per thing (a key beside the learner's stream
    remembers it), then mark the row announced: a worker and the sweeper that both
    publish it leave one event. With `db` (the sweeper, holding the row) the mark is
    made in its transaction; otherwise it is written with the process's other marks."""
    publisher.publish_once(user_id, kind.event, data, once_key=f"{kind.event}:{thing_id}")
    thing_id = uuid.UUID(str(thing_id))
    if db is not None:
        db.execute(kind._mark, {"thing_ids": [thing_id]})
    else:
        _pending_marks.add(kind, thing_id)


class _PendingMarks:
    """The marks this process has not written yet, and the thread that writes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._things: dict[str, tuple[Announced, set[uuid.UUID]]] = {}
        self._writer: threading.Thread | None = None
        self._writer_pid: int | None = None  # a forked child starts its own writer

    def add(self, kind: Announced, thing_id: uuid.UUID) -> None:
        with self._lock:
            self._things.setdefault(kind.event, (kind, set()))[1].add(thing_id)
            if self._writer_pid != os.getpid() or not self._writer.is_alive():
                self._writer_pid = os.getpid()
                self._writer = threading.Thread(target=self._write_every_interval, name="announcement-marks",
                                                daemon=True)
                self._writer.start()

    def _write_every_interval(self) -> None:
        while True:
            time.sleep(MARK_INTERVAL_SECONDS)
            self.write()

    def write(self) -> None:
        with self._lock:
            things, self._things = self._things, {}
        if not things:
            return
        try:
            with statement_scope() as db:
                for kind, thing_ids in things.values():
                    db.execute(kind._mark, {"thing_ids": list(thing_ids)})
        except Exception as error:  # their keys keep the sweeper's publish out; it marks them
            unavailable = is_unavailable(error)  # an outage is one line; anything else, its traceback
            log.warning("%d announcement marks not written (%s); the sweeper will make them",
                        sum(len(ids) for _, ids in things.values()),
                        describe_unavailable(error) if unavailable else type(error).__name__,
                        exc_info=not unavailable)


_pending_marks = _PendingMarks()


def write_pending_marks() -> None:
    """Write the marks this process has not written yet, now (at exit: a process that
    stops cleanly leaves none for the sweeper)."""
    _pending_marks.write()


atexit.register(write_pending_marks)


def unannounced(db: Session, kind: Announced, *, finished_before: datetime, limit: int = 200) -> list[Any]:
    """Things finished before `finished_before` whose event was never marked published,
    locked (SKIP LOCKED: two sweepers take different ones) for the caller's transaction."""
    model = kind.model
    return list(db.scalars(
        select(model).where(model.announced_at.is_(None), kind.finished, kind.finished_at < finished_before)
        .order_by(kind.finished_at).limit(limit).with_for_update(skip_locked=True)
    ))
