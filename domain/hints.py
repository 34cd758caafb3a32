"""Hints: two or three things the learner could say next.

A request is stored with its outbox entry (so a 202 is never lost); the llm worker
writes the suggestions once, with a conditional UPDATE, and publishes a `hint` event.
With a model, the suggestions come from the character's hint prompt for the level and
the conversation so far; without one, from sentence starters chosen by the kind of
question the character asked last (prompts/tutor/hints.yaml).

In a voice session, each learner transcript segment is moderated first, on the `llm`
worker (domain/moderation.py): the verdict is stored on the segment and published as
`moderation_feedback` (with `segment_id`), and a flagged segment prompts no hint. (The
character's spoken answer comes from OpenAI's Realtime session in the browser, which
the server does not hold: the verdict is for the client and for the record.)
"""
from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import announcements, conversations, ids, memory, outbox, prompt_files, sandbox
from domain.cefr import BANDS, normalize_level
from domain.db import session_scope, statement_scope, until_available
from domain.errors import NotFound
from domain.llm.base import ChatRequest
from domain.models import ChatSession, Hint, Message, Turn, utcnow
from domain.moderation import verdict as moderation_verdict
from domain.runtime import SIDE_CALL_SECONDS, Runtime

OUTBOX_KIND = outbox.HINT
MIN_SUGGESTIONS, MAX_SUGGESTIONS = 2, 3

# The question the character asked last decides what kind of answer to suggest.
_QUESTION_KINDS = (
    ("how_many", r"\bcombien\b"),
    ("why", r"\bpourquoi\b"),
    ("where", r"\bo[uù]\b|\bd'o[uù]\b"),
    ("when", r"\bquand\b|\bà quelle heure\b|\bdepuis quand\b"),
    ("what", r"\bqu'est-ce qu|\bquel(le)?s?\b|\bquoi\b|^(et )?que\b"),
    ("who", r"\bqui\b"),
    ("how", r"\bcomment\b"),
)


@dataclass(frozen=True)
class HintInput:
    """What producing a pending hint needs."""

    hint_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    turn_id: uuid.UUID | None
    character_id: str
    level: str
    history: list[tuple[str, str]]  # recent (role, content), oldest first


def request_hints(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, source: str = "request") -> Hint:
    """Store a hint request and its outbox entry (in the caller's transaction)."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    latest_turn = db.scalar(select(Turn.id).where(Turn.session_id == session.id, Turn.kind == "message")
                            .order_by(Turn.created_at.desc()).limit(1))
    hint = Hint(id=uuid.uuid4(), session_id=session.id, user_id=user_id, turn_id=latest_turn, source=source,
                degraded=False, created_at=utcnow())
    db.add(hint)
    outbox.add(db, OUTBOX_KIND, hint.id, hint.created_at)
    db.flush()
    return hint


def list_hints(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, limit: int = 20) -> list[Hint]:
    """The session's latest hints, newest first."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    return list(db.scalars(select(Hint).where(Hint.session_id == session.id)
                           .order_by(Hint.created_at.desc()).limit(limit)))


def get_hint(db: Session, *, user_id: uuid.UUID, hint_id: str | uuid.UUID) -> Hint:
    hint = db.get(Hint, ids.parse_uuid(hint_id, "hint"))
    if hint is None or hint.user_id != user_id:
        raise NotFound("No such hint.", code="hint_not_found")
    return hint


def pending_input(db: Session, hint_id: uuid.UUID, *, history_limit: int = 12) -> HintInput | None:
    """The inputs of a hint still to produce; None once it is produced (or gone)."""
    row = db.execute(
        select(Hint.user_id, Hint.session_id, Hint.turn_id, ChatSession.character_id, ChatSession.level,
               ChatSession.mode)
        .join(ChatSession, ChatSession.id == Hint.session_id)
        .where(Hint.id == hint_id, Hint.suggestions.is_(None))
    ).first()
    if row is None:
        return None
    user_id, session_id, turn_id, character_id, level, mode = row
    if mode == "sandbox":  # a voice session's conversation is its transcript
        history = sandbox.recent_segments(db, session_id, history_limit)
    else:
        recent = db.execute(select(Message.role, Message.content).where(Message.session_id == session_id)
                            .order_by(Message.created_at.desc(), Message.role).limit(history_limit)).all()
        history = [(role, content) for role, content in reversed(recent)]
    return HintInput(hint_id=hint_id, user_id=user_id, session_id=session_id, turn_id=turn_id,
                     character_id=character_id, level=level, history=history)


