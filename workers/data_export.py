"""Data export task: builds one learner's archive (domain/data_export.py)."""
from __future__ import annotations

import uuid

from domain import data_export, tasks
from domain.config import get_settings
from workers.celery_app import celery


@celery.task(name=tasks.DATA_EXPORT_BUILD)
def build(export_id: str) -> bool:
    return data_export.build(get_settings(), uuid.UUID(export_id))
