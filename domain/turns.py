"""Turns: accepting a learner message, recording each pipeline stage once, finishing.

Every write that a retried task could repeat is a conditional UPDATE: the UPDATE is the
claim, not the read before it. A task whose UPDATE matches no row lost the race (or a
previous delivery already did the work) and exits quietly.

The statements on the pipeline's path are built once, on the tables, with bind
parameters: building an expression and going through the ORM cost more than the
database round trip on every stage of every turn.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from domain import outbox, xp
from domain.conversations import parse_uuid
from domain.errors import NotFound
from domain.models import ChatSession, Message, Turn, User, utcnow

OUTBOX_KIND = "turn"

_turns, _messages, _sessions = Turn.__table__, Message.__table__, ChatSession.__table__
_users = User.__table__
_turn_id = bindparam("turn_id")

_ALL_STAGES_DONE = and_(_turns.c.grammar.is_not(None), _turns.c.moderation.is_not(None),
                        _turns.c.reply_text.is_not(None))
_PENDING = and_(_turns.c.id == _turn_id, _turns.c.status == "pending")

_STAGE_INPUT = (
    select(_turns.c.user_id, _turns.c.session_id, _messages.c.content, _sessions.c.character_id,
           _sessions.c.level, _turns.c.grammar, _turns.c.moderation, _turns.c.reply_text.is_not(None))
    .join(_messages, (_messages.c.turn_id == _turns.c.id) & (_messages.c.role == "user"))
    .join(_sessions, _sessions.c.id == _turns.c.session_id)
    .where(_PENDING)
)
_IS_READY = select(_turns.c.id).where(_PENDING, _ALL_STAGES_DONE)
_RECORD = {
    stage: update(_turns).where(_PENDING, _turns.c[stage].is_(None))
    .values({stage: bindparam("result")}).returning(_ALL_STAGES_DONE)
    for stage in ("grammar", "moderation")
}
_CLAIM_REPLY = (
    update(_turns)
    .where(_PENDING, _turns.c.reply_text.is_(None),
           _turns.c.reply_lease_until.is_(None) | (_turns.c.reply_lease_until < bindparam("now")))
    .values(reply_attempts=_turns.c.reply_attempts + 1, reply_lease_until=bindparam("lease_until"))
    .returning(_turns.c.reply_attempts)
)
_OUR_REPLY = and_(_PENDING, _turns.c.reply_text.is_(None), _turns.c.reply_attempts == bindparam("attempt"))
_RENEW_LEASE = update(_turns).where(_OUR_REPLY).values(reply_lease_until=bindparam("lease_until"))
_RECORD_REPLY = update(_turns).where(_OUR_REPLY).values(
    reply_text=bindparam("reply"), reply_provider=bindparam("provider"), reply_lease_until=None,
    degraded=bindparam("degraded")).returning(_ALL_STAGES_DONE)
_FINISH = (update(_turns).where(_PENDING, _ALL_STAGES_DONE)
           .values(status="complete", completed_at=bindparam("now")).returning(*_turns.c))
_USER_MESSAGE = select(_messages).where(_messages.c.turn_id == _turn_id, _messages.c.role == "user")
_ADD_TURN = (
    pg_insert(_turns)
    .on_conflict_do_nothing(index_elements=[_turns.c.session_id, _turns.c.client_message_id],
                            index_where=_turns.c.client_message_id.is_not(None))
    .returning(_turns.c.id)
)
_ADD_MESSAGE = insert(_messages)
_TOUCH_SESSION = update(_sessions).where(_sessions.c.id == bindparam("session_id")).values(
    last_activity_at=bindparam("now"))
_CREDIT_SESSION = update(_sessions).where(_sessions.c.id == bindparam("session_id")).values(
    xp=_sessions.c.xp + bindparam("xp"), turn_count=_sessions.c.turn_count + 1, last_activity_at=bindparam("now"))
_CREDIT_USER = update(_users).where(_users.c.id == bindparam("user_id")).values(xp=_users.c.xp + bindparam("xp"))
_SET_XP = update(_turns).where(_turns.c.id == _turn_id).values(xp_awarded=bindparam("xp"))


@dataclass(frozen=True)
class StageWrite:
    won: bool  # this call stored the stage's result
    ready: bool  # every stage is now stored and the turn still pending: finalize it


@dataclass(frozen=True)
class StageInput:
    """What a stage needs to know about a pending turn, read in one query."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    text: str
    character_id: str
    level: str
    grammar: dict[str, Any] | None
    moderation: dict[str, Any] | None
    has_reply: bool

    @property
    def ready(self) -> bool:
        return self.grammar is not None and self.moderation is not None and self.has_reply


