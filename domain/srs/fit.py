"""Fitting a learner's own FSRS parameters to their reviews (fsrs-rs-python), nightly.

The reviews are split by time: parameters are fitted on the older 80% of the
predictions and judged on the newest 20%, by log loss (how surprised the model is by
what the learner actually recalled). New parameters are kept only when they beat the
ones in use on those held-out reviews; then the learner's cards are rescheduled with
them, a chunk of cards per transaction, each card replayed through its review history.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import groupby
from typing import Any, Sequence

import fsrs
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain.config import Settings
from domain.db import session_scope
from domain.models import utcnow
from domain.srs import reviews

HELD_OUT_SHARE = 0.2
RESCHEDULE_CHUNK = 1000

# (rating 1-4, whole days since the card's previous review; 0 for the first)
Review = tuple[int, int]


@dataclass(frozen=True)
class Prediction:
    """A review the model predicts from the card's reviews before it."""

    at: datetime
    history: tuple[Review, ...]  # the reviews before, then the one predicted (last)


_REVIEWS = text("""
    SELECT word_id, rating, reviewed_at FROM review_logs WHERE user_id = :user_id ORDER BY word_id, reviewed_at, id
""")
_CURRENT = text("""
    SELECT u.desired_retention, p.parameters FROM users u
    LEFT JOIN learner_parameters p ON p.user_id = u.id AND p.adopted WHERE u.id = :user_id
""")
_STORE = text("""
    INSERT INTO learner_parameters (user_id, parameters, adopted, metrics, fitted_at)
    VALUES (:user_id, :parameters, :adopted, :metrics, :now)
    ON CONFLICT (user_id) DO UPDATE SET metrics = EXCLUDED.metrics, fitted_at = EXCLUDED.fitted_at,
        parameters = CASE WHEN EXCLUDED.adopted THEN EXCLUDED.parameters ELSE learner_parameters.parameters END,
        adopted = EXCLUDED.adopted OR learner_parameters.adopted
""").bindparams(bindparam("parameters", type_=JSONB), bindparam("metrics", type_=JSONB))


def predictions(reviews: Sequence[tuple[int, int, datetime]]) -> list[Prediction]:
    """(word_id, rating, reviewed_at) rows, by card then time -> every review after a
    card's first, with the history that leads to it."""
    found = []
    for _, card_reviews in groupby(reviews, key=lambda row: row[0]):
        history: list[Review] = []
        previous: datetime | None = None
        for _, rating, at in card_reviews:
            history.append((rating, (at - previous).days if previous else 0))
            previous = at
            if len(history) >= 2 and any(days > 0 for _, days in history):
                found.append(Prediction(at, tuple(history)))
    return found


def split_by_time(found: list[Prediction]) -> tuple[list[Prediction], list[Prediction]]:
    """(train, held out): the newest HELD_OUT_SHARE of the predictions are held out;
    only long-term ones (a day or more after the previous review) are judged."""
    ordered = sorted(found, key=lambda p: p.at)
    cut = int(len(ordered) * (1 - HELD_OUT_SHARE))
    return ordered[:cut], [p for p in ordered[cut:] if p.history[-1][1] > 0]


def log_loss(parameters: Sequence[float], held_out: Sequence[Prediction]) -> float:
    """Mean log loss of the recall probabilities the parameters give the held-out reviews."""
    from fsrs_rs_python import FSRS

    decay = -parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    states = FSRS(list(parameters)).memory_state_batch([_item(p.history[:-1]) for p in held_out])
    total = 0.0
    for prediction, state in zip(held_out, states):
        rating, days = prediction.history[-1]
        recall = min(max((1 + factor * days / state.stability) ** decay, 1e-6), 1 - 1e-6)
        total -= math.log(recall if rating > 1 else 1 - recall)
    return total / len(held_out)


def _item(history: Sequence[Review]) -> Any:
    from fsrs_rs_python import FSRSItem, FSRSReview

    return FSRSItem([FSRSReview(rating, days) for rating, days in history])


def fit(train: Sequence[Prediction]) -> list[float]:
    from fsrs_rs_python import DEFAULT_PARAMETERS, FSRS

    return [round(p, 4) for p in FSRS(DEFAULT_PARAMETERS).compute_parameters([_item(p.history) for p in train])]


