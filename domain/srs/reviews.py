"""Spaced repetition with FSRS-6 (the `fsrs` package): reviews, the queue and stats.

One card per learner and word holds the scheduler's state after the last review; every
review is logged with the state it left, so a retried review (same client_review_id)
returns the same answer and the optimiser can refit the learner's parameters.

Reviews of one card are serialised by a row lock on the card, so two devices syncing at
once apply their reviews one after the other, and each is checked against the card's
last review.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

import fsrs
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain import outbox
from domain.config import Settings
from domain.errors import Invalid, NotFound
from domain.models import utcnow
from domain.xp import award_review

RATING_NAMES = ("again", "hard", "good", "easy")  # the API's 0-3; fsrs.Rating is 1-4
STATE_NAMES = {0: "new", 1: "learning", 2: "review", 3: "relearning"}
# A client clock a little ahead of ours is not a review "in the future".
CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class ReviewInput:
    word_id: int
    rating: int  # 0 again, 1 hard, 2 good, 3 easy
    reviewed_at: datetime | None = None  # None: now
    duration_ms: int | None = None
    client_review_id: str | None = None


@functools.lru_cache(maxsize=256)
def _scheduler(parameters: tuple[float, ...], retention: float, learning_steps: tuple[float, ...],
               relearning_steps: tuple[float, ...], fuzzing: bool) -> fsrs.Scheduler:
    return fsrs.Scheduler(parameters=parameters, desired_retention=retention,
                          learning_steps=tuple(timedelta(seconds=s) for s in learning_steps),
                          relearning_steps=tuple(timedelta(seconds=s) for s in relearning_steps),
                          enable_fuzzing=fuzzing)


def scheduler(settings: Settings, *, retention: float, parameters: Sequence[float] | None) -> fsrs.Scheduler:
    """The learner's scheduler: their fitted parameters (or FSRS-6's defaults), their
    desired retention, and the configured learning steps and fuzzing."""
    return _scheduler(tuple(parameters or fsrs.scheduler.DEFAULT_PARAMETERS), retention,
                      _durations(settings.fsrs_learning_steps), _durations(settings.fsrs_relearning_steps),
                      settings.fsrs_enable_fuzzing)


def _durations(spec: str) -> tuple[float, ...]:
    """ "1m,10m" -> (60.0, 600.0); units s, m, h, d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return tuple(float(part[:-1]) * units[part[-1]] for part in spec.replace(" ", "").split(",") if part)


# --- reviews ----------------------------------------------------------------------------

# One statement finds the card, creating it on its first review (only for a word that
# exists), locks it (an upsert's DO UPDATE takes the row lock), and reads the learner's
# scheduler settings with it.
_CLAIM_CARD = text("""
    WITH card AS (
        INSERT INTO cards (user_id, word_id, state, step, due, reps, lapses, created_at)
        SELECT :user_id, id, 1, 0, :now, 0, 0, :now FROM vocabulary WHERE id = :word_id
        ON CONFLICT (user_id, word_id) DO UPDATE SET reps = cards.reps
        RETURNING state, step, stability, difficulty, due, last_review, reps, lapses
    )
    SELECT card.*, u.desired_retention, u.created_at AS account_created_at, p.parameters
    FROM card JOIN users u ON u.id = :user_id
    LEFT JOIN learner_parameters p ON p.user_id = u.id AND p.adopted
""")
_PREVIOUS_REVIEW = text("""
    SELECT word_id, result FROM review_logs WHERE user_id = :user_id AND client_review_id = :client_review_id
""")
# The card's new state and its log, in one statement.
_SAVE_REVIEW = text("""
    WITH saved AS (
        UPDATE cards SET state = :state, step = :step, stability = :stability, difficulty = :difficulty, due = :due,
                         last_review = :last_review, reps = :reps, lapses = :lapses
        WHERE user_id = :user_id AND word_id = :word_id
    )
    INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, duration_ms, source, client_review_id, turn_id,
                             previous_state, result)
    VALUES (:user_id, :word_id, :rating, :last_review, :duration_ms, :source, :client_review_id, :turn_id,
            :previous_state, :result)
""").bindparams(bindparam("result", type_=JSONB))


