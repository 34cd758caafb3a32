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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary, and_, bindparam, case, delete, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain import announcements, outbox, xp
from domain.errors import Conflict, Invalid, NotFound
from domain.ids import parse_uuid
from domain.models import ChatSession, Message, Turn, TurnAudio, User, utcnow
from domain.srs import vocabulary

if TYPE_CHECKING:
    from domain.characters import CharacterLibrary

OUTBOX_KIND = outbox.TURN
REVIEWS_OUTBOX_KIND = outbox.REVIEWS

_turns, _messages, _sessions, _users = Turn.__table__, Message.__table__, ChatSession.__table__, User.__table__
_turn_id = bindparam("turn_id")

_ALL_STAGES_DONE = and_(_turns.c.grammar.is_not(None), _turns.c.moderation.is_not(None),
                        _turns.c.reply_text.is_not(None))
_PENDING = and_(_turns.c.id == _turn_id, _turns.c.status == "pending")

_STAGE_INPUT = (
    select(_turns.c.user_id, _turns.c.session_id, _messages.c.content, _sessions.c.character_id,
           _sessions.c.level, _turns.c.grammar, _turns.c.moderation, _turns.c.deadline_at,
           _users.c.native_language, _turns.c.suggested_word_ids, _turns.c.target_words)
    .join(_messages, (_messages.c.turn_id == _turns.c.id) & (_messages.c.role == "user"))
    .join(_sessions, _sessions.c.id == _turns.c.session_id)
    .join(_users, _users.c.id == _turns.c.user_id)
    .where(_PENDING)
)
# A stage's write says whether it was the last one and, if so, what finishing the turn
# needs (FinishInputs): the stage that finishes the turn does not read it again.
_LEARNER_TEXT = (select(_messages.c.content).where(_messages.c.turn_id == _turns.c.id, _messages.c.role == "user")
                 .scalar_subquery())
_STAGE_WRITTEN = (_ALL_STAGES_DONE, case((_ALL_STAGES_DONE, _LEARNER_TEXT)), _turns.c.grammar, _turns.c.moderation)
# The grammar stage also stores the turn's word feedback, which comes from the same analysis.
_RECORD = {
    "grammar": update(_turns).where(_PENDING, _turns.c.grammar.is_(None))
    .values(grammar=bindparam("result"), word_feedback=bindparam("word_feedback")).returning(*_STAGE_WRITTEN),
    "moderation": update(_turns).where(_PENDING, _turns.c.moderation.is_(None))
    .values(moderation=bindparam("result")).returning(*_STAGE_WRITTEN),
}
# The turn's model-bound work (moderation, the model's grammar pass, the reply) is held
# through its outbox entry's lease; the claim reads what that work needs in the same
# statement. Only the holder of the current claim may store the reply.
_CLAIM = text("""
    WITH held AS (
        UPDATE outbox SET lease_until = :lease_until, claims = claims + 1
        WHERE kind = :outbox_kind AND ref_id = :turn_id AND (lease_until IS NULL OR lease_until < :now)
        RETURNING claims
    )
    SELECT held.claims, t.user_id, t.session_id, m.content, s.character_id, s.level, t.grammar, t.moderation,
           t.deadline_at, u.native_language, t.suggested_word_ids, t.target_words, t.reply_text
    FROM held, turns t
    JOIN messages m ON m.turn_id = t.id AND m.role = 'user'
    JOIN chat_sessions s ON s.id = t.session_id
    JOIN users u ON u.id = t.user_id
    WHERE t.id = :turn_id AND t.status = 'pending'
""")
_HOLDS_CLAIM = text(f"EXISTS (SELECT 1 FROM outbox WHERE outbox.kind = '{OUTBOX_KIND}' AND outbox.ref_id = turns.id "
                    "AND outbox.claims = :attempt)")
_RECORD_REPLY = update(_turns).where(_PENDING, _turns.c.reply_text.is_(None), _HOLDS_CLAIM).values(
    reply_text=bindparam("reply"), reply_provider=bindparam("provider"),
    degraded=bindparam("degraded"), degraded_reason=bindparam("degraded_reason")).returning(*_STAGE_WRITTEN)
