"""Progress tasks: achievement checks and the weekly reports; each calls one function of domain/."""
from __future__ import annotations

import uuid

from domain import achievements, tasks, weekly_report
from domain.config import get_settings
from domain.redis_client import get_publisher
from workers.celery_app import celery


@celery.task(name=tasks.ACHIEVEMENTS_CHECK)
def check_achievements(user_id: str) -> list[str]:
    """Unlock what the learner's history now meets, then announce what is unannounced."""
    return achievements.check_and_announce(get_settings(), get_publisher(), user_id=uuid.UUID(user_id))


@celery.task(name=tasks.WEEKLY_REPORTS)
def weekly_reports() -> int:
    """Hourly (beat): the reports of the learners whose local week just ended."""
    return weekly_report.run(get_settings(), get_publisher())
