"""The error notebook: a learner's recurring mistakes, and error cards to drill them.

Every mistake the grammar stage finds in a finished turn is an occurrence of an error
pattern (domain/language/error_patterns.py: the category with the wrong words and their
fix). A pattern is `watching` until it has been made in NOTEBOOK_CARD_AFTER different
turns; it is then a `card`, scheduled by FSRS like a word's card (the same scheduler and
the learner's parameters: domain/srs/reviews.py), due at once. A card reviewed good or
easy whose mistake has not been made for NOTEBOOK_RETIRE_AFTER_DAYS, and whose stability
is at least that many days, is `retired`: out of the queue, until the learner makes the
mistake again, which brings it back due at once.

Turns are recorded by the task that turns their word feedback into reviews
(apply_conversation_reviews), under its per-learner lock and in its transaction: an
occurrence's key is (pattern, turn), so a redelivered task counts nothing twice.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import fsrs
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain.config import Settings
from domain.errors import Conflict, Invalid, NotFound
from domain.language.error_patterns import ErrorPattern, normalise, pattern_of
from domain.models import utcnow
from domain.srs import reviews

STATES = ("watching", "card", "retired")
REPEATED_AFTER = 2  # occurrences before a turn from which the reply's tutor note mentions the pattern
EXAMPLES_SHOWN = 3  # the learner's latest sentences with the mistake, per pattern
MAX_EXAMPLE_CHARS = 500
_SENTENCE_END = re.compile(r"[.!?…]+(?:\s+|$)")


# --- recording a turn's mistakes ----------------------------------------------------------

_TURN = text("""
    SELECT t.id, t.user_id, t.status, t.grammar, t.created_at, m.content
    FROM turns t JOIN messages m ON m.turn_id = t.id AND m.role = 'user'
    WHERE t.id = :turn_id
""")
# Finds the pattern, creating it uncounted; DO UPDATE (a no-op) so the row comes back.
_FIND_PATTERN = text("""
    INSERT INTO error_patterns (id, user_id, category, key, wrong, fix, explanation, occurrences, first_seen_at,
                                last_seen_at, state, reps, lapses)
    VALUES (:id, :user_id, :category, :key, :wrong, :fix, :explanation, 0, :seen_at, :seen_at, 'watching', 0, 0)
    ON CONFLICT (user_id, key) DO UPDATE SET key = EXCLUDED.key
    RETURNING id, state, occurrences
""")
# The occurrence decides whether the turn counts: when it was recorded already, nothing
# is counted and no row comes back. `state` and `becomes_card` are what counting makes of
# the pattern as _FIND_PATTERN read it (under the learner's lock: nothing moved since).
_COUNT_OCCURRENCE = text("""
    WITH occurrence AS (
        INSERT INTO error_occurrences (pattern_id, turn_id, example, created_at)
        VALUES (:pattern_id, :turn_id, :example, :seen_at)
        ON CONFLICT DO NOTHING
        RETURNING pattern_id
    )
    UPDATE error_patterns SET occurrences = occurrences + 1, wrong = :wrong,
        explanation = CASE WHEN :explanation <> '' THEN :explanation ELSE explanation END,
        first_seen_at = least(first_seen_at, :seen_at), last_seen_at = greatest(last_seen_at, :seen_at),
        state = :state,
        became_card_at = CASE WHEN :becomes_card THEN :now ELSE became_card_at END,
        card_state = CASE WHEN :becomes_card THEN COALESCE(card_state, 1) ELSE card_state END,
        step = CASE WHEN :becomes_card AND card_state IS NULL THEN 0 ELSE step END,
        due = CASE WHEN :becomes_card THEN :now ELSE due END
    WHERE id = (SELECT pattern_id FROM occurrence)
    RETURNING id
""")


def state_after_occurrence(state: str, occurrences: int, *, card_after: int) -> str:
    """A pattern's state once it has been made `occurrences` times (this time included):
    a card once made often enough; a retired card made again is a card again."""
    if state == "retired" or (state == "watching" and occurrences >= card_after):
        return "card"
    return state


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of `text` that holds [start, end): the example a card shows."""
    begin, stop = 0, len(text)
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() <= start:
            begin = boundary.end()
        elif boundary.start() >= end:
            stop = boundary.start() + len(boundary.group().rstrip())
            break
    return text[begin:stop].strip()[:MAX_EXAMPLE_CHARS]


