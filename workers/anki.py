"""Anki tasks: a large import, by domain/anki.py."""
from __future__ import annotations

import uuid

from domain import anki, outbox, tasks
from domain.config import get_settings
from domain.db import session_scope
from domain.redis_client import get_publisher
from workers.celery_app import celery


@celery.task(name=tasks.ANKI_IMPORT)
def import_file(import_id: str) -> str | None:
    """Import a stored file in one transaction, with `import_progress` events. The outbox
    entry is held while it works (the sweeper does not send it again meanwhile)."""
    settings, ref_id = get_settings(), uuid.UUID(import_id)
    with outbox.holding(anki.OUTBOX_KIND, ref_id, settings.stage_lease_seconds) as claim:
        if claim is None:
            return None
        with session_scope(long_statements=True) as db:
            return anki.run_import(db, settings, get_publisher().publish, ref_id)
