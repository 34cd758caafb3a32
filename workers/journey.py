"""Journey tasks: thin wrappers over domain.pipeline (see domain/journey.py)."""
from __future__ import annotations

import uuid

from domain import tasks
from workers.celery_app import celery
from workers.runtime import pipeline


@celery.task(name=tasks.JOURNEY_ANALYSE)
def analyse(answer_id: str) -> None:
    pipeline().analyse_journey_answer(uuid.UUID(answer_id))


@celery.task(name=tasks.JOURNEY_SCORE)
def score(answer_id: str) -> None:
    pipeline().score_journey_answer(uuid.UUID(answer_id))
