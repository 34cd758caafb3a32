"""The transactional outbox: work that must reach the broker even if the first publish
after commit did not happen (broker down, process killed, Redis restarted empty).

An entry is written with the thing it is about and removed when that thing is finished.
The sweeper re-publishes entries that have waited too long; the tasks they start are
idempotent, so an extra publish costs a little work and never a duplicate result.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from domain.models import OutboxEntry, utcnow

_outbox = OutboxEntry.__table__
# Built once: it runs on every failed turn. (A turn's entry is written and removed by
# the statements in domain/turns.py, with the turn itself.)
_REMOVE = delete(_outbox).where(_outbox.c.kind == bindparam("kind"), _outbox.c.ref_id.in_(bindparam("ref_ids")))


def remove(db: Session, *, kind: str, ref_ids: list[uuid.UUID]) -> None:
    db.execute(_REMOVE, {"kind": kind, "ref_ids": ref_ids})


def claim_due(db: Session, *, older_than_seconds: float, limit: int = 200) -> list[tuple[str, uuid.UUID]]:
    """Entries not published for `older_than_seconds`, stamped as published now.

    SKIP LOCKED lets two sweepers run at once without sending the same entry twice.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    due = (
        select(OutboxEntry.id)
        .where(or_(OutboxEntry.last_published_at < cutoff,
                   OutboxEntry.last_published_at.is_(None) & (OutboxEntry.created_at < cutoff)))
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = db.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(due))
        .values(last_published_at=utcnow(), publish_attempts=OutboxEntry.publish_attempts + 1)
        .returning(OutboxEntry.kind, OutboxEntry.ref_id)
    ).all()
    return [(kind, ref_id) for kind, ref_id in rows]