def fit_learner(db: Session, settings: Settings, *, user_id: uuid.UUID) -> dict[str, Any]:
    """Fit, compare, store (the caller commits). Returns the fit's metrics; `adopted`
    says whether the learner's cards should now be rescheduled."""
    rows = db.execute(_REVIEWS, {"user_id": user_id}).all()
    if len(rows) < settings.fsrs_optimizer_min_reviews:
        return {"adopted": False, "reviews": len(rows), "reason": "not_enough_reviews"}
    train, held_out = split_by_time(predictions([(r.word_id, r.rating, _utc(r.reviewed_at)) for r in rows]))
    if not train or not held_out:
        return {"adopted": False, "reviews": len(rows), "reason": "not_enough_long_term_reviews"}
    current = db.execute(_CURRENT, {"user_id": user_id}).one().parameters or list(fsrs.scheduler.DEFAULT_PARAMETERS)
    fitted = fit(train)
    before, after = log_loss(current, held_out), log_loss(fitted, held_out)
    metrics = {"adopted": after < before, "reviews": len(rows), "train_predictions": len(train),
               "held_out_predictions": len(held_out), "log_loss_current": round(before, 5),
               "log_loss_fitted": round(after, 5), "fitted_parameters": fitted}
    db.execute(_STORE, {"user_id": user_id, "parameters": fitted, "adopted": metrics["adopted"], "metrics": metrics,
                        "now": utcnow()})
    return metrics


_CARD_CHUNK = text("""
    SELECT word_id, state, step, stability, difficulty, due, last_review FROM cards
    WHERE user_id = :user_id AND word_id > :after AND last_review IS NOT NULL
    ORDER BY word_id LIMIT :limit FOR UPDATE
""")
_CHUNK_REVIEWS = text("""
    SELECT word_id, rating, reviewed_at FROM review_logs
    WHERE user_id = :user_id AND word_id = ANY(:word_ids) ORDER BY word_id, reviewed_at, id
""")
_RESCHEDULE = text("""
    UPDATE cards SET state = :state, step = :step, stability = :stability, difficulty = :difficulty, due = :due
    WHERE user_id = :user_id AND word_id = :word_id
""")


def reschedule_chunk(db: Session, settings: Settings, *, user_id: uuid.UUID, after: int) -> int | None:
    """Replay up to RESCHEDULE_CHUNK cards (word ids above `after`) through their reviews
    with the learner's current parameters; returns the last word id done, or None when
    no card is left. One chunk per transaction keeps the locks short."""
    learner = db.execute(_CURRENT, {"user_id": user_id}).one()
    scheduler = reviews.scheduler(settings, retention=learner.desired_retention, parameters=learner.parameters)
    cards = db.execute(_CARD_CHUNK, {"user_id": user_id, "after": after, "limit": RESCHEDULE_CHUNK}).all()
    if not cards:
        return None
    history = db.execute(_CHUNK_REVIEWS, {"user_id": user_id, "word_ids": [c.word_id for c in cards]}).all()
    by_word = {word_id: list(rows) for word_id, rows in groupby(history, key=lambda row: row.word_id)}
    for card in cards:
        logs = [fsrs.ReviewLog(card_id=0, rating=fsrs.Rating(row.rating), review_datetime=_utc(row.reviewed_at),
                               review_duration=None) for row in by_word.get(card.word_id, [])]
        replayed = scheduler.reschedule_card(fsrs.Card(card_id=0, due=_utc(card.due)), logs)
        db.execute(_RESCHEDULE, {"user_id": user_id, "word_id": card.word_id, "state": replayed.state.value,
                                 "step": replayed.step, "stability": replayed.stability,
                                 "difficulty": replayed.difficulty, "due": replayed.due})
    return cards[-1].word_id


_DUE_FOR_A_FIT = text("""
    SELECT r.user_id FROM review_logs r LEFT JOIN learner_parameters p ON p.user_id = r.user_id
    GROUP BY r.user_id, p.fitted_at
    HAVING count(*) >= :min_reviews
       AND (p.fitted_at IS NULL OR count(*) FILTER (WHERE r.reviewed_at > p.fitted_at) >= :min_new_reviews)
""")


def learners_due_for_a_fit(db: Session, settings: Settings) -> list[uuid.UUID]:
    """Learners with enough reviews, never fitted or with enough new reviews since."""
    return list(db.scalars(_DUE_FOR_A_FIT, {"min_reviews": settings.fsrs_optimizer_min_reviews,
                                            "min_new_reviews": settings.fsrs_optimizer_min_reviews // 4}))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def fit_and_reschedule(settings: Settings, *, user_id: uuid.UUID) -> dict[str, Any]:
    """Fit one learner's parameters; if they are kept, reschedule the learner's cards, a
    chunk per transaction. Returns the fit's metrics."""
    # A learner's whole review history is read in one statement: nightly batch work may
    # take longer than a request's statement timeout.
    with session_scope(long_statements=True) as db:
        metrics = fit_learner(db, settings, user_id=user_id)
    if metrics["adopted"]:
        after: int | None = 0
        while after is not None:
            with session_scope(long_statements=True) as db:
                after = reschedule_chunk(db, settings, user_id=user_id, after=after)
    return metrics


def learners_to_fit(settings: Settings) -> list[uuid.UUID]:
    """`learners_due_for_a_fit`, in a transaction of its own (it counts every learner's reviews)."""
    with session_scope(long_statements=True) as db:
        return learners_due_for_a_fit(db, settings)
