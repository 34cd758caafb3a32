"""The tables. The schema changes only through Alembic (migrations/)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
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
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9, server_default=text("0.9"))
    # The teachers of the learner's classes may read their penpal letters (domain/classes.py); off by default.
    share_letters_with_teachers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the address was confirmed (domain/email_verification.py); accounts older than
    # verification, and those an operator made, count as verified.
    email_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class ChatSession(Base):
    """A conversation between a learner and one character."""

    __tablename__ = "chat_sessions"
    __table_args__ = (
        CheckConstraint("mode IN ('story', 'sandbox')", name="mode_known"),
        CheckConstraint("status IN ('active', 'paused', 'ended')", name="status_known"),
        Index("ix_chat_sessions_user_activity", "user_id", "last_activity_at"),
        Index("ix_chat_sessions_open_activity", "last_activity_at", postgresql_where=text("status <> 'ended'")),
        Index("ix_chat_sessions_unannounced", "ended_at",
              postgresql_where=text("announced_at IS NULL AND status = 'ended'")),
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
    # The words the conversation offers the learner now, [{word_id, lemma, translation}]
    # (domain/srs/targets.py): chosen at the start, refreshed after each turn's reviews.
    target_words: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    # active, paused (sending a message resumes it) or ended (refuses messages); see domain/session_summary.py
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    ended_at: Mapped[datetime | None]
    # The recap stored when the session ended (GET /sessions/{id}/summary); not the memory's `summary` above.
    recap: Mapped[dict[str, Any] | None]
    announced_at: Mapped[datetime | None]  # when session_summary was published (the sweeper re-announces)


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
        Index("ix_turns_user_created", "user_id", "created_at"),  # progress analytics: a learner's turns by day
        Index("ix_turns_unannounced", "completed_at",
              postgresql_where=text("announced_at IS NULL AND status <> 'pending'")),
        CheckConstraint("kind IN ('message', 'greeting')", name="kind_known"),
        Index("uq_turns_one_greeting", "session_id", unique=True, postgresql_where=text("kind = 'greeting'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # message: the learner's, with the pipeline's results; greeting: the character's opening
    # line in a story session, an assistant message alone (domain/greetings.py)
    kind: Mapped[str] = mapped_column(String(16), default="message", server_default="message")
    client_message_id: Mapped[str | None] = mapped_column(String(64))
    suggested_word_ids: Mapped[list[Any]] = mapped_column(default=list)
    # The session's target words when the turn was written (what the reply was asked to use).
    target_words: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'::jsonb"))
    grammar: Mapped[dict[str, Any] | None]
    moderation: Mapped[dict[str, Any] | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_provider: Mapped[str | None] = mapped_column(String(32))
    word_feedback: Mapped[list[Any]] = mapped_column(default=list)
    xp_awarded: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    degraded_reason: Mapped[str | None] = mapped_column(String(32))  # e.g. budget_exhausted
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None]  # when turn_result was published (the sweeper re-announces)

    messages: Mapped[list[Message]] = relationship(
        primaryjoin="Turn.id == Message.turn_id", foreign_keys="Message.turn_id", viewonly=True,
    )


class TurnAudio(Base):
    """A spoken turn's recording (POST /sessions/{id}/messages with an audio upload), stored
    with the turn so an acknowledged recording is never lost, and deleted once it is
    transcribed (its transcript becomes the turn's user message) or the turn has failed
    (domain/audio_turns.py). Its outbox entry (kind `turn_audio`) carries the transcription."""

    __tablename__ = "turn_audio"

    turn_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes]
    mime: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Hint(Base):
    """Two or three things the learner could say next, asked for (POST /hints, a
    `hint_request` frame) or prompted by a voice transcript. Suggestions are NULL until
    the llm worker has written them."""

    __tablename__ = "hints"
    __table_args__ = (
        CheckConstraint("source IN ('request', 'transcript')", name="source_known"),
        Index("ix_hints_session_created", "session_id", "created_at"),
        Index("ix_hints_unannounced", "completed_at",
              postgresql_where=text("announced_at IS NULL AND completed_at IS NOT NULL")),
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
    announced_at: Mapped[datetime | None]  # when the hint event was published


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
    moderation: Mapped[dict[str, Any] | None]  # a learner's segment: the moderation verdict, once checked


class OutboxEntry(Base):
    """Work that must reach the broker. Written in the same transaction as the thing it
    is about (stamped as published: the publish follows the commit, and a failed one
    clears the stamp); deleted when that thing is finished, so a lost publish is re-sent.
    The task that calls a model for it holds it for a while first (`lease_until`,
    `claims` counts the holds), so no other delivery makes the same paid call."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_outbox_kind_ref"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_published_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claims_at_retry: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dead_at: Mapped[datetime | None]  # gave up after OUTBOX_MAX_ATTEMPTS; `flask outbox retry` revives it
    dead_reason: Mapped[str | None] = mapped_column(String(200))


class Word(Base):
    """A French word of the vocabulary (`flask vocab seed`), with what a learner needs."""

    __tablename__ = "vocabulary"
    __table_args__ = (
        UniqueConstraint("lemma", "pos", name="uq_vocabulary_lemma_pos"),
        CheckConstraint("cefr_level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2')", name="cefr_level_known"),
        CheckConstraint("gender IS NULL OR gender IN ('m', 'f', 'mf')", name="gender_known"),
        Index("ix_vocabulary_level_rank", "cefr_level", "frequency_rank"),
        Index("ix_vocabulary_rank", "frequency_rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lemma: Mapped[str] = mapped_column(String(64))
    pos: Mapped[str] = mapped_column(String(16))  # noun, verb, adjective, adverb...
    gender: Mapped[str | None] = mapped_column(String(2))  # nouns: m, f or mf
    translation: Mapped[str] = mapped_column(String(255))
    frequency_rank: Mapped[int] = mapped_column(Integer)  # 1 = the most frequent
    cefr_level: Mapped[str] = mapped_column(String(2))
    example: Mapped[str] = mapped_column(Text)


class Card(Base):
    """A learner's FSRS card for one word: the scheduler's state after the last review."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("state IN (1, 2, 3)", name="state_known"),  # fsrs.State: learning, review, relearning
        # Covering: the queue orders every due card by retrievability from the index alone.
        Index("ix_cards_user_due", "user_id", "due", postgresql_include=["word_id", "last_review", "stability"]),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    word_id: Mapped[int] = mapped_column(ForeignKey("vocabulary.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[int] = mapped_column(SmallInteger)
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


STATE_AFTER_SQL = "CASE result ->> 'state' WHEN 'learning' THEN 1 WHEN 'review' THEN 2 WHEN 'relearning' THEN 3 END"
STABILITY_AFTER_SQL = "CAST(result ->> 'stability' AS float8)"


class ReviewLog(Base):
    """Every review of a card, from the flashcards or from a conversation. The optimiser
    fits a learner's parameters to these."""

    __tablename__ = "review_logs"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 4", name="rating_known"),  # fsrs.Rating
        CheckConstraint("source IN ('review', 'conversation')", name="source_known"),
        ForeignKeyConstraint(["user_id", "word_id"], ["cards.user_id", "cards.word_id"], ondelete="CASCADE"),
        Index("uq_review_logs_client_review_id", "user_id", "client_review_id", unique=True,
              postgresql_where=text("client_review_id IS NOT NULL")),
        # Covering: the progress analytics read a learner's whole log from this index alone.
        Index("ix_review_logs_card", "user_id", "word_id", "reviewed_at",
              postgresql_include=["previous_state", "rating", "source", "state_after", "stability_after"]),
        Index("ix_review_logs_user_reviewed", "user_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID]
    word_id: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(SmallInteger)
    reviewed_at: Mapped[datetime]
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    client_review_id: Mapped[str | None] = mapped_column(String(64))
    turn_id: Mapped[uuid.UUID | None]  # the conversation turn a review came from
    previous_state: Mapped[int] = mapped_column(SmallInteger)  # 0 new, else fsrs.State: for true retention
    result: Mapped[dict[str, Any]]  # the card as the review left it: a retried review returns this
    # The result's state (fsrs.State) and stability as columns PostgreSQL keeps (for the analytics' covering index).
    state_after: Mapped[int | None] = mapped_column(SmallInteger, Computed(STATE_AFTER_SQL, persisted=True))
    stability_after: Mapped[float | None] = mapped_column(Float, Computed(STABILITY_AFTER_SQL, persisted=True))


class LearnerParameters(Base):
    """A learner's own FSRS parameters, fitted nightly once they have enough reviews."""

    __tablename__ = "learner_parameters"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    parameters: Mapped[list[Any]]
    adopted: Mapped[bool] = mapped_column(Boolean)  # False: the fit did not beat the defaults
    metrics: Mapped[dict[str, Any]]  # review counts and held-out log loss, before and after
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearnerQuota(Base):
    """An admin's overrides of one learner's quotas (`flask users set-quota`): limit name
    (domain/quotas.py LIMIT_NAMES) -> value. Limits not named keep the defaults."""

    __tablename__ = "learner_quotas"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    limits: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PenpalLetter(Base):
    """A letter between a learner and a character. A learner's letter is stored together
    with its reply's row (body still NULL, `deliver_at` set) and an outbox entry, so the
    reply can be neither forgotten nor written twice: the llm worker fills the body
    once, and a beat job delivers it once `deliver_at` has passed."""

    __tablename__ = "penpal_letters"
    __table_args__ = (
        CheckConstraint("author IN ('learner', 'character')", name="author_known"),
        CheckConstraint("(author = 'learner') = (in_reply_to IS NULL)", name="replies_answer_a_letter"),
        Index("ix_penpal_letters_thread", "user_id", "character_id", "delivered_at"),
        # What the delivery job scans: undelivered replies by due time.
        Index("ix_penpal_letters_undelivered", "deliver_at",
              postgresql_where=text("delivered_at IS NULL")),
        # Delivered replies whose event may not have gone out (a crash in between).
        Index("ix_penpal_letters_unannounced", "delivered_at",
              postgresql_where=text("author = 'character' AND delivered_at IS NOT NULL AND announced_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    character_id: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(16))
    in_reply_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("penpal_letters.id", ondelete="CASCADE"), unique=True)  # one reply per letter
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # NULL: a reply not written yet
    level: Mapped[str] = mapped_column(String(2))  # the learner's level when they wrote
    analysis: Mapped[dict[str, Any] | None]  # a learner's letter: the grammar analysis, once made
    moderation: Mapped[dict[str, Any] | None]  # a learner's letter: the moderation verdict, once checked
    corrections: Mapped[list[Any] | None]  # a reply: corrections to the letter it answers
    provider: Mapped[str | None] = mapped_column(String(32))
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    write_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    retry_at: Mapped[datetime | None]  # a reply whose writing failed: not tried again before
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliver_at: Mapped[datetime | None]  # a reply: not shown before
    written_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]  # a learner's letter: when sent
    announced_at: Mapped[datetime | None]  # a reply: its `penpal_reply` event was published
    read_at: Mapped[datetime | None]


class JourneyAnswer(Base):
    """A learner's answer to a journey question (prompts/journey/), scored once by the
    llm worker: `score` and `result` are NULL until then. Answers can be retried; a
    question's best score counts."""

    __tablename__ = "journey_answers"
    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_in_range"),
        Index("ix_journey_answers_user_question", "user_id", "question_id", "score"),
        Index("ix_journey_answers_unannounced", "scored_at",
              postgresql_where=text("announced_at IS NULL AND scored_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(80))
    unit_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(2))  # the question's level
    answer: Mapped[str] = mapped_column(Text)
    analysis: Mapped[dict[str, Any] | None]  # the language analysis, once made (nlp)
    moderation: Mapped[dict[str, Any] | None]  # the moderation verdict, once checked (llm)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    result: Mapped[dict[str, Any] | None]  # feedback, corrections, covered and missing points
    provider: Mapped[str | None] = mapped_column(String(32))
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scored_at: Mapped[datetime | None]
    announced_at: Mapped[datetime | None]  # when journey_scored was published


class ErrorPattern(Base):
    """One kind of mistake a learner makes (domain/language/error_patterns.py's key),
    counted over their turns. A recurring one becomes an FSRS card of its own (the
    `card_*` columns, like `cards`), and retires once it is mastered (domain/notebook.py)."""

    __tablename__ = "error_patterns"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_error_patterns_user_key"),
        CheckConstraint("state IN ('watching', 'card', 'retired')", name="state_known"),
        CheckConstraint("card_state IS NULL OR card_state IN (1, 2, 3)", name="card_state_known"),  # fsrs.State
        Index("ix_error_patterns_user_seen", "user_id", "last_seen_at"),
        Index("ix_error_patterns_cards_due", "user_id", "due", postgresql_where=text("state = 'card'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    wrong: Mapped[str] = mapped_column(Text)  # the learner's words, as last written
    fix: Mapped[str] = mapped_column(Text)  # "" when the check had no suggestion
    explanation: Mapped[str] = mapped_column(Text)  # the grammar stage's message, in the learner's language
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="watching")
    became_card_at: Mapped[datetime | None]
    card_state: Mapped[int | None] = mapped_column(SmallInteger)  # NULL until it is a card
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime | None]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)


class ErrorOccurrence(Base):
    """One turn in which a pattern was made: counted once per turn (the key), so a
    redelivered task cannot count it twice."""

    __tablename__ = "error_occurrences"

    pattern_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("error_patterns.id", ondelete="CASCADE"),
                                                  primary_key=True)
    turn_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True)
    example: Mapped[str] = mapped_column(Text)  # the learner's sentence with the mistake
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ErrorReview(Base):
    """Every review of an error card, with the drill answer and its check when there was
    one; a retried review (same client_review_id) returns `result` again."""

    __tablename__ = "error_reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 4", name="rating_known"),  # fsrs.Rating
        Index("uq_error_reviews_client_review_id", "user_id", "client_review_id", unique=True,
              postgresql_where=text("client_review_id IS NOT NULL")),
        Index("ix_error_reviews_pattern", "pattern_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    pattern_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("error_patterns.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    reviewed_at: Mapped[datetime]
    client_review_id: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    correct: Mapped[bool | None] = mapped_column(Boolean)  # the drill check's verdict (NULL: no answer)
    result: Mapped[dict[str, Any]]  # the response as the review gave it


class WeeklyReport(Base):
    """A learner's week in figures, stored once when their local week ends (Monday 00:00
    in their time zone) and published as `weekly_report` (domain/weekly_report.py)."""

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("user_id", "week_start", name="uq_weekly_reports_user_week"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    week_start: Mapped[date]  # the Monday the week began, in the learner's time zone
    report: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[datetime | None]  # when `weekly_report` was published


class UserAchievement(Base):
    """An achievement of the catalogue (domain/achievements.py) a learner unlocked: once."""

    __tablename__ = "user_achievements"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    unlocked_at: Mapped[datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[datetime | None]  # when `achievement_unlocked` was published


class ReviewDay(Base):
    """One learner's reviews of one local day, kept in each review's transaction
    (domain/analytics.py): the day's counts, and the changes of cards by state and of
    words known the day's reviews made. A running sum of the changes gives each day's
    cards; the analytics read these rows instead of the whole review log."""

    __tablename__ = "review_days"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)  # days since 1970-01-01, in the learner's zone
    reviews: Mapped[int] = mapped_column(Integer)
    from_conversation: Mapped[int] = mapped_column(Integer)
    recall_attempts: Mapped[int] = mapped_column(Integer)  # reviews of cards in the review state
    recalled: Mapped[int] = mapped_column(Integer)  # ... rated hard or better
    learning: Mapped[int] = mapped_column(Integer)  # change of the cards learning
    review: Mapped[int] = mapped_column(Integer)
    relearning: Mapped[int] = mapped_column(Integer)
    known: Mapped[int] = mapped_column(Integer)  # change of the words known


class ReviewDaysBuilt(Base):
    """What a learner's review_days were built with: their time zone and the known
    threshold. Another zone or threshold (or no row): rebuilt from the review log."""

    __tablename__ = "review_days_built"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    known_stability_days: Mapped[float] = mapped_column(Float)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailMessage(Base):
    """An email waiting to be sent (domain/mail.py): rendered when it was queued, removed
    once the SMTP server accepted it. Its outbox entry (kind `mail`) carries the retries."""

    __tablename__ = "mail_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataExport(Base):
    """A learner's data export (domain/data_export.py): built by a task, served once
    through a signed link, its archive dropped when fetched."""

    __tablename__ = "data_exports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    archive: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column()
    fetched_at: Mapped[datetime | None] = mapped_column()


# --- Anki export and import (domain/anki.py) -------------------------------------------------

class AnkiImport(Base):
    """One upload of an Anki deck (.apkg) or CSV: small ones are imported in the request,
    large ones by a task (the file waits in `payload` until then). `result` counts what
    the import did; `error` names why it failed (nothing of a failed import is kept)."""

    __tablename__ = "anki_imports"
    __table_args__ = (
        CheckConstraint("format IN ('apkg', 'csv')", name="format_known"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        Index("ix_anki_imports_user_created", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes | None]  # the file, until a task imports it
    result: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class LearnerWord(Base):
    """A word a learner imported that the vocabulary does not have: their own card, front
    and back as the deck had them, scheduled by the same FSRS scheduler as `cards`."""

    __tablename__ = "learner_words"
    __table_args__ = (
        UniqueConstraint("user_id", "front_key", name="uq_learner_words_user_front"),
        CheckConstraint("state IN (1, 2, 3)", name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    front: Mapped[str] = mapped_column(String(255))
    front_key: Mapped[str] = mapped_column(String(255))  # lower-cased, trimmed: what makes it the same word
    back: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(SmallInteger)
    step: Mapped[int | None] = mapped_column(SmallInteger)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)


class PushSubscription(Base):
    """A browser's Web Push subscription (its PushSubscription JSON), one row per endpoint."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_user", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSetting(Base):
    """A learner's reminder choices; no row means the defaults (on, REMINDER_DEFAULT_HOUR)."""

    __tablename__ = "reminder_settings"
    __table_args__ = (CheckConstraint("reminder_hour BETWEEN 0 AND 23", name="hour_of_day"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    reminder_hour: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReminderSent(Base):
    """The streak reminder of one learner's local day: the row is the claim, so two beats send it once."""

    __tablename__ = "reminders_sent"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    local_date: Mapped[date] = mapped_column(primary_key=True)
    channels: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchoolClass(Base):
    """A teacher's class. Learners join it with its invite code."""

    __tablename__ = "classes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClassMembership(Base):
    """A learner in a class; goes with either side."""

    __tablename__ = "class_memberships"

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """A journey unit a teacher set their class, due at a time (domain/assignments.py)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("class_id", "unit_id", name="uq_assignments_class_unit"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    unit_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentReminder(Base):
    """The `assignment_due` reminder of one assignment to one student: the row is the
    claim, so two beats send it once."""

    __tablename__ = "assignment_reminders"

    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"),
                                                     primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    channels: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