# Finishing reads what XP depends on, then completes the turn with all its bookkeeping
# in one statement (the claim is its first UPDATE): atomic without a transaction. The
# reply stage, which already knows everything XP depends on, also stores its reply in
# that statement: one round trip from the last delta to the result.
_FINISH_INPUTS = (
    select(_messages.c.content, _turns.c.grammar, _turns.c.moderation)
    .join(_messages, (_messages.c.turn_id == _turns.c.id) & (_messages.c.role == "user"))
    .where(_PENDING, _ALL_STAGES_DONE)
)
_FINISH = text("""
    WITH finished AS (
        UPDATE turns SET status = 'complete', completed_at = :now, xp_awarded = :xp,
            reply_text = COALESCE(turns.reply_text, CAST(:reply_text AS text)),
            reply_provider = COALESCE(turns.reply_provider, CAST(:reply_provider AS varchar)),
            degraded = CASE WHEN turns.reply_text IS NULL THEN CAST(:degraded AS boolean) ELSE turns.degraded END,
            degraded_reason = CASE WHEN turns.reply_text IS NULL THEN CAST(:degraded_reason AS varchar)
                                   ELSE turns.degraded_reason END
        FROM messages AS learner_message
        WHERE turns.id = :turn_id AND turns.status = 'pending' AND turns.grammar IS NOT NULL
          AND turns.moderation IS NOT NULL
          AND (turns.reply_text IS NOT NULL
               OR (CAST(:reply_text AS text) IS NOT NULL AND EXISTS (
                       SELECT 1 FROM outbox WHERE outbox.kind = :outbox_kind AND outbox.ref_id = turns.id
                       AND outbox.claims = CAST(:attempt AS integer))))
          AND learner_message.turn_id = turns.id AND learner_message.role = 'user'
        RETURNING turns.*, learner_message.id AS user_message_id, learner_message.content AS user_message,
                  learner_message.created_at AS user_message_at
    ), reply AS (
        INSERT INTO messages (id, session_id, turn_id, role, content, created_at)
        SELECT :message_id, session_id, id, 'assistant', reply_text, :now FROM finished
    ), session AS (
        UPDATE chat_sessions SET xp = xp + :xp, turn_count = turn_count + 1, last_activity_at = :now
        WHERE id IN (SELECT session_id FROM finished)
        RETURNING id, title, status, turn_count, xp
    ), learner AS (
        UPDATE users SET xp = xp + :xp WHERE id IN (SELECT user_id FROM finished)
    ), published AS (
        DELETE FROM outbox WHERE kind = :outbox_kind AND ref_id IN (SELECT id FROM finished)
    ), reviews AS (
        -- The words the learner used become reviews (domain/srs/reviews.py) and their
        -- mistakes go into the error notebook (domain/notebook.py), through the outbox.
        INSERT INTO outbox (kind, ref_id, created_at, last_published_at, publish_attempts, claims)
        SELECT :reviews_kind, id, :now, :now, 1, 0 FROM finished
        WHERE jsonb_path_exists(word_feedback, '$[*] ? (@.usage != "not_used")')
           OR jsonb_path_exists(grammar, '$.errors[*]')
    )
    -- The session's counters as this turn left them: turn_result's overview.
    SELECT finished.*, session.title AS session_title, session.status AS session_status,
           session.turn_count AS session_turn_count, session.xp AS session_xp
    FROM finished LEFT JOIN session ON session.id = finished.session_id
""")
# Accepting a turn is one statement: the ownership check, the turn (or nothing, when the
# client_message_id was used already, or the session has ended), its message (a spoken
# turn: its recording), its outbox entry and the session's activity (a paused session
# resumes). One round trip, atomic without a transaction around it. The turn keeps the
# session's target words of the moment: what its reply is asked to use.
_SUBMIT = text("""
    WITH owned AS (
        SELECT s.id, s.user_id, s.character_id, s.level, s.status, u.native_language, s.target_words
        FROM chat_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = :session_id AND s.user_id = :user_id
    ), new_turn AS (
        INSERT INTO turns (id, session_id, user_id, status, client_message_id, suggested_word_ids, target_words,
                           word_feedback, xp_awarded, degraded, created_at, deadline_at)
        SELECT :turn_id, id, user_id, 'pending', :client_message_id, :suggested_word_ids, target_words,
               '[]'::jsonb, 0, false, :now, :deadline_at
        FROM owned WHERE status <> 'ended'
        ON CONFLICT (session_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
        RETURNING id, session_id
    ), new_message AS (
        INSERT INTO messages (id, session_id, turn_id, role, content, created_at)
        SELECT :message_id, session_id, id, 'user', :content, :now FROM new_turn
        WHERE CAST(:content AS text) IS NOT NULL
    ), new_audio AS (
        -- A spoken turn: its recording instead of its message, until it is transcribed.
        INSERT INTO turn_audio (turn_id, content, mime, created_at)
        SELECT id, :audio, :audio_mime, :now FROM new_turn WHERE CAST(:audio AS bytea) IS NOT NULL
    ), new_outbox AS (
        -- Stamped as published: the publish follows the commit (a failed one unstamps it).
        INSERT INTO outbox (kind, ref_id, created_at, last_published_at, publish_attempts, claims)
        SELECT :outbox_kind, id, :now, :now, 1, 0 FROM new_turn
    ), touched AS (
        UPDATE chat_sessions SET last_activity_at = :now, status = 'active'
        WHERE id IN (SELECT session_id FROM new_turn) AND status <> 'ended'
    )
    SELECT (SELECT character_id FROM owned) AS character_id, (SELECT level FROM owned) AS level,
           (SELECT native_language FROM owned) AS native_language, EXISTS (SELECT 1 FROM new_turn) AS created,
           (SELECT target_words FROM owned) AS target_words, (SELECT status FROM owned) AS session_status
""").bindparams(bindparam("suggested_word_ids", type_=JSONB), bindparam("audio", type_=LargeBinary))


