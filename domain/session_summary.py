"""A session's lifecycle (active, paused, ended) and its recap.

Ending a session (POST /sessions/{id}/end, or the beat job for sessions idle past
SESSION_IDLE_END_MINUTES) computes its recap from its turns, stores it with the session
(`chat_sessions.recap`) and announces it as `session_summary` (once, through
domain/announcements.py: the sweeper publishes it again if that publish was lost).
Ending twice returns the stored recap. Before the end, GET /sessions/{id}/summary and
`session_ready` compute the same recap on the fly ("the summary so far", `final: false`),
without writing anything.

What a recap counts, from the session's complete learner turns (a greeting is not one):
- `turns`, `xp` (their XP), `accuracy`: turns without grammar errors / turns (null
  without turns);
- `words_practised`: `new` (the word's first review ever came from this session),
  `reviewed` (reviews made from this session's turns), `used_correctly` (word feedback);
  ending a session first applies the learner's conversation reviews still waiting for
  their task, so the last turn's words count (the summary so far may lag a moment);
- `error_patterns`: each kind of mistake met (domain/language/error_patterns.py) with
  how often and its first example;
- `well_said`: up to three learner messages without errors, longest first;
- `words_to_add`: vocabulary words without a card for the learner: those suggested in the
  session, then those of the session's level or below that the learner or the character
  wrote in their dictionary form, the rarest first (the everyday words come last), at
  most ten.

Sending a message to a paused session resumes it (domain/turns.py); an ended session
refuses messages (409 `session_ended`) and cannot be resumed.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from domain import announcements, conversations
from domain.config import get_settings
from domain.db import session_scope
from domain.errors import Conflict
from domain.events import EventPublisher
from domain.language.error_patterns import patterns_in
from domain.language.words import USED_CORRECTLY
from domain.models import ChatSession, utcnow
from domain.runtime import Runtime
from domain.srs import reviews

ACTIVE, PAUSED, ENDED = "active", "paused", "ended"
WELL_SAID_MAX = 3
WORDS_TO_ADD_MAX = 10

SESSION_ENDED = "session_ended"

# The session's finished learner turns with their two messages, oldest first.
_TURNS = text("""
    SELECT t.id, t.xp_awarded, t.grammar, t.moderation, t.word_feedback, u.content AS learner_text,
           a.content AS reply_text
    FROM turns t
    JOIN messages u ON u.turn_id = t.id AND u.role = 'user'
    LEFT JOIN messages a ON a.turn_id = t.id AND a.role = 'assistant'
    WHERE t.session_id = :session_id AND t.kind = 'message' AND t.status = 'complete'
    ORDER BY t.created_at
""")
# Reviews made from the session's turns; `first` when it was the word's first review ever.
_REVIEWED = text("""
    SELECT DISTINCT ON (r.word_id) r.word_id, v.lemma, r.previous_state = 0 AS first
    FROM review_logs r JOIN turns t ON t.id = r.turn_id JOIN vocabulary v ON v.id = r.word_id
    WHERE t.session_id = :session_id AND r.user_id = :user_id
    ORDER BY r.word_id, r.previous_state
""")
_WITHOUT_CARD = text("""
    SELECT v.id, v.lemma, v.translation, v.cefr_level
    FROM vocabulary v
    WHERE (v.id = ANY(:suggested) OR (lower(v.lemma) = ANY(:forms) AND v.cefr_level <= :level))
      AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.user_id = :user_id AND c.word_id = v.id)
    ORDER BY v.id = ANY(:suggested) DESC, v.frequency_rank DESC, v.id
    LIMIT :limit
""")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def end_session(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID) -> tuple[ChatSession, bool]:
    """End the learner's session with its recap (in the caller's transaction). Returns
    the session and whether this call ended it (False: it had ended already, and its
    stored recap stands)."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    db.refresh(session, with_for_update=True)  # two ends at once: the second sees the first's
    if session.status == ENDED:
        return session, False
    _end(db, session)
    return session, True


