"""Penpal tasks: each calls one function of domain/penpal.py."""
from __future__ import annotations

import uuid

from domain import penpal, tasks
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.PENPAL_ANALYSE)
def analyse(reply_id: str) -> None:
    penpal.analyse_letter(runtime(), uuid.UUID(reply_id))


@celery.task(name=tasks.PENPAL_WRITE)
def write(reply_id: str) -> None:
    penpal.write_reply(runtime(), uuid.UUID(reply_id))


@celery.task(name=tasks.PENPAL_DELIVER)
def deliver() -> int:
    """Beat, every PENPAL_DELIVERY_INTERVAL_SECONDS."""
    return penpal.deliver_replies(runtime())