def store_suggestions(db: Session, hint_id: uuid.UUID, suggestions: list[str], *, provider: str,
                      degraded: bool) -> Hint | None:
    """Write the suggestions once and end the outbox entry (in the caller's transaction).
    Returns the hint if this call wrote them, None if another delivery did."""
    written = db.execute(
        update(Hint).where(Hint.id == hint_id, Hint.suggestions.is_(None))
        .values(suggestions=suggestions, provider=provider, degraded=degraded, completed_at=utcnow())
        .returning(Hint.id)
    ).first()
    if written is None:
        return None
    outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[hint_id])
    return db.get(Hint, hint_id, populate_existing=True)


def present_hint(hint: Hint) -> dict[str, Any]:
    return {
        "id": str(hint.id),
        "session_id": str(hint.session_id),
        "turn_id": str(hint.turn_id) if hint.turn_id else None,
        "source": hint.source,
        "status": "pending" if hint.suggestions is None else "ready",
        "hints": hint.suggestions or [],
        "provider": hint.provider,
        "degraded": hint.degraded,
        "created_at": hint.created_at.isoformat(),
        "completed_at": hint.completed_at.isoformat() if hint.completed_at else None,
    }


def hint_event(hint: Hint) -> dict[str, Any]:
    """The `hint` event's data (DESIGN §5) with the hint's id."""
    return {"session_id": str(hint.session_id), "hint_id": str(hint.id), "hints": hint.suggestions or [],
            "turn_id": str(hint.turn_id) if hint.turn_id else None}


ANNOUNCED = announcements.Announced("hint", Hint, Hint.completed_at, Hint.completed_at.is_not(None), hint_event)


# --- producing suggestions ---------------------------------------------------------------


def question_kind(text: str) -> str:
    """The kind of the last question in `text` ("other" if it asks none)."""
    questions = re.findall(r"[^.!?…]*\?", text)
    if not questions:
        return "other"
    question = questions[-1].strip().lower().replace("’", "'")
    for kind, pattern in _QUESTION_KINDS:
        if re.search(pattern, question):
            return kind
    return "yes_no"  # "Tu aimes le café ?", "Est-ce que tu viens ?"


def offline_suggestions(level: str, last_character_message: str | None, seed: str) -> list[str]:
    """Two sentence starters fitting the character's last question, then a question back."""
    phrasebooks = prompt_files.yaml_data(prompt_files.prompts_dir() / "tutor" / "hints.yaml")
    phrasebook = phrasebooks[BANDS[normalize_level(level)]]
    kind = question_kind(last_character_message or "")
    options = phrasebook.get(kind) or phrasebook["other"]
    first = _hash(seed, "first") % len(options)
    second = (first + 1 + _hash(seed, "second") % (len(options) - 1)) % len(options) if len(options) > 1 else first
    picks = [options[first]] + ([options[second]] if second != first else [])
    back = phrasebook["ask_back"]
    return picks + [back[_hash(seed, "back") % len(back)]]


def parse_suggestions(text: str) -> list[str]:
    """A model's answer (one suggestion per line) as 2-3 clean suggestions; raises
    ValueError when it does not contain at least two."""
    lines = []
    for line in text.splitlines():
        cleaned = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"«»“” ').strip()
        if cleaned and cleaned not in lines:
            lines.append(cleaned)
    if len(lines) < MIN_SUGGESTIONS:
        raise ValueError(f"expected at least {MIN_SUGGESTIONS} suggestions, got {len(lines)}")
    return lines[:MAX_SUGGESTIONS]


