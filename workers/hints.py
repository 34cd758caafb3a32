"""Hint tasks: each calls one function of domain/hints.py."""
from __future__ import annotations

import uuid

from domain import hints, tasks
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.HINTS_GENERATE)
def generate(hint_id: str) -> None:
    hints.generate(runtime(), uuid.UUID(hint_id))


@celery.task(name=tasks.HINTS_AFTER_SPEECH)
def after_speech(session_id: str, segment_id: int) -> None:
    hints.after_speech(runtime(), uuid.UUID(session_id), segment_id)
