"""Hints: two or three things the learner could say next.

A request is stored with its outbox entry (so a 202 is never lost); the llm worker
writes the suggestions once, with a conditional UPDATE, and publishes a `hint` event.
With a model, the suggestions come from the character's hint prompt for the level and
the conversation so far; without one, from sentence starters chosen by the kind of
question the character asked last (prompts/tutor/hints.yaml).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from domain import conversations, ids, outbox, prompt_files, sandbox
from domain.cefr import BANDS, normalize_level
from domain.errors import NotFound
from domain.models import ChatSession, Hint, Message, OutboxEntry, Turn, utcnow

OUTBOX_KIND = "hint"
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
    latest_turn = db.scalar(select(Turn.id).where(Turn.session_id == session.id)
                            .order_by(Turn.created_at.desc()).limit(1))
    hint = Hint(id=uuid.uuid4(), session_id=session.id, user_id=user_id, turn_id=latest_turn, source=source,
                degraded=False, created_at=utcnow())
    db.add(hint)
    db.add(outbox.entry(OUTBOX_KIND, hint.id, hint.created_at))
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
    db.execute(delete(OutboxEntry).where(OutboxEntry.kind == OUTBOX_KIND, OutboxEntry.ref_id == hint_id))
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