def update_session(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID, title: str | None = None,
                   status: str | None = None) -> ChatSession:
    """Rename, pause or resume the learner's session. An ended session keeps its status: 409."""
    session = conversations.get_session(db, user_id=user_id, session_id=session_id)
    if status is not None:
        db.refresh(session, with_for_update=True)  # not racing an end
        if session.status == ENDED:
            raise Conflict("This session has ended; start a new one.", code=SESSION_ENDED,
                           details={"status": ["An ended session cannot be paused or resumed."]})
        session.status = status
    if title is not None:
        session.title = title.strip()[:200]
    db.flush()
    return session


def summary(db: Session, *, user_id: uuid.UUID, session_id: str | uuid.UUID) -> dict[str, Any]:
    """GET /sessions/{id}/summary: the stored recap of an ended session, else the summary
    so far (`final: false`). Reads only."""
    return summary_of(db, conversations.get_session(db, user_id=user_id, session_id=session_id))


def summary_of(db: Session, session: ChatSession) -> dict[str, Any]:
    """The session's stored recap if it ended, else its summary so far (`session_ready` carries it)."""
    return session.recap if session.status == ENDED and session.recap else recap(db, session, final=False)


def end_idle_sessions(db: Session, *, idle_minutes: float, limit: int = 100) -> list[ChatSession]:
    """End (with their recaps) sessions not ended and idle for `idle_minutes`, up to
    `limit`, locked SKIP LOCKED so two runs take different ones (in the caller's
    transaction; announce them after the commit)."""
    idle = db.scalars(
        select(ChatSession)
        .where(ChatSession.status != ENDED, ChatSession.last_activity_at < utcnow() - timedelta(minutes=idle_minutes))
        .order_by(ChatSession.last_activity_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    for session in idle:
        _end(db, session)
    return list(idle)


def _end(db: Session, session: ChatSession) -> None:
    # The finished turns' reviews and notebook entries not applied yet (their task may be
    # queued): applied here, once (the task then finds nothing), so the recap counts them.
    reviews.apply_learner_conversation_reviews(db, get_settings(), user_id=session.user_id)
    now = utcnow()
    session.status, session.ended_at = ENDED, now
    session.recap = recap(db, session, final=True, ended_at=now)
    db.flush()


def summary_event(session: ChatSession) -> dict[str, Any]:
    """The `session_summary` event's data (DESIGN §5)."""
    return {"session_id": str(session.id), "summary": session.recap}


ANNOUNCED = announcements.Announced("session_summary", ChatSession, ChatSession.ended_at,
                                    ChatSession.status == ENDED, summary_event)


@dataclass(frozen=True)
class Ended:
    """A session just ended, with what its announcement needs once committed."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    event: dict[str, Any]

    @classmethod
    def of(cls, session: ChatSession) -> Ended:
        return cls(session.user_id, session.id, summary_event(session))

    def announce(self, publisher: EventPublisher) -> None:
        """Publish `session_summary` once (after the commit; the sweeper re-publishes a lost one)."""
        announcements.announce(publisher, ANNOUNCED, self.user_id, self.session_id, self.event)


def end_idle(runtime: Runtime) -> int:
    """The beat job: end the sessions idle past SESSION_IDLE_END_MINUTES, then announce
    their summaries. Returns how many it ended."""
    with session_scope() as db:
        ended = [Ended.of(session) for session in
                 end_idle_sessions(db, idle_minutes=runtime.settings.session_idle_end_minutes)]
    for session in ended:
        session.announce(runtime.publisher)
    return len(ended)


def overview(session: ChatSession) -> dict[str, Any]:
    """The few counters `turn_result` carries about its session."""
    return {"id": str(session.id), "title": session.title, "status": session.status,
            "turn_count": session.turn_count, "xp": session.xp}


# --- the recap ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Turn:
    id: uuid.UUID
    xp: int
    errors: list[dict[str, Any]]
    flagged: bool
    word_feedback: list[dict[str, Any]]
    learner_text: str
    reply_text: str | None


def recap(db: Session, session: ChatSession, *, final: bool, ended_at: datetime | None = None) -> dict[str, Any]:
    """The session's recap, computed from its turns (see the module's docstring)."""
    rows = db.execute(_TURNS, {"session_id": session.id}).all()
    turns = [_Turn(row.id, row.xp_awarded or 0, list((row.grammar or {}).get("errors") or []),
                   bool((row.moderation or {}).get("flagged")), list(row.word_feedback or []), row.learner_text,
                   row.reply_text) for row in rows]
    reviewed = db.execute(_REVIEWED, {"session_id": session.id, "user_id": session.user_id}).all()
    clean = [turn for turn in turns if not turn.errors]
    return {
        "session_id": str(session.id),
        "final": final,
        "status": ENDED if final else session.status,
        "ended_at": ended_at.isoformat() if ended_at else None,
        "turns": len(turns),
        "xp": sum(turn.xp for turn in turns),
        "accuracy": round(len(clean) / len(turns), 3) if turns else None,
        "words_practised": {
            "new": [{"word_id": word_id, "lemma": lemma} for word_id, lemma, first in reviewed if first],
            "reviewed": [{"word_id": word_id, "lemma": lemma} for word_id, lemma, _ in reviewed],
            "used_correctly": _used_correctly(turns),
        },
        "error_patterns": error_patterns(turns),
        "well_said": well_said(turns),
        "words_to_add": _words_to_add(db, session, turns),
    }


def error_patterns(turns: list[_Turn]) -> list[dict[str, Any]]:
    """Each kind of mistake met, in the order first met, with its count and first example."""
    met: dict[str, dict[str, Any]] = {}
    for turn in turns:
        for pattern in patterns_in(turn.errors, turn.learner_text):
            if pattern.key in met:
                met[pattern.key]["count"] += 1
                continue
            met[pattern.key] = {"key": pattern.key, "category": pattern.category, "count": 1,
                                "example": {"turn_id": str(turn.id), "text": turn.learner_text,
                                            "wrong": pattern.wrong, "fix": pattern.fix}}
    return list(met.values())


def well_said(turns: list[_Turn]) -> list[dict[str, Any]]:
    """Up to three learner messages without errors (nor flagged), longest first."""
    clean = [turn for turn in turns if not turn.errors and not turn.flagged and turn.learner_text.strip()]
    longest = sorted(clean, key=lambda turn: len(turn.learner_text), reverse=True)[:WELL_SAID_MAX]
    return [{"turn_id": str(turn.id), "text": turn.learner_text} for turn in longest]


def _used_correctly(turns: list[_Turn]) -> list[dict[str, Any]]:
    used: dict[int, str] = {}
    for turn in turns:
        for entry in turn.word_feedback:
            if entry.get("usage") == USED_CORRECTLY:
                used.setdefault(entry["word_id"], entry.get("lemma", ""))
    return [{"word_id": word_id, "lemma": lemma} for word_id, lemma in used.items()]


def _words_to_add(db: Session, session: ChatSession, turns: list[_Turn]) -> list[dict[str, Any]]:
    forms: set[str] = set()
    suggested: set[int] = set()
    for turn in turns:
        for said in (turn.learner_text, turn.reply_text or ""):
            forms.update(word.lower().replace("’", "'") for word in _WORD.findall(said))
        suggested.update(entry["word_id"] for entry in turn.word_feedback if entry.get("suggested"))
    if not forms and not suggested:
        return []
    rows = db.execute(_WITHOUT_CARD, {"forms": sorted(forms), "suggested": sorted(suggested),
                                      "user_id": session.user_id, "level": session.level, "limit": WORDS_TO_ADD_MAX})
    return [{"word_id": word_id, "lemma": lemma, "translation": translation, "cefr_level": level}
            for word_id, lemma, translation, level in rows]