def review(db: Session, settings: Settings, *, user_id: uuid.UUID, given: ReviewInput, source: str = "review",
           turn_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Apply one review and return the card's new state. The caller commits."""
    now = utcnow()
    row = db.execute(_CLAIM_CARD, {"user_id": user_id, "word_id": given.word_id, "now": now}).first()
    if row is None:
        raise NotFound("No such word.", code="word_not_found")
    if given.client_review_id is not None:  # under the card's lock: a concurrent retry waited for us
        previous = _previous(db, user_id, given)
        if previous is not None:
            return previous
    card, reps, lapses = _card(row), row.reps, row.lapses
    reviewed_at = _reviewed_at(given.reviewed_at, now=now, last_review=card.last_review,
                               account_created_at=row.account_created_at)
    previous_state = card.state.value if card.last_review else 0
    card, _ = scheduler(settings, retention=row.desired_retention, parameters=row.parameters).review_card(
        card, fsrs.Rating(given.rating + 1), review_datetime=reviewed_at, review_duration=given.duration_ms)
    reps += 1
    lapses += previous_state == fsrs.State.Review.value and given.rating == 0
    result = _present_card(given.word_id, card, reps=reps, lapses=lapses,
                           retrievability=_retrievability(card, row, settings, at=max(now, reviewed_at)))
    db.execute(_SAVE_REVIEW, {
        "user_id": user_id, "word_id": given.word_id, "state": card.state.value, "step": card.step,
        "stability": card.stability, "difficulty": card.difficulty, "due": card.due, "last_review": card.last_review,
        "reps": reps, "lapses": lapses, "rating": given.rating + 1, "duration_ms": given.duration_ms,
        "source": source, "client_review_id": given.client_review_id, "turn_id": turn_id,
        "previous_state": previous_state, "result": result})
    award_review(db, user_id, source=source)
    # The review's day in the analytics' rollup.
    from domain.analytics import count_review  # here: the analytics read this module's streak

    count_review(db, settings, user_id=user_id, word_id=given.word_id)
    return result


def review_batch(db: Session, settings: Settings, *, user_id: uuid.UUID,
                 items: Iterable[ReviewInput]) -> list[dict[str, Any]]:
    """Apply reviews in order, all or none: a bad item fails the batch (the caller rolls
    back), naming its index, so an offline client can drop it and send the rest again."""
    results = []
    for index, given in enumerate(items):
        try:
            results.append(review(db, settings, user_id=user_id, given=given))
        except (Invalid, NotFound) as problem:
            raise Invalid(f"Review {index}: {problem.message}", code=problem.code,
                          details={"index": index, **problem.details}) from None
    return results


def _previous(db: Session, user_id: uuid.UUID, given: ReviewInput) -> dict[str, Any] | None:
    row = db.execute(_PREVIOUS_REVIEW, {"user_id": user_id, "client_review_id": given.client_review_id}).first()
    if row is None:
        return None
    if row.word_id != given.word_id:
        raise Invalid("This client_review_id was used for another word.", code="client_review_id_reused",
                      details={"client_review_id": given.client_review_id})
    return row.result


def _reviewed_at(claimed: datetime | None, *, now: datetime, last_review: datetime | None,
                 account_created_at: datetime) -> datetime:
    if claimed is None:
        return now if last_review is None or now >= last_review else last_review
    if claimed.tzinfo is None:
        raise Invalid("reviewed_at needs a time zone (e.g. 2026-11-22T09:30:00Z).", code="review_time_invalid")
    # Compared before converting: year 1 or 9999 in a far time zone has no UTC equivalent.
    if claimed > now + CLOCK_SKEW:
        raise Invalid("reviewed_at is in the future.", code="review_time_invalid",
                      details={"reviewed_at": claimed.isoformat(), "now": now.isoformat()})
    if claimed < account_created_at - CLOCK_SKEW:
        raise Invalid("reviewed_at is before the account was created.", code="review_time_invalid",
                      details={"reviewed_at": claimed.isoformat(),
                               "account_created_at": account_created_at.isoformat()})
    claimed = claimed.astimezone(timezone.utc)
    if last_review is not None and claimed < last_review:
        raise Invalid("reviewed_at is before the card's last review.", code="review_time_invalid",
                      details={"reviewed_at": claimed.isoformat(), "last_review": last_review.isoformat()})
    return min(claimed, now)


def _utc(moment: datetime | None) -> datetime | None:
    # fsrs wants datetime.timezone.utc itself, not an equivalent zone.
    return moment.astimezone(timezone.utc) if moment is not None else None


def _card(row: Any) -> fsrs.Card:
    if row.last_review is None:  # created by this review
        return fsrs.Card(card_id=0, due=_utc(row.due))
    return fsrs.Card(card_id=0, state=fsrs.State(row.state), step=row.step, stability=row.stability,
                     difficulty=row.difficulty, due=_utc(row.due), last_review=_utc(row.last_review))


def _retrievability(card: fsrs.Card, row: Any, settings: Settings, *, at: datetime) -> float:
    chosen = scheduler(settings, retention=row.desired_retention, parameters=row.parameters)
    return round(chosen.get_card_retrievability(card, current_datetime=at), 4)


def _present_card(word_id: int, card: fsrs.Card, *, reps: int, lapses: int, retrievability: float) -> dict[str, Any]:
    return {"word_id": word_id, "state": STATE_NAMES[card.state.value], "due": card.due.isoformat(),
            "stability": card.stability, "difficulty": card.difficulty, "retrievability": retrievability,
            "reps": reps, "lapses": lapses, "last_review": card.last_review.isoformat() if card.last_review else None}


# --- the queue ----------------------------------------------------------------------------

# The whole queue is one statement. The due cards' order needs every due card's
# retrievability, so it comes from the covering index alone (ix_cards_user_due) and
# only the first `limit` cards are read in full. The decay is the learner's own
# (the last of their 21 parameters) when they have fitted ones. CEFR levels sort as
# text ("A2" < "B1"), so "at or below the learner's level" is a comparison.
_QUEUE = text("""
    WITH learner AS (
        SELECT u.level, -CAST(COALESCE(p.parameters ->> 20, CAST(:default_w20 AS text)) AS float8) AS decay
        FROM users u LEFT JOIN learner_parameters p ON p.user_id = u.id AND p.adopted
        WHERE u.id = :user_id
    ), due AS (
        -- Retrievability falls as (whole days elapsed) / stability grows, so that ratio
        -- orders the cards; the power is taken for the chosen few only.
        SELECT word_id, due,
               greatest(floor(date_part('epoch', CAST(:now AS timestamptz) - last_review) / 86400), 0)
               / stability AS elapsed_ratio
        FROM cards WHERE user_id = :user_id AND due <= :now
        ORDER BY elapsed_ratio DESC, due, word_id
        LIMIT :limit
    ), fresh AS (
        SELECT v.id AS word_id, v.frequency_rank FROM vocabulary v, learner l
        WHERE v.cefr_level <= l.level
          AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.user_id = :user_id AND c.word_id = v.id)
        ORDER BY v.frequency_rank, v.id
        LIMIT :new_limit
    )
    SELECT * FROM (
        SELECT 0 AS part, power(1 + (power(0.9, 1 / l.decay) - 1) * d.elapsed_ratio, l.decay) AS retrievability,
               d.due AS sort_due, c.word_id, c.state, c.step, c.stability, c.difficulty,
               c.due, c.last_review, c.reps, c.lapses, v.lemma, v.pos, v.gender, v.translation, v.frequency_rank,
               v.cefr_level, v.example
        FROM due d CROSS JOIN learner l JOIN cards c ON c.user_id = :user_id AND c.word_id = d.word_id
        JOIN vocabulary v ON v.id = d.word_id
        UNION ALL
        SELECT 1, NULL, NULL, v.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, v.lemma, v.pos, v.gender,
               v.translation, v.frequency_rank, v.cefr_level, v.example
        FROM fresh f JOIN vocabulary v ON v.id = f.word_id
    ) queue
    ORDER BY part, retrievability, sort_due, frequency_rank, word_id
""")
_LEARNER = text("""
    SELECT u.level, u.timezone, u.xp, u.desired_retention, p.parameters AS adopted_parameters
    FROM users u LEFT JOIN learner_parameters p ON p.user_id = u.id AND p.adopted
    WHERE u.id = :user_id
""")
_WORD_COLUMNS = ("lemma", "pos", "gender", "translation", "frequency_rank", "cefr_level", "example")


def queue(db: Session, *, user_id: uuid.UUID, limit: int, new_limit: int) -> dict[str, list[dict[str, Any]]]:
    """Due cards, least likely to be recalled first (the most overdue), then new words:
    the most frequent ones at or below the learner's level that they have no card for."""
    rows = db.execute(_QUEUE, {"user_id": user_id, "now": utcnow(), "limit": limit, "new_limit": new_limit,
                               "default_w20": fsrs.scheduler.DEFAULT_PARAMETERS[20]})
    found: dict[str, list[dict[str, Any]]] = {"due": [], "new": []}
    for row in rows:
        if row.part == 0:
            found["due"].append({**_present_row(row), "retrievability": round(row.retrievability, 4),
                                 "word": _word_of(row)})
        else:
            found["new"].append({"word_id": row.word_id, "state": "new", "word": _word_of(row)})
    return found


def _word_of(row: Any) -> dict[str, Any]:
    return {"id": row.word_id, **{column: getattr(row, column) for column in _WORD_COLUMNS}}


def _present_row(row: Any) -> dict[str, Any]:
    return {"word_id": row.word_id, "state": STATE_NAMES[row.state], "due": row.due.isoformat(),
            "stability": row.stability, "difficulty": row.difficulty, "reps": row.reps, "lapses": row.lapses,
            "last_review": row.last_review.isoformat() if row.last_review else None}


# --- one word's progress, and the learner's stats ------------------------------------------

_CARD = text("""
    SELECT c.word_id, c.state, c.step, c.stability, c.difficulty, c.due, c.last_review, c.reps, c.lapses
    FROM cards c WHERE c.user_id = :user_id AND c.word_id = :word_id AND c.last_review IS NOT NULL
""")
_HISTORY = text("""
    SELECT rating, reviewed_at, duration_ms, source, turn_id, result
    FROM review_logs WHERE user_id = :user_id AND word_id = :word_id
    ORDER BY reviewed_at, id
""")


def word_progress(db: Session, settings: Settings, *, user_id: uuid.UUID, word_id: int) -> dict[str, Any]:
    """The card's state (`new` before the first review) and every review of it."""
    from domain.srs.vocabulary import get_word, present_word

    word = present_word(get_word(db, word_id))
    row = db.execute(_CARD, {"user_id": user_id, "word_id": word_id}).first()
    if row is None:
        return {"word_id": word_id, "state": "new", "word": word, "reviews": []}
    learner = db.execute(_LEARNER, {"user_id": user_id}).one()
    card = _card(row)
    chosen = scheduler(settings, retention=learner.desired_retention, parameters=learner.adopted_parameters)
    history = db.execute(_HISTORY, {"user_id": user_id, "word_id": word_id})
    return {**_present_row(row), "retrievability": round(chosen.get_card_retrievability(card), 4), "word": word,
            "reviews": [{"rating": review.rating - 1, "rating_name": RATING_NAMES[review.rating - 1],
                         "reviewed_at": review.reviewed_at.isoformat(), "duration_ms": review.duration_ms,
                         "source": review.source, "turn_id": str(review.turn_id) if review.turn_id else None,
                         "state_after": review.result["state"], "due_after": review.result["due"]}
                        for review in history]}


_STATS = text("""
    SELECT
      (SELECT count(*) FROM cards WHERE user_id = :user_id AND state = 1 AND last_review IS NOT NULL) AS learning,
      (SELECT count(*) FROM cards WHERE user_id = :user_id AND state = 2) AS review,
      (SELECT count(*) FROM cards WHERE user_id = :user_id AND state = 3) AS relearning,
      (SELECT count(*) FROM cards WHERE user_id = :user_id AND due < :end_of_day) AS due_today,
      (SELECT count(*) FROM review_logs WHERE user_id = :user_id AND reviewed_at >= :start_of_day) AS reviews_today,
      (SELECT count(*) FILTER (WHERE rating > 1) FROM review_logs
        WHERE user_id = :user_id AND previous_state = 2 AND reviewed_at >= :month_ago) AS recalled,
      (SELECT count(*) FROM review_logs
        WHERE user_id = :user_id AND previous_state = 2 AND reviewed_at >= :month_ago) AS recall_attempts
""")
_REVIEW_DAYS = text("""
    SELECT DISTINCT CAST(timezone(:tz, reviewed_at) AS date) AS day
    FROM review_logs WHERE user_id = :user_id AND reviewed_at >= :since
    ORDER BY day DESC
""")
_PARAMETERS = text("""
    SELECT parameters, adopted, metrics, fitted_at FROM learner_parameters WHERE user_id = :user_id
""")


def stats(db: Session, *, user_id: uuid.UUID, now: datetime | None = None) -> dict[str, Any]:
    """Cards by state, today's due cards and reviews (today in the learner's time zone),
    true retention over 30 days (share of reviews of cards in the review state that were
    recalled), the review streak, XP, and the learner's FSRS parameters."""
    now = now or utcnow()
    learner = db.execute(_LEARNER, {"user_id": user_id}).one()
    zone = _zone(learner.timezone)
    start_of_day = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
    counts = db.execute(_STATS, {"user_id": user_id, "start_of_day": start_of_day,
                                 "end_of_day": start_of_day + timedelta(days=1),
                                 "month_ago": now - timedelta(days=30)}).one()
    days = list(db.scalars(_REVIEW_DAYS, {"user_id": user_id, "tz": zone.key, "since": now - timedelta(days=400)}))
    fitted = db.execute(_PARAMETERS, {"user_id": user_id}).first()
    return {
        "cards": {"learning": counts.learning, "review": counts.review, "relearning": counts.relearning},
        "due_today": counts.due_today,
        "reviews_today": counts.reviews_today,
        "true_retention_30d": round(counts.recalled / counts.recall_attempts, 4) if counts.recall_attempts else None,
        "streak_days": streak(days, today=now.astimezone(zone).date()),
        "xp": learner.xp,
        "desired_retention": learner.desired_retention,
        "fsrs": {
            "parameters": list(fitted.parameters if fitted and fitted.adopted else fsrs.scheduler.DEFAULT_PARAMETERS),
            "source": "fitted" if fitted and fitted.adopted else "default",
            "last_fit": {"adopted": fitted.adopted, "metrics": fitted.metrics,
                         "fitted_at": fitted.fitted_at.isoformat()} if fitted else None,
        },
    }


def streak(review_days: Sequence[Any], *, today: Any) -> int:
    """Consecutive days with a review, ending today (or yesterday: today is not over)."""
    days = set(review_days)
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


# --- reviews from conversations ---------------------------------------------------------

# How a word's use in a turn rates the learner's recall of it.
_RATING_FOR_USAGE = {"used_correctly": 2, "used_with_error": 0}  # good, again

# One learner's conversation reviews at a time: the lock on a learner's id (SQL).
_LEARNER_LOCK = "pg_advisory_xact_lock(hashtextextended('conversation-reviews:' || CAST({} AS text), 0))"
_LOCK_LEARNER = text(f"SELECT {_LEARNER_LOCK.format(':user_id')}")
# The task's turn, read with its learner's lock taken: one round trip.
_LOCK_TURN_LEARNER = text(f"SELECT user_id, session_id, word_feedback, {_LEARNER_LOCK.format('user_id')} "
                          "FROM turns WHERE id = :turn_id")
# With what the error notebook needs of each turn (domain/notebook.py record_mistakes).
_PENDING_TURNS = text("""
    SELECT t.id, t.user_id, t.status, t.word_feedback, t.grammar, t.created_at, m.content
    FROM outbox o JOIN turns t ON t.id = o.ref_id JOIN messages m ON m.turn_id = t.id AND m.role = 'user'
    WHERE o.kind = :kind AND t.user_id = :user_id
    ORDER BY t.completed_at, t.id
""")


def reviews_from(word_feedback: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """(word_id, rating) for each word the turn used: correctly is good, with an error is again."""
    return [(entry["word_id"], _RATING_FOR_USAGE[entry["usage"]]) for entry in word_feedback
            if entry.get("usage") in _RATING_FOR_USAGE]


@dataclass(frozen=True)
class AppliedReviews:
    user_id: uuid.UUID | None  # None: the turn is gone
    reviews: int
    session_id: uuid.UUID | None = None  # the task's turn's session and word feedback
    word_feedback: list[dict[str, Any]] | None = None


def apply_conversation_reviews(db: Session, settings: Settings, *, turn_id: uuid.UUID) -> AppliedReviews:
    """The task after a finished turn: apply its learner's pending conversation reviews
    (`apply_learner_conversation_reviews`). Returns whose turns they were, the number of
    reviews, and the task's turn's session and word feedback (its targets are chosen
    again next)."""
    turn = db.execute(_LOCK_TURN_LEARNER, {"turn_id": turn_id}).first()
    if turn is None:
        return AppliedReviews(None, 0)
    return AppliedReviews(turn.user_id, _apply_pending(db, settings, user_id=turn.user_id),
                          session_id=turn.session_id, word_feedback=turn.word_feedback or [])


def apply_learner_conversation_reviews(db: Session, settings: Settings, *, user_id: uuid.UUID) -> int:
    """Turn the word feedback of the learner's finished turns into reviews, oldest turn
    first. One learner at a time (an advisory lock), so two workers never apply one
    learner's turns out of order; a turn whose reviews were applied has no outbox entry
    left, so a redelivered task finds nothing to do. The turns' mistakes are recorded in
    the error notebook (domain/notebook.py) in the same transaction. Returns the number
    of reviews."""
    db.execute(_LOCK_LEARNER, {"user_id": user_id})
    return _apply_pending(db, settings, user_id=user_id)


def _apply_pending(db: Session, settings: Settings, *, user_id: uuid.UUID) -> int:
    """apply_learner_conversation_reviews, its caller holding the learner's lock."""
    pending = db.execute(_PENDING_TURNS, {"kind": outbox.REVIEWS, "user_id": user_id}).all()
    applied = 0
    for turn in pending:
        for word_id, rating in reviews_from(turn.word_feedback or []):
            given = ReviewInput(word_id, rating, client_review_id=f"turn:{turn.id}:{word_id}")
            try:
                review(db, settings, user_id=user_id, given=given, source="conversation", turn_id=turn.id)
            except NotFound:  # the word left the vocabulary since
                continue
            applied += 1
    # The same turns' mistakes go into the error notebook, once: in this transaction, before the entries go.
    from domain import notebook  # here: the notebook schedules its cards with this module

    notebook.record_turns(db, settings, turns=pending)
    outbox.finish(db, kind=outbox.REVIEWS, ref_ids=[row.id for row in pending])
    return applied
