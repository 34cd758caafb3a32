"""Spaced-repetition tasks (still named "progress.*" on the wire): each calls one function
of domain/srs/."""
from __future__ import annotations

import uuid

from domain import achievements, tasks
from domain.config import get_settings
from domain.db import session_scope
from domain.redis_client import get_publisher
from domain.srs import fit, reviews, targets
from workers.celery_app import celery


@celery.task(name=tasks.SRS_CONVERSATION_REVIEWS)
def conversation_reviews(turn_id: str) -> None:
    """The words a finished turn used become reviews and its mistakes go into the error notebook
    (with the learner's other pending turns, in order); its session's target words are chosen
    again from the moved cards, and what those reviews can unlock is unlocked, all in one
    transaction; then the unlocked achievements are announced."""
    settings = get_settings()
    with session_scope() as db:
        applied = reviews.apply_conversation_reviews(db, settings, turn_id=uuid.UUID(turn_id))
        if applied.user_id is None:
            return  # the turn is gone (its learner deleted their account)
        targets.refresh_after_turn(db, settings, user_id=applied.user_id, session_id=applied.session_id,
                                   word_feedback=applied.word_feedback)
        unlocked = achievements.check(db, settings, user_id=applied.user_id,
                                      codes=achievements.AFTER_CONVERSATION_REVIEWS) if applied.reviews else []
    if unlocked:
        with session_scope() as db:
            achievements.announce(db, get_publisher(), user_id=applied.user_id)


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
