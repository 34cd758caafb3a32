"""Periodic jobs run by beat."""
from __future__ import annotations

from domain import tasks
from workers.celery_app import celery
from workers.dispatch import dispatch_best_effort
from workers.runtime import pipeline


@celery.task(name=tasks.SWEEP)
def sweep() -> dict[str, int]:
    """Re-publish lost turn work, finish stalled turns, fail overdue ones."""
    return pipeline().sweep(dispatch_best_effort)
