"""Penpal tasks: thin wrappers over domain.pipeline (see domain/penpal.py)."""
from __future__ import annotations

import uuid

from domain import tasks
from workers.celery_app import celery
from workers.runtime import pipeline


@celery.task(name=tasks.PENPAL_ANALYSE)
def analyse(reply_id: str) -> None:
    pipeline().analyse_penpal_letter(uuid.UUID(reply_id))


@celery.task(name=tasks.PENPAL_WRITE)
def write(reply_id: str) -> None:
    pipeline().write_penpal_reply(uuid.UUID(reply_id))


@celery.task(name=tasks.PENPAL_DELIVER)
def deliver() -> int:
    """Beat, every PENPAL_DELIVERY_INTERVAL_SECONDS."""
    return pipeline().deliver_penpal_replies()