def last_character_message(history: list[tuple[str, str]]) -> str | None:
    return next((content for role, content in reversed(history) if role == "assistant"), None)


def _hash(seed: str, slot: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{slot}".encode()).digest()[:8], "big")


# --- the worker's side (on `llm`) ------------------------------------------------------

def generate(runtime: Runtime, hint_id: uuid.UUID) -> None:
    """Produce a requested hint once and publish it as a `hint` event."""
    with statement_scope() as db:
        given = pending_input(db, hint_id)
    if given is None:
        return  # produced already (a redelivery)
    with outbox.holding(OUTBOX_KIND, hint_id, runtime.settings.stage_lease_seconds) as claim:
        if claim is None:
            return  # another delivery is producing it
        suggestions, provider, degraded = _suggest(runtime, given)

        def store() -> dict[str, Any] | None:
            with session_scope() as db:
                hint = store_suggestions(db, hint_id, suggestions, provider=provider, degraded=degraded)
                return hint_event(hint) if hint is not None else None

        data = until_available(store)
    if data is not None:
        announcements.announce(runtime.publisher, ANNOUNCED, given.user_id, hint_id, data)


def _suggest(runtime: Runtime, given: HintInput) -> tuple[list[str], str, bool]:
    """(suggestions, who wrote them, degraded): the model with the character's hint
    prompt for the level when one is configured, else sentence starters."""
    character = runtime.characters.for_session(given.character_id)
    said = memory.as_transcript(given.history, character.name) or "(The conversation has not started yet.)"
    request = ChatRequest(
        system=runtime.characters.hint_prompt(character.id, normalize_level(given.level)), max_tokens=200,
        messages=[{"role": "user", "content": f"The conversation so far:\n{said}"}], learner_id=given.user_id)
    done = runtime.chain.complete(request, seconds=SIDE_CALL_SECONDS, parse=parse_suggestions,
                                  offline=lambda: offline_suggestions(
                                      given.level, last_character_message(given.history), seed=str(given.hint_id)))
    return done.value, done.provider, done.degraded


def after_speech(runtime: Runtime, session_id: uuid.UUID, segment_id: int) -> None:
    """Called a moment after the learner spoke in a voice session: moderate what they
    said; then, if it was not flagged and they have not spoken since, suggest what they
    could say next."""
    verdict = moderate_segment(runtime, segment_id)
    if verdict is None or verdict["flagged"]:
        return  # gone, or flagged: no suggestions after it
    if not sandbox.is_latest_learner_speech(runtime.redis, session_id, segment_id):
        return  # they kept talking; the check for their latest segment will answer
    with session_scope() as db:
        owner = db.scalar(select(ChatSession.user_id).where(ChatSession.id == session_id))
        hint_id = request_hints(db, user_id=owner, session_id=session_id, source="transcript").id
    generate(runtime, hint_id)


def moderate_segment(runtime: Runtime, segment_id: int) -> dict[str, Any] | None:
    """A learner segment's verdict: the stored one, or checked now, stored once and
    published as `moderation_feedback`. None if the segment is gone."""
    with statement_scope() as db:
        segment = sandbox.segment_to_moderate(db, segment_id)
        if segment is None:
            return None
        if segment.moderation is not None:
            return segment.moderation  # a redelivery, or a later check of the same segment
        text, session_id = segment.text, segment.session_id
        owner = db.scalar(select(ChatSession.user_id).where(ChatSession.id == session_id))
    verdict = moderation_verdict(runtime.chain, text, deadline=time.monotonic() + SIDE_CALL_SECONDS)
    with statement_scope() as db:
        first = sandbox.store_moderation(db, segment_id, verdict)
    if first:
        runtime.publisher.publish(owner, "moderation_feedback",
                                  {"session_id": str(session_id), "segment_id": segment_id, **verdict})
    return verdict
