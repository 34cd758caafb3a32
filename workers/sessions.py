"""Session tasks: the greeting that opens a story session (llm), and the beat job that
ends idle sessions (default). Each calls one domain function."""
from __future__ import annotations

import uuid

from domain import greetings, session_summary, tasks
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.SESSIONS_GREET)
def greet(session_id: str) -> None:
    greetings.greet(runtime(), uuid.UUID(session_id))


@celery.task(name=tasks.SESSIONS_END_IDLE)
def end_idle() -> int:
    return session_summary.end_idle(runtime())
