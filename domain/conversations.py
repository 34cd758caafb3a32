"""Chat sessions: a learner's conversations with characters."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from domain import greetings
from domain.characters import CharacterLibrary
from domain.config import get_settings
from domain.errors import Invalid, NotFound
from domain.ids import parse_uuid
from domain.models import ChatSession, Message, Turn, User
from domain.srs import targets


def create_session(db: Session, *, user: User, characters: CharacterLibrary, mode: str, character_id: str,
                   level: str | None = None, title: str | None = None, with_model: bool = False) -> ChatSession:
    """A new session (in the caller's transaction). A story session opens with the
    character's greeting (domain/greetings.py): written now without a model, its turn's
    view in `session.greeting` to announce after the commit; with a model (`with_model`),
    its outbox entry, to start after the commit."""
    character = characters.get(character_id)
    if character is None:
        raise Invalid(f"Unknown character {character_id!r}.", code="unknown_character",
                      details={"character_id": [f"Choose one of: {', '.join(c.id for c in characters.all())}."]})
    session = ChatSession(
        user_id=user.id,
        mode=mode,
        character_id=character.id,
        level=(level or user.level).upper(),
        title=(title or f"{character.name}").strip()[:200],
        target_words=targets.choose(db, get_settings(), user_id=user.id),
    )
    db.add(session)
    db.flush()
    session.greeting = greetings.open_story(db, session, character, with_model=with_model) \
        if mode == "story" else None
    return session


def get_session(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID) -> ChatSession:
    """The learner's own session; another learner's is indistinguishable from a missing one."""
    session = db.get(ChatSession, parse_uuid(session_id, "session"))
    if session is None or session.user_id != user_id:
        raise NotFound("No such session.", code="session_not_found")
    return session


def list_sessions(db: Session, *, user_id: uuid.UUID, page: int, per_page: int) -> tuple[list[ChatSession], int]:
    query = select(ChatSession).where(ChatSession.user_id == user_id)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(
        query.order_by(ChatSession.last_activity_at.desc(), ChatSession.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


def list_messages(db: Session, *, session: ChatSession, page: int, per_page: int) -> tuple[list[Message], int]:
    """History oldest first, so pages read like the conversation."""
    query = select(Message).where(Message.session_id == session.id)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(
        query.order_by(Message.created_at, Message.role.desc(), Message.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


def latest_turns(db: Session, *, session: ChatSession, limit: int = 20) -> list[Turn]:
    """The session's latest turns, oldest first."""
    rows = db.scalars(select(Turn).where(Turn.session_id == session.id).options(selectinload(Turn.messages))
                      .order_by(Turn.created_at.desc()).limit(limit))
    return list(reversed(rows.all()))
