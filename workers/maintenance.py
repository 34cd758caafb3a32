"""Periodic jobs run by beat."""
from __future__ import annotations

from domain import maintenance, tasks
from workers.celery_app import celery
from workers.dispatch import dispatch_best_effort
from workers.runtime import runtime, turn_pipeline


@celery.task(name=tasks.SWEEP)
def sweep() -> dict[str, int]:
    """Re-publish lost work, finish stalled turns, fail overdue ones (domain/maintenance.py)."""
    return maintenance.sweep(runtime(), turn_pipeline(), dispatch_best_effort)
