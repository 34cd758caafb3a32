"""Turns: accepting a learner message, recording each pipeline stage once, finishing.

Every write that a retried task could repeat is a conditional UPDATE: the UPDATE is the
claim, not the read before it. A task whose UPDATE matches no row lost the race (or a
previous delivery already did the work) and exits quietly.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import outbox, xp
from domain.conversations import parse_uuid
from domain.errors import NotFound
from domain.models import ChatSession, Message, Turn, User, utcnow

OUTBOX_KIND = "turn"

_ALL_STAGES_DONE = and_(Turn.grammar.is_not(None), Turn.moderation.is_not(None), Turn.reply_text.is_not(None))


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
    session returns the turn it created, so a client may safely resend after a timeout.
    """
    if client_message_id:
        existing = _find_by_client_message_id(db, session.id, client_message_id)
        if existing is not None:
            return present_turn(existing), existing.id, False
    now = utcnow()
    turn = Turn(
        id=uuid.uuid4(),
        session_id=session.id,
        user_id=session.user_id,
        status="pending",
        client_message_id=client_message_id,
        suggested_word_ids=list(suggested_word_ids),
        created_at=now,
        deadline_at=now + timedelta(seconds=deadline_seconds),
    )
    if client_message_id:
        try:
            with db.begin_nested():
                db.add(turn)
                db.flush()
        except IntegrityError:
            # A concurrent request with the same client_message_id won the insert.
            existing = _find_by_client_message_id(db, session.id, client_message_id)
            if existing is None:
                raise
            return present_turn(existing), existing.id, False
    else:
        db.add(turn)
        db.flush()  # the turn row first: messages and the outbox refer to it
    message = Message(id=uuid.uuid4(), session_id=session.id, turn_id=turn.id, role="user", content=content,
                      created_at=now)
    db.add(message)
    outbox.add(db, kind=OUTBOX_KIND, ref_id=turn.id)
    session.last_activity_at = now
    db.flush()
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
    row = db.execute(
        select(Turn.user_id, Turn.session_id, Message.content, ChatSession.character_id, ChatSession.level,
               Turn.grammar, Turn.moderation, Turn.reply_text.is_not(None))
        .join(Message, (Message.turn_id == Turn.id) & (Message.role == "user"))
        .join(ChatSession, ChatSession.id == Turn.session_id)
        .where(Turn.id == turn_id, Turn.status == "pending")
    ).first()
    return StageInput(*row) if row is not None else None


def _record(db: Session, turn_id: uuid.UUID, claim: Any, values: dict[str, Any]) -> StageWrite:
    row = db.execute(
        update(Turn)
        .where(Turn.id == turn_id, Turn.status == "pending", claim)
        .values(**values)
        .returning(_ALL_STAGES_DONE)
    ).first()
    if row is not None:
        return StageWrite(won=True, ready=bool(row[0]))
    return StageWrite(won=False, ready=is_ready(db, turn_id))


def is_ready(db: Session, turn_id: uuid.UUID) -> bool:
    return bool(db.scalar(select(Turn.id).where(Turn.id == turn_id, Turn.status == "pending", _ALL_STAGES_DONE)))


def record_grammar(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    return _record(db, turn_id, Turn.grammar.is_(None), {"grammar": result})


def record_moderation(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    return _record(db, turn_id, Turn.moderation.is_(None), {"moderation": result})


def claim_reply(db: Session, turn_id: uuid.UUID, lease_seconds: int) -> int | None:
    """Take the reply for this turn for `lease_seconds`; returns the attempt number.

    A lease, not a flag: if the worker writing the reply dies, another delivery may take
    over once the lease has run out.
    """
    now = utcnow()
    return db.scalar(
        update(Turn)
        .where(
            Turn.id == turn_id,
            Turn.status == "pending",
            Turn.reply_text.is_(None),
            (Turn.reply_lease_until.is_(None)) | (Turn.reply_lease_until < now),
        )
        .values(reply_attempts=Turn.reply_attempts + 1, reply_lease_until=now + timedelta(seconds=lease_seconds))
        .returning(Turn.reply_attempts)
    )


def renew_reply_lease(db: Session, turn_id: uuid.UUID, attempt: int, lease_seconds: int) -> bool:
    """Extend our lease while the reply streams; False if another attempt took over."""
    result = db.execute(
        update(Turn)
        .where(Turn.id == turn_id, Turn.reply_attempts == attempt, Turn.reply_text.is_(None), Turn.status == "pending")
        .values(reply_lease_until=utcnow() + timedelta(seconds=lease_seconds))
    )
    return result.rowcount == 1


def record_reply(db: Session, turn_id: uuid.UUID, *, attempt: int, reply: str, provider: str,
                 degraded: bool = False) -> StageWrite:
    claim = (Turn.reply_text.is_(None)) & (Turn.reply_attempts == attempt)
    return _record(db, turn_id, claim, {"reply_text": reply, "reply_provider": provider,
                                        "reply_lease_until": None, "degraded": degraded})


def finalize_turn(db: Session, turn_id: uuid.UUID) -> dict[str, Any] | None:
    """Complete a turn whose stages are all stored: the assistant message, XP, and the
    end of its outbox entry, in the caller's transaction. Returns the turn's view if this
    call finished it, None if it was not ready or already finished."""
    now = utcnow()
    turn = db.scalars(
        update(Turn)
        .where(Turn.id == turn_id, Turn.status == "pending", _ALL_STAGES_DONE)
        .values(status="complete", completed_at=now)
        .returning(Turn),
        execution_options={"populate_existing": True},
    ).first()
    if turn is None:
        return None
    user_message = db.scalars(select(Message).where(Message.turn_id == turn_id, Message.role == "user")).one()
    turn.xp_awarded = xp.for_turn(
        text=user_message.content,
        error_count=len(turn.grammar.get("errors", [])),
        flagged=bool(turn.moderation.get("flagged")),
    )
    reply = Message(id=uuid.uuid4(), session_id=turn.session_id, turn_id=turn.id, role="assistant",
                    content=turn.reply_text, created_at=now)
    db.add(reply)
    db.execute(update(ChatSession).where(ChatSession.id == turn.session_id).values(
        xp=ChatSession.xp + turn.xp_awarded, turn_count=ChatSession.turn_count + 1, last_activity_at=now))
    db.execute(update(User).where(User.id == turn.user_id).values(xp=User.xp + turn.xp_awarded))
    outbox.remove(db, kind=OUTBOX_KIND, ref_id=turn.id)
    db.flush()
    return present_turn(turn, [user_message, reply])


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
    db.execute(delete(outbox.OutboxEntry).where(outbox.OutboxEntry.kind == OUTBOX_KIND,
                                                outbox.OutboxEntry.ref_id.in_(ids)))
    return [db.get(Turn, turn_id, populate_existing=True) for turn_id in ids]
