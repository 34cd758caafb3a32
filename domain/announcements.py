"""The final events a client counts on — `turn_result`, `hint`, `journey_scored` — reach
the learner even if Redis blips the moment they are published.

The state change commits first (a client told of it can read it), then the event is
published, then the row is marked announced. A row finished a while ago and still not
marked lost its event (Redis was away, or the process died in between): the sweeper
publishes it again from the row. Each is published with a key that remembers it for as
long as the replay window lives, so a thing whose publish did happen (the process died
before the mark) is not announced twice. Penpal replies follow the same rule in
`domain/penpal.py`.

Each feature declares its final event as an `Announced` beside its rows (turns.ANNOUNCED,
hints.ANNOUNCED, journey.ANNOUNCED); the sweeper (domain/maintenance.py) lists them.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import Session

from domain.db import statement_scope
from domain.events import EventPublisher

# A thing finished (or a penpal reply delivered) this long ago and still unannounced was
# left by a stopped job: the sweeper (or the delivery job) announces it again.
ANNOUNCE_GRACE_SECONDS = 30


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
        return update(table).where(table.c.id == bindparam("thing_id")).values(announced_at=func.now())


def announce(publisher: EventPublisher, kind: Announced, user_id: uuid.UUID, thing_id: uuid.UUID | str,
             data: dict[str, Any], db: Session | None = None) -> None:
    """Publish a final event once per thing (a key beside the learner's stream
    remembers it), then mark the row announced: a worker and the sweeper that both
    publish it leave one event."""
    publisher.publish_once(user_id, kind.event, data, once_key=f"{kind.event}:{thing_id}")
    if db is not None:
        mark(db, kind, thing_id)
        return
    with statement_scope() as scoped:
        mark(scoped, kind, thing_id)


def mark(db: Session, kind: Announced, thing_id: uuid.UUID | str) -> None:
    """Record that the thing's final event was published."""
    db.execute(kind._mark, {"thing_id": uuid.UUID(str(thing_id))})


def unannounced(db: Session, kind: Announced, *, finished_before: datetime, limit: int = 200) -> list[Any]:
    """Things finished before `finished_before` whose event was never marked published,
    locked (SKIP LOCKED: two sweepers take different ones) for the caller's transaction."""
    model = kind.model
    return list(db.scalars(
        select(model).where(model.announced_at.is_(None), kind.finished, kind.finished_at < finished_before)
        .order_by(kind.finished_at).limit(limit).with_for_update(skip_locked=True)
    ))
