"""Reminder tasks: the streak reminders' beat job; it calls one function of domain/."""
from __future__ import annotations

from domain import reminders, tasks
from domain.config import get_settings
from workers.celery_app import celery


@celery.task(name=tasks.REMINDERS_CHECK)
def check_reminders() -> int:
    """Every REMINDER_CHECK_INTERVAL_SECONDS (beat): send the streak reminders now due."""
    return reminders.run(get_settings())