@dataclass(frozen=True)
class FinishInputs:
    """What a turn's finish computes its XP from."""

    learner_text: str
    grammar: dict[str, Any]
    moderation: dict[str, Any]


@dataclass(frozen=True)
class StageWrite:
    won: bool  # this call stored the stage's result
    finish_inputs: FinishInputs | None = None  # when this write stored the last stage

    @property
    def ready(self) -> bool:
        """Every stage is now stored and the turn still pending: finalize it."""
        return self.finish_inputs is not None


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
    deadline_at: datetime  # the sweeper fails the turn after this
    native_language: str | None = None  # read only for the analysis stages
    suggested_word_ids: list[int] = field(default_factory=list)
    target_words: list[dict[str, Any]] = field(default_factory=list)  # [{word_id, lemma, translation}] offered

    def analysis_input(self, characters: CharacterLibrary) -> AnalysisInput:
        return AnalysisInput.of_turn(characters, self.character_id, user_id=self.user_id, session_id=self.session_id,
                                     text=self.text, level=self.level, native_language=self.native_language,
                                     suggested_word_ids=list(self.suggested_word_ids or ()),
                                     target_word_ids=target_word_ids(self.target_words))


@dataclass(frozen=True)
class AnalysisInput:
    """What grammar and moderation need: the learner, the session, the text, its language,
    the learner's level and native language (for the messages), the words the client
    suggested and the session's target words offered with the turn (their use is
    assessed too). The web process sends it with the tasks; the sweeper's re-sends read
    it back (`stage_input`)."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    text: str
    language: str  # the character's target language
    level: str  # the session's CEFR level ("B1")
    native_language: str | None = None
    suggested_word_ids: list[int] = field(default_factory=list)
    target_word_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": str(self.user_id), "session_id": str(self.session_id), "text": self.text,
                "language": self.language, "level": self.level, "native_language": self.native_language,
                "suggested_word_ids": list(self.suggested_word_ids), "target_word_ids": list(self.target_word_ids)}

    @classmethod
    def of_turn(cls, characters: CharacterLibrary, character_id: str, **fields: Any) -> AnalysisInput:
        """The analysis of a turn in a session with `character_id`: its text is in the
        character's target language."""
        return cls(language=characters.target_language(character_id), **fields)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisInput:
        return cls(uuid.UUID(data["user_id"]), uuid.UUID(data["session_id"]), data["text"], data["language"],
                   data["level"], data.get("native_language"), list(data.get("suggested_word_ids") or ()),
                   list(data.get("target_word_ids") or ()))


