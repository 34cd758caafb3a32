"""Hint tasks: thin wrappers over domain.pipeline."""
from __future__ import annotations

import uuid

from domain import tasks
from workers.celery_app import celery
from workers.runtime import pipeline


@celery.task(name=tasks.HINTS_GENERATE)
def generate(hint_id: str) -> None:
    pipeline().run_hints(uuid.UUID(hint_id))


@celery.task(name=tasks.HINTS_AFTER_SPEECH)
def after_speech(session_id: str, segment_id: int) -> None:
    pipeline().hint_after_speech(uuid.UUID(session_id), segment_id)
