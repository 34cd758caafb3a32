"""Assignment tasks: the `assignment_due` reminders' beat job; it calls one function of domain/."""
from __future__ import annotations

from domain import assignments, tasks
from domain.config import get_settings
from domain.redis_client import get_publisher
from workers.celery_app import celery


@celery.task(name=tasks.ASSIGNMENTS_REMIND)
def remind_assignments() -> int:
    """Every REMINDER_CHECK_INTERVAL_SECONDS (beat): remind the students of the assignments now due soon."""
    return assignments.run(get_settings(), get_publisher())
