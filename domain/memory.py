"""What a model sees of a conversation.

A reply's prompt is the character's system prompt for the learner's level, the tutor's
note about this turn's mistakes, the words the learner is practising (the turn's target
words), a running summary of the older messages, and the most recent messages that fit
a token budget. When messages fall out of that window before
the summary covers them, the reply stage asks for a new summary (`older_messages`, then `store_fold`),
which keeps the newest half of the budget verbatim and folds the rest into the summary,
so the summary is rewritten once every few turns, not every turn.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from domain import prompt_files
from domain.language.error_patterns import ErrorPattern
from domain.models import ChatSession

# French text runs at about 3.5 characters per token in the common BPE vocabularies (no
# tokenizer ships offline, and an estimate is all a budget needs); each message costs a
# few tokens of framing.
CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4
_LOOKBACK_MESSAGES = 200  # read at most this many unsummarized messages per prompt
_OFFLINE_SUMMARY_CHARS = 1200

_CATEGORY_NAMES = {
    "gender_agreement": "gender agreement", "number_agreement": "number agreement",
    "subject_verb": "subject-verb agreement", "past_participle": "past participle",
    "auxiliary": "auxiliary", "tense_mood": "tense or mood", "preposition": "preposition",
    "contraction_elision": "contraction or elision", "spelling": "spelling", "negation": "negation",
    "pronoun": "pronoun", "word_order": "word order",
}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


@dataclass(frozen=True)
class Window:
    summary: str | None
    messages: list[tuple[str, str]]  # (role, content), oldest first, within the budget
    needs_folding: bool  # older messages are neither in the window nor in the summary


def newest_within(messages: list[tuple[str, str]], budget_tokens: int) -> int:
    """How many of the newest `messages` (oldest first) fit in `budget_tokens`."""
    used = kept = 0
    for _, content in reversed(messages):
        used += estimate_tokens(content)
        if used > budget_tokens:
            break
        kept += 1
    return kept


_UNSUMMARIZED = text("""
    SELECT s.summary, s.summarized_until, m.role, m.content, m.created_at
    FROM chat_sessions s
    LEFT JOIN LATERAL (
        SELECT role, content, created_at FROM messages
        WHERE session_id = s.id
          AND (CAST(:exclude_turn AS uuid) IS NULL OR turn_id <> :exclude_turn)
          AND (s.summarized_until IS NULL OR created_at > s.summarized_until)
        ORDER BY created_at DESC, role
        LIMIT :lookback
    ) m ON true
    WHERE s.id = :session_id
""")


def _unsummarized(db: Session, session_id: uuid.UUID, *, exclude_turn: uuid.UUID | None = None
                  ) -> tuple[str | None, datetime | None, list[Row]]:
    """The session's summary, what it covers, and the newer messages (oldest first) as
    rows of role, content and created_at. One plain statement: every reply reads these."""
    rows = db.execute(_UNSUMMARIZED, {"session_id": session_id, "exclude_turn": exclude_turn,
                                      "lookback": _LOOKBACK_MESSAGES}).all()
    if not rows:
        raise NoResultFound(f"no session {session_id}")
    summary, summarized_until = rows[0].summary, rows[0].summarized_until
    return summary, summarized_until, [row for row in reversed(rows) if row.role is not None]


def load_window(db: Session, *, session_id: uuid.UUID, before_turn: uuid.UUID, budget_tokens: int) -> Window:
    """The summary and the recent messages a reply to `before_turn` should see."""
    summary, _, messages = _unsummarized(db, session_id, exclude_turn=before_turn)
    pairs = [(m.role, m.content) for m in messages]
    kept = newest_within(pairs, budget_tokens)
    return Window(summary=summary, messages=pairs[len(pairs) - kept:], needs_folding=kept < len(pairs))


@dataclass(frozen=True)
class Fold:
    """Older messages to fold into a session's summary. Read in one transaction and
    stored in another: the summary is written in between (by a model: seconds), and no
    database connection is held meanwhile."""

    session_id: uuid.UUID
    previous: str | None  # the summary so far
    summarized_until: datetime | None  # what it covered when read: the store's condition
    messages: list[tuple[str, str]]  # (role, content), oldest first
    until: datetime  # the newest folded message's time


def older_messages(db: Session, *, session_id: uuid.UUID, budget_tokens: int) -> Fold | None:
    """The messages older than the newest half-budget, to fold (None: nothing to fold)."""
    summary, summarized_until, messages = _unsummarized(db, session_id)
    keep = newest_within([(m.role, m.content) for m in messages], budget_tokens // 2)
    to_fold = messages[:len(messages) - keep]
    if not to_fold:
        return None
    return Fold(session_id=session_id, previous=summary, summarized_until=summarized_until,
                messages=[(m.role, m.content) for m in to_fold], until=to_fold[-1].created_at)


def store_fold(db: Session, fold: Fold, summary: str) -> bool:
    """Store the new summary unless the session's summary moved since the fold was read
    (so two folds racing cannot lose messages); whether it was stored."""
    stored = db.execute(
        update(ChatSession)
        .where(ChatSession.id == fold.session_id,
               ChatSession.summarized_until.is_not_distinct_from(fold.summarized_until))
        .values(summary=summary, summarized_until=fold.until)
    )
    return stored.rowcount == 1


def offline_summary(previous: str | None, messages: list[tuple[str, str]], *, character_name: str) -> str:
    """A summary without a model: the learner's own words, newest kept, within a fixed
    size. Cruder than a model's, but it keeps what the learner said about themselves."""
    said = [content.strip() for role, content in messages if role == "user" and content.strip()]
    lines = ([previous] if previous else []) + [f"The learner said to {character_name}: {text}" for text in said]
    text = "\n".join(lines)
    return text[-_OFFLINE_SUMMARY_CHARS:].split("\n", 1)[-1] if len(text) > _OFFLINE_SUMMARY_CHARS else text