def present_message(message: Message | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {"id": str(message.id), "role": message.role, "content": message.content,
            "created_at": message.created_at.isoformat()}


def present_turn(turn: Turn, messages: list[Message] | None = None) -> dict[str, Any]:
    """The turn as GET /turns/{id} returns it and as events carry it. Pass `messages`
    when you have them, to save loading them again."""
    by_role = {m.role: m for m in (turn.messages if messages is None else messages)}
    return {
        "id": str(turn.id),
        "session_id": str(turn.session_id),
        "status": turn.status,
        "user_message": present_message(by_role.get("user")),
        "assistant_message": present_message(by_role.get("assistant")),
        "grammar": turn.grammar,
        "moderation": turn.moderation,
        "word_feedback": turn.word_feedback or [],
        "xp_awarded": turn.xp_awarded,
        "degraded": turn.degraded,
        "reply_provider": turn.reply_provider,
        "error": turn.error,
        "created_at": turn.created_at.isoformat(),
        "completed_at": turn.completed_at.isoformat() if turn.completed_at else None,
    }


def submit_turn(db: Session, *, session: ChatSession, content: str, client_message_id: str | None,
                suggested_word_ids: list[int], deadline_seconds: int) -> tuple[dict[str, Any], uuid.UUID, bool]:
    """Write the turn, the learner's message and the outbox row in the caller's transaction.

    Returns (turn view, turn id, created). A `client_message_id` already used in this
    session returns the turn it created, so a client may safely resend after a timeout
    (the unique index decides, so two concurrent resends cannot both create a turn).
    """
    now = utcnow()
    turn = SimpleNamespace(
        id=uuid.uuid4(), session_id=session.id, user_id=session.user_id, status="pending",
        client_message_id=client_message_id, suggested_word_ids=list(suggested_word_ids), grammar=None,
        moderation=None, reply_text=None, reply_provider=None, reply_attempts=0, reply_lease_until=None,
        word_feedback=[], xp_awarded=0, degraded=False, error=None, created_at=now,
        deadline_at=now + timedelta(seconds=deadline_seconds), completed_at=None,
    )
    if db.execute(_ADD_TURN, vars(turn)).first() is None:
        existing = _find_by_client_message_id(db, session.id, client_message_id or "")
        return present_turn(existing), existing.id, False
    message = SimpleNamespace(id=uuid.uuid4(), session_id=session.id, turn_id=turn.id, role="user",
                              content=content, created_at=now)
    db.execute(_ADD_MESSAGE, vars(message))
    outbox.add(db, kind=OUTBOX_KIND, ref_id=turn.id)
    db.execute(_TOUCH_SESSION, {"session_id": session.id, "now": now})
    return present_turn(turn, [message]), turn.id, True


def _find_by_client_message_id(db: Session, session_id: uuid.UUID, client_message_id: str) -> Turn | None:
    return db.scalar(select(Turn).where(Turn.session_id == session_id, Turn.client_message_id == client_message_id))


def get_turn(db: Session, *, user_id: uuid.UUID, turn_id: str | uuid.UUID) -> Turn:
    turn = db.get(Turn, parse_uuid(turn_id, "turn"))
    if turn is None or turn.user_id != user_id:
        raise NotFound("No such turn.", code="turn_not_found")
    return turn


def stage_input(db: Session, turn_id: uuid.UUID) -> StageInput | None:
    """The pending turn's inputs, or None if it is finished or gone."""
    row = db.execute(_STAGE_INPUT, {"turn_id": turn_id}).first()
    return StageInput(*row) if row is not None else None


def is_ready(db: Session, turn_id: uuid.UUID) -> bool:
    return db.execute(_IS_READY, {"turn_id": turn_id}).first() is not None


def _record(db: Session, turn_id: uuid.UUID, statement: Any, params: dict[str, Any]) -> StageWrite:
    row = db.execute(statement, {"turn_id": turn_id, **params}).first()
    if row is not None:
        return StageWrite(won=True, ready=bool(row[0]))
    return StageWrite(won=False, ready=is_ready(db, turn_id))


def record_grammar(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    return _record(db, turn_id, _RECORD["grammar"], {"result": result})


def record_moderation(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    return _record(db, turn_id, _RECORD["moderation"], {"result": result})


def claim_reply(db: Session, turn_id: uuid.UUID, lease_seconds: int) -> int | None:
    """Take the reply for this turn for `lease_seconds`; returns the attempt number.

    A lease, not a flag: if the worker writing the reply dies, another delivery may take
    over once the lease has run out.
    """
    now = utcnow()
    return db.execute(_CLAIM_REPLY, {"turn_id": turn_id, "now": now,
                                     "lease_until": now + timedelta(seconds=lease_seconds)}).scalar()


def renew_reply_lease(db: Session, turn_id: uuid.UUID, attempt: int, lease_seconds: int) -> bool:
    """Extend our lease while the reply streams; False if another attempt took over."""
    result = db.execute(_RENEW_LEASE, {"turn_id": turn_id, "attempt": attempt,
                                       "lease_until": utcnow() + timedelta(seconds=lease_seconds)})
    return result.rowcount == 1


def record_reply(db: Session, turn_id: uuid.UUID, *, attempt: int, reply: str, provider: str,
                 degraded: bool = False) -> StageWrite:
    return _record(db, turn_id, _RECORD_REPLY,
                   {"attempt": attempt, "reply": reply, "provider": provider, "degraded": degraded})


def finalize_turn(db: Session, turn_id: uuid.UUID) -> dict[str, Any] | None:
    """Complete a turn whose stages are all stored: the assistant message, XP, and the
    end of its outbox entry, in the caller's transaction. Returns the turn's view if this
    call finished it, None if it was not ready or already finished."""
    now = utcnow()
    turn = db.execute(_FINISH, {"turn_id": turn_id, "now": now}).first()
    if turn is None:
        return None
    user_message = db.execute(_USER_MESSAGE, {"turn_id": turn_id}).one()
    awarded = xp.for_turn(text=user_message.content, error_count=len(turn.grammar.get("errors", [])),
                          flagged=bool(turn.moderation.get("flagged")))
    reply = SimpleNamespace(id=uuid.uuid4(), session_id=turn.session_id, turn_id=turn_id, role="assistant",
                            content=turn.reply_text, created_at=now)
    db.execute(_ADD_MESSAGE, vars(reply))
    db.execute(_SET_XP, {"turn_id": turn_id, "xp": awarded})
    db.execute(_CREDIT_SESSION, {"session_id": turn.session_id, "xp": awarded, "now": now})
    db.execute(_CREDIT_USER, {"user_id": turn.user_id, "xp": awarded})
    outbox.remove(db, kind=OUTBOX_KIND, ref_ids=[turn_id])
    view = present_turn(turn, [user_message, reply])
    view["xp_awarded"] = awarded
    return view


def stalled_ready_turn_ids(db: Session, *, older_than: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Pending turns whose stages are all stored but that nobody finalized (a worker died
    between the last stage and the finish)."""
    return list(db.scalars(
        select(Turn.id).where(Turn.status == "pending", _ALL_STAGES_DONE, Turn.created_at < older_than).limit(limit)
    ))


def fail_overdue_turns(db: Session, *, limit: int = 100) -> list[Turn]:
    """Finish turns past their deadline as failed, so no turn stays pending forever."""
    overdue = select(Turn.id).where(Turn.status == "pending", Turn.deadline_at < text("now()")) \
        .limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    ids = list(db.scalars(
        update(Turn)
        .where(Turn.id.in_(overdue))
        .values(status="failed", completed_at=utcnow(), reply_lease_until=None,
                error={"code": "deadline_exceeded", "message": "No reply could be produced in time."})
        .returning(Turn.id)
    ))
    if not ids:
        return []
    outbox.remove(db, kind=OUTBOX_KIND, ref_ids=ids)
    return [db.get(Turn, turn_id, populate_existing=True) for turn_id in ids]
