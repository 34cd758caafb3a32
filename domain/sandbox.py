"""Voice practice (sandbox sessions): a short-lived OpenAI Realtime client secret for the
learner's browser, and the transcript the client sends back, which prompts hints.

The browser talks to OpenAI directly with the secret; the server configures that session
(the character's instructions for the level, its voice, input transcription) when it
mints the secret, and never sees the audio.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain import conversations
from domain.cefr import normalize_level
from domain.characters import CharacterLibrary
from domain.errors import Conflict, Invalid, Unavailable
from domain.models import ChatSession, TranscriptSegment, User

TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
_SPEECH_KEY_TTL_SECONDS = 600


def realtime_session_config(*, model: str, instructions: str, voice: str, language: str) -> dict[str, Any]:
    """The Realtime session the secret is minted for (OpenAI's GA Realtime API)."""
    return {
        "type": "realtime",
        "model": model,
        "instructions": instructions,
        "audio": {
            "input": {"transcription": {"model": TRANSCRIPTION_MODEL, "language": language}},
            "output": {"voice": voice},
        },
    }


def start_voice_session(db: Session, *, user: User, characters: CharacterLibrary,
                        mint: Callable[[dict[str, Any]], dict[str, Any]] | None, realtime_model: str,
                        character_id: str, level: str | None = None,
                        title: str | None = None) -> tuple[ChatSession, dict[str, Any]]:
    """Mint the secret, then create the sandbox session (in the caller's transaction), so
    a refused secret leaves nothing behind. `mint` is None without an OpenAI key; it
    raises UpstreamFailed when OpenAI refuses."""
    character = characters.get(character_id)
    if character is None:
        raise Invalid(f"Unknown character {character_id!r}.", code="unknown_character",
                      details={"character_id": [f"Choose one of: {', '.join(c.id for c in characters.all())}."]})
    if mint is None:
        raise Unavailable("Voice practice needs an OpenAI API key on the server (OPENAI_API_KEY).",
                          code="realtime_unavailable")
    session_level = (level or user.level).upper()
    config = realtime_session_config(
        model=realtime_model, voice=character.voice, language=character.target_language,
        instructions=characters.system_prompt(character.id, normalize_level(session_level)))
    secret = mint(config)
    session = conversations.create_session(db, user=user, characters=characters, mode="sandbox",
                                           character_id=character.id, level=session_level, title=title)
    return session, {**secret, "model": realtime_model, "voice": character.voice}


def add_segment(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, role: str,
                text: str) -> TranscriptSegment:
    """Store a piece of a voice session's transcript (in the caller's transaction)."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    if session.mode != "sandbox":
        raise Conflict("Transcripts belong to voice (sandbox) sessions; send text turns to /messages.",
                       code="not_a_voice_session")
    segment = TranscriptSegment(session_id=session.id, role=role, text=text.strip())
    db.add(segment)
    db.flush()
    return segment


def recent_segments(db: Session, session_id: uuid.UUID, limit: int) -> list[tuple[str, str]]:
    """The transcript's last `limit` segments as (role, text), oldest first."""
    rows = db.execute(select(TranscriptSegment.role, TranscriptSegment.text)
                      .where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.created_at.desc(), TranscriptSegment.id.desc())
                      .limit(limit)).all()
    return [(role, text) for role, text in reversed(rows)]


def present_segment(segment: TranscriptSegment) -> dict[str, Any]:
    return {"id": segment.id, "session_id": str(segment.session_id), "role": segment.role, "text": segment.text,
            "created_at": segment.created_at.isoformat(), "moderation": segment.moderation}


def list_segments(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, page: int,
                  per_page: int) -> tuple[list[TranscriptSegment], int]:
    """A voice session's transcript, oldest first, a page at a time."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    query = select(TranscriptSegment).where(TranscriptSegment.session_id == session.id)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.order_by(TranscriptSegment.created_at, TranscriptSegment.id)
                      .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


# A learner's segment is moderated by the llm worker (domain/hints.py, after_speech).

def segment_to_moderate(db: Session, segment_id: int) -> TranscriptSegment | None:
    """A learner's segment (checked or not); None for the character's or a gone one."""
    segment = db.get(TranscriptSegment, segment_id)
    return segment if segment is not None and segment.role == "user" else None


def store_moderation(db: Session, segment_id: int, verdict: dict[str, Any]) -> bool:
    """Store a segment's verdict once; True if this call stored it."""
    return db.execute(update(TranscriptSegment)
                      .where(TranscriptSegment.id == segment_id, TranscriptSegment.moderation.is_(None))
                      .values(moderation=verdict).returning(TranscriptSegment.id)).first() is not None


# Hints follow the learner's speech once they pause: each learner segment becomes the
# session's latest, and the delayed check only asks for a hint if it still is.

def note_learner_speech(redis: Redis, session_id: uuid.UUID, segment_id: int) -> None:
    redis.set(_speech_key(session_id), segment_id, ex=_SPEECH_KEY_TTL_SECONDS)


def is_latest_learner_speech(redis: Redis, session_id: uuid.UUID, segment_id: int) -> bool:
    latest = redis.get(_speech_key(session_id))
    return latest is not None and int(latest) == segment_id


def _speech_key(session_id: uuid.UUID) -> str:
    return f"parlons:speech:{session_id}"
