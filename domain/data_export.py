"""A learner's data export (POST /api/v1/auth/me/export): a task builds a JSON archive of
every row the learner owns, stores it (data_exports), and mails a signed link that
serves it once (GET /api/v1/auth/me/export/<token>; a second fetch is 410).

What the learner owns is found from the models' metadata, so tables added later are
included without a change here: the users row, then every table with a foreign key to a
table already included (user_id to users, session_id to chat_sessions, turn_id to
turns...), its rows those pointing at the included rows, and of a table that names a user,
only the rows that name this learner (a teacher's archive has their classes, not their
students' memberships). Left out: password hashes, the exports themselves and mail
waiting to be sent.
"""
from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain import mail, outbox
from domain.config import Settings
from domain.db import session_scope
from domain.errors import DomainError, NotFound
from domain.models import Base, DataExport, utcnow

OUTBOX_KIND = outbox.DATA_EXPORT
TEMPLATE = "export_ready"
_SKIPPED_TABLES = {"data_exports", "mail_messages"}
_SKIPPED_COLUMNS = {("users", "password_hash")}


class Gone(DomainError):
    code = "export_already_fetched"


def request_export(db: Session, *, user_id: uuid.UUID) -> DataExport:
    """Store an export to build, with its outbox entry (in the caller's transaction)."""
    now = utcnow()
    export = DataExport(id=uuid.uuid4(), user_id=user_id, created_at=now)
    db.add(export)
    db.flush()
    outbox.add(db, OUTBOX_KIND, export.id, now)
    return export


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def collect(db: Session, user_id: uuid.UUID) -> dict[str, list[dict]]:
    """Every row the learner owns, by table (see the module's doc)."""
    keys: dict[str, dict[str, list]] = {"users": {"id": [user_id]}}  # table -> referenced column -> values
    archive: dict[str, list[dict]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in _SKIPPED_TABLES:
            continue
        if table.name == "users":
            conditions = [table.c.id == user_id]
        else:
            conditions = [fk.parent.in_(keys[fk.column.table.name][fk.column.name])
                          for fk in table.foreign_keys
                          if fk.column.name in keys.get(fk.column.table.name, {})
                          and keys[fk.column.table.name][fk.column.name]]
        if not conditions:
            continue
        query = select(table).where(or_(*conditions))
        user_columns = [fk.parent for fk in table.foreign_keys if fk.column.table.name == "users"]
        if user_columns and table.name != "users":
            # A row that names a learner is theirs alone: a teacher's archive holds their
            # classes and assignments, not their students' memberships or reminders.
            query = query.where(or_(*(column == user_id for column in user_columns)))
        rows = db.execute(query).mappings().all()
        if not rows:
            continue
        archive[table.name] = [{name: _plain(value) for name, value in row.items()
                                if (table.name, name) not in _SKIPPED_COLUMNS} for row in rows]
        keys[table.name] = {column.name: [row[column.name] for row in rows] for column in table.primary_key.columns}
    return archive


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.jwt_secret_key, salt="parlons-data-export")


def build(settings: Settings, export_id: uuid.UUID) -> bool:
    """The task's work: build the archive, store it and queue the mail with its link."""
    with session_scope(long_statements=True) as db:
        export = db.get(DataExport, export_id, with_for_update=True)
        if export is None or export.built_at is not None:
            outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[export_id])
            return False
        export.archive = {"format": "parlons-export/1", "exported_at": utcnow().isoformat(),
                          "tables": collect(db, export.user_id)}
        export.built_at = utcnow()
        token = _serializer(settings).dumps(str(export.id))
        url = f"{settings.public_base_url.rstrip('/')}/api/v1/auth/me/export/{token}"
        message_id = mail.queue_mail(db, user_id=export.user_id, template=TEMPLATE,
                                     context={"download_url": url, "hours": settings.data_export_link_hours})
        outbox.finish(db, kind=OUTBOX_KIND, ref_ids=[export_id])
    return message_id is not None and _publish_mail(message_id)


def _publish_mail(message_id: uuid.UUID) -> bool:
    from workers.dispatch import dispatch_best_effort  # the worker's side: publish after commit

    return dispatch_best_effort(mail.OUTBOX_KIND, message_id)


def fetch_once(db: Session, settings: Settings, token: str) -> dict:
    """The archive behind a signed link, once: NotFound for a bad or expired link,
    Gone when it was fetched already (its archive is dropped at the first fetch)."""
    try:
        export_id = uuid.UUID(_serializer(settings).loads(token, max_age=settings.data_export_link_hours * 3600))
    except (BadSignature, SignatureExpired, ValueError):
        raise NotFound("This export link is invalid or expired.", code="export_not_found") from None
    export = db.get(DataExport, export_id, with_for_update=True)
    if export is None or export.built_at is None:
        raise NotFound("This export link is invalid or expired.", code="export_not_found")
    if export.fetched_at is not None:
        raise Gone("This export was downloaded already; ask for a new one.")
    archive = export.archive
    export.archive, export.fetched_at = None, utcnow()
    return archive
