"""Spaced-repetition tasks (still named "progress.*" on the wire): each calls one function
of domain/srs/."""
from __future__ import annotations

import uuid

from domain import achievements, tasks
from domain.config import get_settings
from domain.db import session_scope
from domain.srs import fit, reviews, targets
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.SRS_CONVERSATION_REVIEWS)
def conversation_reviews(turn_id: str) -> None:
    """The words a finished turn used become reviews and its mistakes go into the error notebook
    (with the learner's other pending turns, in order); then its session's target words are chosen again."""
    with session_scope() as db:
        applied = reviews.apply_conversation_reviews(db, get_settings(), turn_id=uuid.UUID(turn_id))
    if applied.reviews:  # words may now be known (an achievement)
        achievements.request_check(runtime().send_task, applied.user_id)
    with session_scope() as db:  # after the reviews' commit: the cards moved, choose the session's targets again
        targets.refresh_after_turn(db, get_settings(), turn_id=uuid.UUID(turn_id))


@celery.task(name=tasks.SRS_FIT_PARAMETERS)
def fit_parameters(user_id: str) -> dict:
    """Fit one learner's parameters; if they are kept, reschedule the learner's cards."""
    return fit.fit_and_reschedule(get_settings(), user_id=uuid.UUID(user_id))


@celery.task(name=tasks.SRS_FIT_ALL)
def fit_all() -> int:
    """Nightly (beat): a fit for every learner with enough new reviews."""
    learners = fit.learners_to_fit(get_settings())
    for learner in learners:
        fit_parameters.delay(str(learner))
    return len(learners)
