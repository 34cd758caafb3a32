"""The final events a client counts on — `turn_result`, `hint`, `journey_scored` — reach
the learner even if Redis blips the moment they are published.

The state change commits first (a client told of it can read it), then the event is
published, then the row is marked announced. A row finished a while ago and still not
marked lost its event (Redis was away, or the process died in between): the sweeper
publishes it again from the row. Each is published with a key that remembers it for as
long as the replay window lives, so a thing whose publish did happen (the process died
before the mark) is not announced twice. Penpal replies follow the same rule in
`domain/penpal.py`.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import Session

from domain import hints, journey, turns
from domain.models import Hint, JourneyAnswer, Turn


@dataclass(frozen=True)
class Announced:
    event: str
    model: type
    finished_at: Any  # the column set when the thing is finished
    finished: ColumnElement[bool]
    event_data: Callable[[Any], dict[str, Any]]


def _turn_result(turn: Turn) -> dict[str, Any]:
    view = turns.present_turn(turn)
    return {"session_id": view["session_id"], "turn": view}


TURN_RESULT = Announced("turn_result", Turn, Turn.completed_at, Turn.status != "pending", _turn_result)
HINT = Announced("hint", Hint, Hint.completed_at, Hint.completed_at.is_not(None), hints.hint_event)
JOURNEY_SCORED = Announced("journey_scored", JourneyAnswer, JourneyAnswer.scored_at,
                           JourneyAnswer.scored_at.is_not(None), journey.scored_event)
ALL = (TURN_RESULT, HINT, JOURNEY_SCORED)

# Built once per kind: one runs after every turn.
_MARK = {kind.event: update(kind.model).where(kind.model.id == bindparam("thing_id")).values(announced_at=func.now())
         for kind in ALL}


def mark(db: Session, kind: Announced, thing_id: uuid.UUID | str) -> None:
    """Record that the thing's final event was published."""
    db.execute(_MARK[kind.event], {"thing_id": uuid.UUID(str(thing_id))})


def unannounced(db: Session, kind: Announced, *, finished_before: datetime, limit: int = 200) -> list[Any]:
    """Things finished before `finished_before` whose event was never marked published,
    locked (SKIP LOCKED: two sweepers take different ones) for the caller's transaction."""
    model = kind.model
    return list(db.scalars(
        select(model).where(model.announced_at.is_(None), kind.finished, kind.finished_at < finished_before)
        .order_by(kind.finished_at).limit(limit).with_for_update(skip_locked=True)
    ))