def record(db: Session, settings: Settings, *, turn_id: uuid.UUID) -> list[uuid.UUID]:
    """Count the mistakes of a finished turn in the learner's notebook (once per turn and
    pattern: a second call changes nothing). Returns the patterns that became cards."""
    turn = db.execute(_TURN, {"turn_id": turn_id}).first()
    return record_mistakes(db, settings, turn=turn) if turn is not None else []


def record_turns(db: Session, settings: Settings, *, turns: Iterable[Any]) -> list[uuid.UUID]:
    """record_mistakes() of each turn, in the given order."""
    return [pattern_id for turn in turns for pattern_id in record_mistakes(db, settings, turn=turn)]


def record_mistakes(db: Session, settings: Settings, *, turn: Any) -> list[uuid.UUID]:
    """record(), the turn read already: a row with its id, user_id, status, grammar,
    created_at and the learner's message as `content` (as _TURN reads it)."""
    if turn.status != "complete" or not turn.grammar:
        return []
    errors = turn.grammar.get("errors") or []
    seen: dict[str, tuple[ErrorPattern, dict[str, Any]]] = {}
    for error in sorted(errors, key=lambda e: e["start"]):
        pattern = pattern_of(error, turn.content)
        seen.setdefault(pattern.key, (pattern, error))
    now, became_cards = utcnow(), []
    for pattern, error in seen.values():
        explanation = error.get("message") or ""
        found = db.execute(_FIND_PATTERN, {
            "id": uuid.uuid4(), "user_id": turn.user_id, "category": pattern.category, "key": pattern.key,
            "wrong": pattern.wrong, "fix": pattern.fix, "explanation": explanation, "seen_at": turn.created_at,
        }).one()
        state = state_after_occurrence(found.state, found.occurrences + 1, card_after=settings.notebook_card_after)
        becomes_card = state == "card" and found.state != "card"
        counted = db.execute(_COUNT_OCCURRENCE, {
            "pattern_id": found.id, "turn_id": turn.id, "seen_at": turn.created_at,
            "example": sentence_around(turn.content, error["start"], error["end"]),
            "wrong": pattern.wrong, "explanation": explanation, "state": state, "becomes_card": becomes_card,
            "now": now,
        }).first()
        if counted is not None and becomes_card:
            became_cards.append(found.id)
    return became_cards


# --- the reply's tutor note ---------------------------------------------------------------

_REPEATED = text("""
    SELECT key FROM error_patterns
    WHERE user_id = :user_id AND key = ANY(:keys) AND occurrences >= :repeated_after
""")


def repeated_patterns(db: Session, *, user_id: uuid.UUID, errors: list[dict[str, Any]],
                      text: str) -> list[ErrorPattern]:
    """This message's mistakes that the learner had made in at least REPEATED_AFTER
    earlier turns (the notebook counts a turn once it is finished). One small query, and
    none for a message without mistakes."""
    if not errors:
        return []
    found: dict[str, ErrorPattern] = {}
    for error in sorted(errors, key=lambda e: e["start"]):
        pattern = pattern_of(error, text)
        found.setdefault(pattern.key, pattern)
    keys = set(db.scalars(_REPEATED, {"user_id": user_id, "keys": list(found),
                                      "repeated_after": REPEATED_AFTER}))
    return [pattern for key, pattern in found.items() if key in keys]


# --- the notebook, and the queue of error cards ------------------------------------------

_PATTERN_COLUMNS = """
    p.id, p.category, p.key, p.wrong, p.fix, p.explanation, p.occurrences, p.first_seen_at, p.last_seen_at,
    p.state, p.card_state, p.stability, p.difficulty, p.due, p.last_review, p.reps, p.lapses
"""
_PAGE = text(f"""
    SELECT {_PATTERN_COLUMNS} FROM error_patterns p
    WHERE p.user_id = :user_id AND (CAST(:state AS text) IS NULL OR p.state = :state)
    ORDER BY p.last_seen_at DESC, p.id
    LIMIT :limit OFFSET :offset
""")
_TOTAL = text("""
    SELECT count(*) FROM error_patterns
    WHERE user_id = :user_id AND (CAST(:state AS text) IS NULL OR state = :state)
""")
_DUE = text(f"""
    SELECT {_PATTERN_COLUMNS} FROM error_patterns p
    WHERE p.user_id = :user_id AND p.state = 'card' AND p.due <= :now
    ORDER BY p.due, p.id
    LIMIT :limit
""")
_ONE = text(f"SELECT {_PATTERN_COLUMNS} FROM error_patterns p WHERE p.id = :pattern_id AND p.user_id = :user_id")
_EXAMPLES = text("""
    SELECT pattern_id, turn_id, example, created_at FROM (
        SELECT o.*, row_number() OVER (PARTITION BY o.pattern_id ORDER BY o.created_at DESC, o.turn_id) AS n
        FROM error_occurrences o WHERE o.pattern_id = ANY(:pattern_ids)
    ) latest
    WHERE n <= :shown
    ORDER BY pattern_id, n
""")


