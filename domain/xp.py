"""Experience points: a small reward for every turn, more for longer and cleaner ones;
and for flashcard reviews, journey answers and penpal letters."""
from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

BASE_TURN_XP = 5
CLEAN_TURN_BONUS = 5
MAX_LENGTH_BONUS = 5


def for_turn(*, text: str, error_count: int, flagged: bool) -> int:
    """XP for one learner turn. A flagged message earns nothing; writing more (up to
    about 20 words) and writing it without errors each earn a bonus."""
    if flagged:
        return 0
    words = len(text.split())
    length_bonus = min(words // 4, MAX_LENGTH_BONUS)
    clean_bonus = CLEAN_TURN_BONUS if error_count == 0 and words >= 3 else 0
    return BASE_TURN_XP + length_bonus + clean_bonus


# --- XP beyond turns (README "XP"): flashcard reviews, journey answers, penpal letters ---

REVIEW_XP = 1  # per flashcard review; a retried review (same client_review_id) earns nothing
JOURNEY_PASS_BONUS = 5
LETTER_BASE_XP = 5
MAX_LETTER_LENGTH_BONUS = 20

_AWARD = text("UPDATE users SET xp = xp + :xp WHERE id = :user_id")
_AWARD_ANSWER = text(
    "UPDATE users SET xp = xp + :xp WHERE id = (SELECT user_id FROM journey_answers WHERE id = :answer_id)")


def for_review(*, source: str) -> int:
    """A flashcard review earns a point; words reviewed by using them in a conversation
    earn nothing more (the turn's XP counts them)."""
    return REVIEW_XP if source == "review" else 0


def for_journey_answer(score: int) -> int:
    """A tenth of the score (0-10), and a bonus when the answer passes."""
    from domain.journey import PASS_SCORE

    return score // 10 + (JOURNEY_PASS_BONUS if score >= PASS_SCORE else 0)


def for_letter(body: str) -> int:
    """A letter earns a base, and a point per ten words (up to 20: about 200 words)."""
    return LETTER_BASE_XP + min(len(body.split()) // 10, MAX_LETTER_LENGTH_BONUS)


def award(db: Session, user_id: uuid.UUID, points: int) -> None:
    """Add to the learner's XP, in the caller's transaction."""
    if points:
        db.execute(_AWARD, {"user_id": user_id, "xp": points})


def award_review(db: Session, user_id: uuid.UUID, *, source: str) -> None:
    award(db, user_id, for_review(source=source))


def award_journey_answer(db: Session, answer_id: uuid.UUID, score: int) -> None:
    """XP for a scored journey answer, to the answer's learner (in the caller's transaction)."""
    db.execute(_AWARD_ANSWER, {"answer_id": answer_id, "xp": for_journey_answer(score)})