def target_word_ids(target_words: list[dict[str, Any]] | None) -> list[int]:
    """The ids of target words as sessions and turns store them ({word_id, lemma, translation})."""
    return [word["word_id"] for word in target_words or ()]


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
        "kind": turn.kind,
        "status": turn.status,
        "user_message": present_message(by_role.get("user")),
        "assistant_message": present_message(by_role.get("assistant")),
        "grammar": turn.grammar,
        "moderation": turn.moderation,
        "word_feedback": turn.word_feedback or [],
        "target_words": turn.target_words or [],
        "xp_awarded": turn.xp_awarded,
        "degraded": turn.degraded,
        "degraded_reason": turn.degraded_reason,
        "reply_provider": turn.reply_provider,
        "error": turn.error,
        "created_at": turn.created_at.isoformat(),
        "completed_at": turn.completed_at.isoformat() if turn.completed_at else None,
    }


def result_event(turn: Turn) -> dict[str, Any]:
    """The `turn_result` event's data (DESIGN §5), as the sweeper publishes it again
    (without the session's overview, which only the finish knows)."""
    return result_data(present_turn(turn))


def result_data(view: dict[str, Any]) -> dict[str, Any]:
    """The `turn_result` event's data from the turn's view; a view from `finalize_turn`
    brings the session's overview (`session`: id, title, status, turn_count, xp)."""
    turn = {key: value for key, value in view.items() if key != "session"}
    return {"session_id": view["session_id"], "turn": turn, "session": view.get("session")}


# A greeting turn is announced as a `greeting` (domain/greetings.py), never as a turn_result.
ANNOUNCED = announcements.Announced("turn_result", Turn, Turn.completed_at,
                                    and_(Turn.status != "pending", Turn.kind == "message"), result_event)


@dataclass(frozen=True)
class Recording:
    """A spoken turn's upload, checked (domain/audio.py check_upload)."""

    content: bytes
    mime: str


@dataclass(frozen=True)
class Submission:
    view: dict[str, Any]  # the turn as GET /turns/{id} returns it
    turn_id: uuid.UUID
    created: bool  # False when the client_message_id had been used: the view is the first turn's
    character_id: str  # the session's, so the stages can be told its language and level without a read
    level: str
    native_language: str | None
    target_words: list[dict[str, Any]]  # the session's, offered with this turn

    def analysis_input(self, characters: CharacterLibrary, *, user_id: uuid.UUID,
                       suggested_word_ids: list[int]) -> AnalysisInput:
        """What the web process hands the analysis with the task (a created turn's)."""
        return AnalysisInput.of_turn(characters, self.character_id, user_id=user_id,
                                     session_id=uuid.UUID(self.view["session_id"]),
                                     text=self.view["user_message"]["content"], level=self.level,
                                     native_language=self.native_language, suggested_word_ids=suggested_word_ids,
                                     target_word_ids=target_word_ids(self.target_words))


def submit_turn(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, content: str | None,
                client_message_id: str | None, suggested_word_ids: list[int],
                deadline_seconds: int, audio: Recording | None = None) -> Submission:
    """Store the turn, the learner's message and the outbox entry, in one statement.
    A spoken turn (`audio`, no `content`) stores its recording instead of the message,
    with an outbox entry of kind `turn_audio` (domain/audio_turns.py transcribes it, then
    starts the pipeline). A `client_message_id` already used in this
    session returns the turn it created, so a client may safely resend after a timeout
    (the unique index decides, so two concurrent resends cannot both create a turn).
    Another learner's session, or none, is NotFound.
    """
    if (content is None) == (audio is None):
        raise ValueError("a turn is either written (content) or spoken (audio)")
    suggested_word_ids = list(dict.fromkeys(suggested_word_ids))
    unknown = vocabulary.missing_ids(db, suggested_word_ids)
    if unknown:
        raise Invalid("Some suggested words are not in the vocabulary.", code="unknown_words",
                      details={"suggested_word_ids": unknown})
    now = utcnow()
    turn = SimpleNamespace(
        id=uuid.uuid4(), session_id=parse_uuid(session_id, "session"), user_id=user_id, kind="message",
        status="pending",
        grammar=None, moderation=None, reply_provider=None, word_feedback=[], xp_awarded=0, degraded=False,
        degraded_reason=None, error=None, created_at=now, completed_at=None, target_words=[],
    )
    message = SimpleNamespace(id=uuid.uuid4(), role="user", content=content, created_at=now)
    character_id, level, native_language, created, target_words, session_status = db.execute(_SUBMIT, {
        "session_id": turn.session_id, "user_id": user_id, "turn_id": turn.id, "message_id": message.id,
        "client_message_id": client_message_id, "suggested_word_ids": suggested_word_ids,
        "content": content, "now": now, "deadline_at": now + timedelta(seconds=deadline_seconds),
        "outbox_kind": OUTBOX_KIND if audio is None else outbox.TURN_AUDIO,
        "audio": audio.content if audio else None, "audio_mime": audio.mime if audio else None,
    }).one()
    if character_id is None:
        raise NotFound("No such session.", code="session_not_found")
    turn.target_words = target_words or []
    if not created:
        existing = _find_by_client_message_id(db, turn.session_id, client_message_id or "")
        if existing is None and session_status == "ended":
            raise Conflict("This session has ended; start a new one to keep talking.", code="session_ended")
        return Submission(present_turn(existing), existing.id, False, character_id, level, native_language,
                          existing.target_words)
    return Submission(present_turn(turn, [message] if audio is None else []), turn.id, True, character_id, level,
                      native_language, turn.target_words)


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


