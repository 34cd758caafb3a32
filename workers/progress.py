"""Spaced-repetition tasks: thin wrappers over domain.progress."""
from __future__ import annotations

import uuid

from domain import optimizer, progress, tasks
from domain.config import get_settings
from domain.db import session_scope
from workers.celery_app import celery


@celery.task(name=tasks.SRS_CONVERSATION_REVIEWS)
def conversation_reviews(turn_id: str) -> None:
    """The words a finished turn used become reviews (with the learner's other pending turns, in order)."""
    with session_scope() as db:
        progress.apply_conversation_reviews(db, get_settings(), turn_id=uuid.UUID(turn_id))


@celery.task(name=tasks.SRS_FIT_PARAMETERS)
def fit_parameters(user_id: str) -> dict:
    """Fit one learner's parameters; if they are kept, reschedule the learner's cards."""
    learner, settings = uuid.UUID(user_id), get_settings()
    # A learner's whole review history is read in one statement: nightly batch work may
    # take longer than a request's statement timeout.
    with session_scope(long_statements=True) as db:
        metrics = optimizer.fit_learner(db, settings, user_id=learner)
    if metrics["adopted"]:
        after: int | None = 0
        while after is not None:
            with session_scope(long_statements=True) as db:
                after = optimizer.reschedule_chunk(db, settings, user_id=learner, after=after)
    return metrics


@celery.task(name=tasks.SRS_FIT_ALL)
def fit_all() -> int:
    """Nightly (beat): a fit for every learner with enough new reviews."""
    with session_scope(long_statements=True) as db:  # counts every learner's reviews
        learners = optimizer.learners_due_for_a_fit(db, get_settings())
    for learner in learners:
        fit_parameters.delay(str(learner))
    return len(learners)