def tutor_note(corrections: list[dict[str, Any]], original: str) -> str:
    """The tutor's note about this turn's mistakes, from prompts/tutor/reply.txt."""
    if corrections:
        lines = []
        for error in corrections:
            wrong = original[error["start"]:error["end"]]
            better = (error.get("suggestions") or [None])[0]
            kind = _CATEGORY_NAMES.get(error.get("category", ""), error.get("category", "mistake"))
            lines.append(f'- "{wrong}" should be "{better}" ({kind})' if better else f'- "{wrong}" ({kind})')
        found = "\n".join(lines)
    else:
        found = "- No mistake worth correcting."
    return prompt_files.text("tutor/reply.txt").format(corrections=found)


def as_transcript(messages: list[tuple[str, str]], character_name: str) -> str:
    """Messages as "Learner: …" / "<character>: …" lines, for prompts about a conversation."""
    return "\n".join(f"{'Learner' if role == 'user' else character_name}: {text}" for role, text in messages)


def target_words_note(target_words: list[dict[str, Any]]) -> str | None:
    """The words the learner is practising, for the reply to use or elicit a few of
    (prompts/tutor/target_words.txt); None without any."""
    if not target_words:
        return None
    listed = "\n".join(f'- {word["lemma"]} ({word["translation"]})' for word in target_words)
    return prompt_files.text("tutor/target_words.txt").format(words=listed)


def repeated_mistakes_note(repeated: list[ErrorPattern]) -> str:
    """The tutor's note about mistakes in this message that the learner keeps making
    (the error notebook's patterns), from prompts/tutor/repeated.txt."""
    lines = []
    for pattern in repeated:
        kind = _CATEGORY_NAMES.get(pattern.category, pattern.category)
        lines.append(f'- they keep writing "{pattern.wrong}" instead of "{pattern.fix}" ({kind})' if pattern.fix
                     else f'- they keep writing "{pattern.wrong}" ({kind})')
    return prompt_files.text("tutor/repeated.txt").format(mistakes="\n".join(lines))


def reply_system_prompt(*, character_prompt: str, corrections: list[dict[str, Any]], original: str,
                        summary: str | None, target_words: list[dict[str, Any]] | None = None,
                        repeated: list[ErrorPattern] | None = None) -> str:
    """`repeated`: this message's mistakes that the learner keeps making (domain/notebook.py)."""
    parts = [character_prompt, tutor_note(corrections, original)]
    if repeated:
        parts.append(repeated_mistakes_note(repeated))
    words_note = target_words_note(target_words or [])
    if words_note:
        parts.append(words_note)
    if summary:
        parts.append(f"What you remember of the earlier conversation:\n{summary}")
    return "\n\n".join(parts)