def notebook(db: Session, *, user_id: uuid.UUID, page: int, per_page: int,
             state: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """The learner's patterns, most recently made first (optionally in one state), and
    how many there are."""
    params = {"user_id": user_id, "state": state}
    rows = db.execute(_PAGE, {**params, "limit": per_page, "offset": (page - 1) * per_page}).all()
    return _present_all(db, rows), db.scalar(_TOTAL, params)


def queue(db: Session, *, user_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    """The learner's error cards that are due, the longest due first."""
    return _present_all(db, db.execute(_DUE, {"user_id": user_id, "now": utcnow(), "limit": limit}).all())


def get_pattern(db: Session, *, user_id: uuid.UUID, pattern_id: uuid.UUID) -> dict[str, Any]:
    """One of the learner's patterns (another learner's is NotFound)."""
    row = db.execute(_ONE, {"user_id": user_id, "pattern_id": pattern_id}).first()
    if row is None:
        raise NotFound("No such error pattern.", code="pattern_not_found")
    return _present_all(db, [row])[0]


def _present_all(db: Session, rows: list[Any]) -> list[dict[str, Any]]:
    examples: dict[uuid.UUID, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        for found in db.execute(_EXAMPLES, {"pattern_ids": list(examples), "shown": EXAMPLES_SHOWN}):
            examples[found.pattern_id].append({"turn_id": str(found.turn_id), "text": found.example,
                                               "created_at": found.created_at.isoformat()})
    return [{**_present(row), "examples": examples[row.id]} for row in rows]


def _present(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "category": row.category, "key": row.key, "wrong": row.wrong, "fix": row.fix,
            "explanation": row.explanation, "occurrences": row.occurrences,
            "first_seen_at": row.first_seen_at.isoformat(), "last_seen_at": row.last_seen_at.isoformat(),
            "state": row.state, "card": _present_card(row)}


def _present_card(row: Any) -> dict[str, Any] | None:
    """The FSRS side of a pattern that is (or was) a card."""
    if row.card_state is None:
        return None
    return {"state": reviews.STATE_NAMES[row.card_state], "due": row.due.isoformat(), "stability": row.stability,
            "difficulty": row.difficulty, "reps": row.reps, "lapses": row.lapses,
            "last_review": row.last_review.isoformat() if row.last_review else None}


# --- reviews and drills -------------------------------------------------------------------

@dataclass(frozen=True)
class ErrorReviewInput:
    pattern_id: uuid.UUID
    rating: int  # 0 again, 1 hard, 2 good, 3 easy
    answer: str | None = None  # the learner's drill answer: the right form, written out
    reviewed_at: datetime | None = None  # None: now
    client_review_id: str | None = None


def drill_check(*, category: str, fix: str, answer: str, analysis: dict[str, Any]) -> dict[str, Any]:
    """Whether a drill answer (`analysis`: the analyzer's result on it) writes the right form.

    The drill is "write the right form", so two things must hold: the analyzer finds no
    mistake of the pattern's category in the answer (the same mistake again, or another of
    its kind, would show there: an answer is not held to mistakes it was not drilling),
    and the answer contains the fix as whole words (normalised as the pattern's key is),
    so an answer that avoids the form altogether does not pass. A pattern without a fix
    is judged on the first condition alone."""
    errors = analysis.get("errors") or []
    same_kind = [error for error in errors if error.get("category") == category]
    wanted = normalise(fix)
    has_fix = not wanted or re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", normalise(answer)) is not None
    return {"correct": not same_kind and has_fix, "errors": errors}


def retires(*, rating: int, last_seen_at: datetime, stability: float | None, reviewed_at: datetime,
            after_days: int) -> bool:
    """A card retires when it is reviewed good or easy, its mistake has not been made for
    `after_days`, and FSRS expects it remembered for at least as long (stability, days)."""
    return (rating >= 2 and reviewed_at - last_seen_at >= timedelta(days=after_days)
            and stability is not None and stability >= after_days)


# The pattern, locked (reviews of one card are serialised, as a word card's are), with
# the learner's scheduler settings.
_CLAIM = text("""
    SELECT p.id, p.state AS pattern_state, p.category, p.fix, p.last_seen_at, p.card_state AS state, p.step,
           p.stability, p.difficulty, p.due, p.last_review, p.reps, p.lapses,
           u.desired_retention, u.created_at AS account_created_at, lp.parameters
    FROM error_patterns p JOIN users u ON u.id = p.user_id
    LEFT JOIN learner_parameters lp ON lp.user_id = u.id AND lp.adopted
    WHERE p.id = :pattern_id AND p.user_id = :user_id
    FOR UPDATE OF p
""")
_PREVIOUS_REVIEW = text("""
    SELECT pattern_id, result FROM error_reviews WHERE user_id = :user_id AND client_review_id = :client_review_id
""")
_SAVE_REVIEW = text("""
    WITH saved AS (
        UPDATE error_patterns SET state = :pattern_state, card_state = :state, step = :step, stability = :stability,
               difficulty = :difficulty, due = :due, last_review = :last_review, reps = :reps, lapses = :lapses
        WHERE id = :pattern_id
    )
    INSERT INTO error_reviews (pattern_id, user_id, rating, reviewed_at, client_review_id, answer, correct, result)
    VALUES (:pattern_id, :user_id, :rating, :last_review, :client_review_id, :answer, :correct, :result)
""").bindparams(bindparam("result", type_=JSONB))


def review(db: Session, settings: Settings, *, user_id: uuid.UUID, given: ErrorReviewInput,
           analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    """Review an error card and return its new state, with the drill's check when
    `given.answer` came with the analyzer's `analysis` of it. A wrong drill answer is
    rated again whatever the rating said: the card records what happened. The caller
    commits."""
    now = utcnow()
    row = db.execute(_CLAIM, {"pattern_id": given.pattern_id, "user_id": user_id}).first()
    if row is None:
        raise NotFound("No such error pattern.", code="pattern_not_found")
    if given.client_review_id is not None:  # under the pattern's lock: a concurrent retry waited for us
        previous = db.execute(_PREVIOUS_REVIEW, {"user_id": user_id,
                                                 "client_review_id": given.client_review_id}).first()
        if previous is not None:
            if previous.pattern_id != given.pattern_id:
                raise Invalid("This client_review_id was used for another pattern.", code="client_review_id_reused",
                              details={"client_review_id": given.client_review_id})
            return previous.result
    if row.pattern_state != "card":
        raise Conflict(f"This pattern is not an error card to review (it is {row.pattern_state}).",
                       code="not_an_error_card", details={"state": row.pattern_state})
    check = None
    rating = given.rating
    if given.answer is not None and analysis is not None:
        check = drill_check(category=row.category, fix=row.fix, answer=given.answer, analysis=analysis)
        rating = rating if check["correct"] else 0
    reviewed_at = reviews._reviewed_at(given.reviewed_at, now=now, last_review=row.last_review,
                                       account_created_at=row.account_created_at)
    previous_state = row.state if row.last_review else 0
    card, _ = reviews.scheduler(settings, retention=row.desired_retention, parameters=row.parameters).review_card(
        reviews._card(row), fsrs.Rating(rating + 1), review_datetime=reviewed_at)
    reps = row.reps + 1
    lapses = row.lapses + (previous_state == fsrs.State.Review.value and rating == 0)
    retired = retires(rating=rating, last_seen_at=row.last_seen_at, stability=card.stability,
                      reviewed_at=reviewed_at, after_days=settings.notebook_retire_after_days)
    pattern_state = "retired" if retired else "card"
    result = {"pattern_id": str(row.id), "state": pattern_state, "rating": rating,
              "card": {"state": reviews.STATE_NAMES[card.state.value], "due": card.due.isoformat(),
                       "stability": card.stability, "difficulty": card.difficulty, "reps": reps, "lapses": lapses,
                       "last_review": card.last_review.isoformat()},
              "check": check}
    db.execute(_SAVE_REVIEW, {
        "pattern_id": row.id, "user_id": user_id, "pattern_state": pattern_state, "state": card.state.value,
        "step": card.step, "stability": card.stability, "difficulty": card.difficulty, "due": card.due,
        "last_review": card.last_review, "reps": reps, "lapses": lapses, "rating": rating + 1,
        "client_review_id": given.client_review_id, "answer": given.answer,
        "correct": check["correct"] if check else None, "result": result})
    return result
