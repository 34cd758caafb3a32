"""Journey tasks: each calls one function of domain/journey.py."""
from __future__ import annotations

import uuid

from domain import journey, tasks
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.JOURNEY_ANALYSE)
def analyse(answer_id: str) -> None:
    journey.analyse(runtime(), uuid.UUID(answer_id))


@celery.task(name=tasks.JOURNEY_SCORE)
def score(answer_id: str) -> None:
    journey.score(runtime(), uuid.UUID(answer_id))
