"""The tables. The schema changes only through Alembic (migrations/)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    # none_as_null: Python None is SQL NULL, never the JSON value null (the pipeline's
    # "stage not done yet" test is IS NULL).
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB(none_as_null=True),
                           list[Any]: JSONB(none_as_null=True)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    target_language: Mapped[str] = mapped_column(String(8), default="fr")
    native_language: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(2), default="A1")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    role: Mapped[str] = mapped_column(String(16), default="learner")
    xp: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChatSession(Base):
    """A conversation between a learner and one character."""

    __tablename__ = "chat_sessions"
    __table_args__ = (
        CheckConstraint("mode IN ('story', 'sandbox')", name="mode_known"),
        Index("ix_chat_sessions_user_activity", "user_id", "last_activity_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    character_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    xp: Mapped[int] = mapped_column(Integer, default=0)
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The running summary of the conversation's older messages (domain/memory.py): the
    # prompt carries it instead of them, so long sessions stay within the model's context.
    summary: Mapped[str | None] = mapped_column(Text)
    summarized_until: Mapped[datetime | None]  # messages created up to this instant are in the summary


class Message(Base):
    """One line of a conversation. A turn has at most one message per role."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("turn_id", "role", name="uq_messages_turn_role"),
        CheckConstraint("role IN ('user', 'assistant')", name="role_known"),
        Index("ix_messages_session_created", "session_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    turn_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Turn(Base):
    """A learner message and everything the pipeline produces for it.

    Each stage (grammar, moderation, reply) fills its own column exactly once through a
    conditional UPDATE; the turn completes when all three are present.
    """

    __tablename__ = "turns"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'complete', 'failed')", name="status_known"),
        Index(
            "uq_turns_client_message_id",
            "session_id",
            "client_message_id",
            unique=True,
            postgresql_where=text("client_message_id IS NOT NULL"),
        ),
        Index("ix_turns_pending_deadline", "deadline_at", postgresql_where=text("status = 'pending'")),
        Index("ix_turns_session_created", "session_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    suggested_word_ids: Mapped[list[Any]] = mapped_column(default=list)
    grammar: Mapped[dict[str, Any] | None]
    moderation: Mapped[dict[str, Any] | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_provider: Mapped[str | None] = mapped_column(String(32))
    reply_attempts: Mapped[int] = mapped_column(Integer, default=0)
    reply_lease_until: Mapped[datetime | None]
    word_feedback: Mapped[list[Any]] = mapped_column(default=list)
    xp_awarded: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    messages: Mapped[list[Message]] = relationship(
        primaryjoin="Turn.id == Message.turn_id", foreign_keys="Message.turn_id", viewonly=True,
    )


class Hint(Base):
    """Two or three things the learner could say next, asked for (POST /hints, a
    `hint_request` frame) or prompted by a voice transcript. Suggestions are NULL until
    the llm worker has written them."""

    __tablename__ = "hints"
    __table_args__ = (
        CheckConstraint("source IN ('request', 'transcript')", name="source_known"),
        Index("ix_hints_session_created", "session_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    turn_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("turns.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    suggestions: Mapped[list[Any] | None]
    provider: Mapped[str | None] = mapped_column(String(32))
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class TranscriptSegment(Base):
    """A piece of a voice conversation's transcript, as the client heard it."""

    __tablename__ = "transcript_segments"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'assistant')", name="role_known"),
        Index("ix_transcript_segments_session_created", "session_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEntry(Base):
    """Work that must reach the broker. Written in the same transaction as the thing it
    is about; deleted when that thing is finished, so a lost publish is re-sent."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_outbox_kind_ref"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_published_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)