def _record(db: Session, turn_id: uuid.UUID, statement: Any, params: dict[str, Any]) -> StageWrite:
    row = db.execute(statement, {"turn_id": turn_id, **params}).first()
    if row is None:
        return StageWrite(won=False)  # another delivery stored it, and finishes the turn
    ready, learner_text, grammar, moderation = row
    return StageWrite(won=True, finish_inputs=FinishInputs(learner_text, grammar, moderation) if ready else None)


def record_grammar(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    """Store the analysis: errors and corrected text in `grammar`, and `word_feedback`."""
    grammar = {"errors": result["errors"], "corrected_text": result["corrected_text"]}
    return _record(db, turn_id, _RECORD["grammar"],
                   {"result": grammar, "word_feedback": result.get("word_feedback") or []})


def record_moderation(db: Session, turn_id: uuid.UUID, result: dict[str, Any]) -> StageWrite:
    return _record(db, turn_id, _RECORD["moderation"], {"result": result})


@dataclass(frozen=True)
class Claim:
    """The turn's model-bound work, held by one delivery: its claim number (`attempt`,
    which fences the reply's store), the turn's inputs and the reply if stored already."""

    attempt: int
    given: StageInput
    reply_text: str | None


def claim_model_work(db: Session, turn_id: uuid.UUID, lease_seconds: float) -> Claim | None:
    """Hold the turn's model-bound stages for `lease_seconds` (through its outbox entry);
    None if the turn is finished or another delivery holds them.

    A lease, not a flag: if the worker dies, another delivery may take over once the
    lease has run out, so a paid call is repeated at most once per lost worker.
    """
    now = utcnow()
    row = db.execute(_CLAIM, {"turn_id": turn_id, "now": now, "outbox_kind": OUTBOX_KIND,
                              "lease_until": now + timedelta(seconds=lease_seconds)}).first()
    if row is None:
        return None
    attempt, *inputs, suggested, targets, reply_text = row
    return Claim(attempt, StageInput(*inputs, suggested_word_ids=list(suggested or ()), target_words=targets or []),
                 reply_text)


def record_reply(db: Session, turn_id: uuid.UUID, *, attempt: int, reply: str, provider: str,
                 degraded: bool = False, degraded_reason: str | None = None) -> StageWrite:
    return _record(db, turn_id, _RECORD_REPLY, {"attempt": attempt, "reply": reply, "provider": provider,
                                                "degraded": degraded, "degraded_reason": degraded_reason})


@dataclass(frozen=True)
class Reply:
    """A finished reply and what the reply stage knows of the turn, to store the reply
    and finish the turn in one statement."""

    attempt: int
    text: str
    provider: str
    degraded: bool
    learner_text: str
    grammar: dict[str, Any]
    moderation: dict[str, Any]
    degraded_reason: str | None = None  # why the offline reply stood in: providers_failed, budget_exhausted
    delta_event_ids: list[str] = field(default_factory=list)  # dropped from the replay window at the result


def finalize_turn(db: Session, turn_id: uuid.UUID, reply: Reply | None = None, inputs: FinishInputs | None = None
                  ) -> tuple[uuid.UUID, dict[str, Any]] | None:
    """Complete a turn whose stages are all stored (with `reply`: whose other stages are,
    storing the reply if our attempt still holds it): the assistant message, XP, and the
    end of its outbox entry. `inputs`: what the last stage's write returned (else they
    are read here). Returns (the learner's id, the turn's view, with the session's
    overview under `session`) if this call finished it, None if it was not ready or
    already finished. Each statement is atomic on its own, so an autocommit session
    (statement_scope) is enough."""
    if reply is not None:
        inputs = FinishInputs(reply.learner_text, reply.grammar, reply.moderation)
    elif inputs is None:
        row = db.execute(_FINISH_INPUTS, {"turn_id": turn_id}).first()
        if row is None:
            return None
        inputs = FinishInputs(*row)
    learner_text, grammar, moderation = inputs.learner_text, inputs.grammar, inputs.moderation
    awarded = xp.for_turn(text=learner_text, error_count=len(grammar.get("errors", [])),
                          flagged=bool(moderation.get("flagged")))
    now = utcnow()
    reply_id = uuid.uuid4()
    turn = db.execute(_FINISH, {
        "turn_id": turn_id, "now": now, "xp": awarded, "message_id": reply_id, "outbox_kind": OUTBOX_KIND,
        "reviews_kind": REVIEWS_OUTBOX_KIND,
        "reply_text": reply.text if reply else None, "reply_provider": reply.provider if reply else None,
        "degraded": reply.degraded if reply else False, "attempt": reply.attempt if reply else 0,
        "degraded_reason": reply.degraded_reason if reply else None,
    }).first()
    if turn is None:
        return None  # not ready, finished by another call, or (with `reply`) our attempt lost its lease
    learner_message = SimpleNamespace(id=turn.user_message_id, role="user", content=turn.user_message,
                                      created_at=turn.user_message_at)
    assistant_message = SimpleNamespace(id=reply_id, role="assistant", content=turn.reply_text, created_at=now)
    view = present_turn(turn, [learner_message, assistant_message])
    view["session"] = {"id": view["session_id"], "title": turn.session_title, "status": turn.session_status,
                       "turn_count": turn.session_turn_count, "xp": turn.session_xp}
    return turn.user_id, view


def stalled_ready_turn_ids(db: Session, *, older_than: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Pending turns whose stages are all stored but that nobody finalized (a worker died
    between the last stage and the finish)."""
    return list(db.scalars(
        select(Turn.id).where(Turn.status == "pending", _ALL_STAGES_DONE, Turn.created_at < older_than).limit(limit)
    ))


DEADLINE_EXCEEDED = {"code": "deadline_exceeded", "message": "No reply could be produced in time."}
GAVE_UP = {"code": "processing_failed",
           "message": "This message could not be processed. Please send it again."}


def fail_overdue_turns(db: Session, *, limit: int = 100) -> list[Turn]:
    """Finish turns past their deadline as failed, so no turn stays pending forever."""
    overdue = select(Turn.id).where(Turn.status == "pending", Turn.deadline_at < text("now()")) \
        .limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    failed = _fail(db, overdue, DEADLINE_EXCEEDED)
    if failed:
        for kind in (OUTBOX_KIND, outbox.TURN_AUDIO):  # a spoken turn may still wait for its transcript
            outbox.finish(db, kind=kind, ref_ids=[turn.id for turn in failed])
    return failed


def fail_given_up_turns(db: Session, turn_ids: list[uuid.UUID]) -> list[Turn]:
    """Finish as failed the pending turns whose work the outbox gave up on (their dead
    entries stay, for operators to see)."""
    return _fail(db, turn_ids, GAVE_UP) if turn_ids else []


def fail_turn(db: Session, turn_id: uuid.UUID, error: dict[str, str]) -> Turn | None:
    """Finish one pending turn as failed with `error` ({code, message}); None if it was
    not pending (in the caller's transaction)."""
    failed = _fail(db, [turn_id], error)
    return failed[0] if failed else None


def _fail(db: Session, which: Any, error: dict[str, str]) -> list[Turn]:
    ids = list(db.scalars(
        update(Turn).where(Turn.id.in_(which), Turn.status == "pending")
        .values(status="failed", completed_at=utcnow(), error=error).returning(Turn.id)
    ))
    if ids:  # a failed spoken turn's recording is not kept
        db.execute(delete(TurnAudio).where(TurnAudio.turn_id.in_(ids)))
    return [db.get(Turn, turn_id, populate_existing=True) for turn_id in ids]
