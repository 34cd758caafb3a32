"""Deleting an account (DELETE /api/v1/auth/me): every row the learner owns, in one
transaction, then their Redis keys, then a confirmation email to the address captured
before the deletion.

Rows: the users row goes, and every table with a foreign key to users (or to a table
that has one: sessions, turns...) follows through its ON DELETE CASCADE (every such key
is CASCADE; a table added later with a user_id must be too). Tables that point at users
without CASCADE are deleted from explicitly first (`_explicit_deletes`, from the models'
metadata), so a new table cannot make the deletion fail. Classes a teacher taught are
deleted with them (their teacher key is CASCADE).

Redis: every key that names the learner's id, one of their sessions' ids, or their email
(event streams, quotas, analytics caches, sign-in and reset throttles, reset tokens), by
SCAN: the key patterns of features added later are covered too. Tokens: the account no
longer exists, so every access and refresh token of it is refused (`user_not_found`);
no revocation key is written, since it would name the deleted id.

The confirmation mail is stored without a user id (the user row is gone) and removed once
sent, like every mail.
"""
from __future__ import annotations

import logging
import uuid

import redis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain import mail, outbox
from domain.errors import Unauthorized
from domain.models import Base, ChatSession, MailMessage, User, utcnow

log = logging.getLogger(__name__)

TEMPLATE = "account_deleted"


def _explicit_deletes(db: Session, user_id: uuid.UUID) -> None:
    users = Base.metadata.tables["users"]
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is users and (fk.ondelete or "").upper() != "CASCADE":
                db.execute(delete(table).where(fk.parent == user_id))


def delete_account(db: Session, user: User, *, password: str) -> tuple[uuid.UUID, list[str]]:
    """Delete the account in the caller's transaction (the password must match); the
    confirmation mail's id to publish after commit, and the strings its Redis keys may
    carry (for `forget_redis`, after commit)."""
    from domain.accounts import _password_matches

    if not _password_matches(user.password_hash, password):
        raise Unauthorized("The password is wrong.", code="invalid_credentials")
    rendered = mail.render(TEMPLATE, user.native_language, {"display_name": user.display_name})
    names = [str(user.id), user.email]
    names += [str(sid) for sid in db.scalars(select(ChatSession.id).where(ChatSession.user_id == user.id))]
    _explicit_deletes(db, user.id)
    db.delete(user)
    db.flush()
    now = utcnow()
    message = MailMessage(id=uuid.uuid4(), user_id=None, template=TEMPLATE, language=rendered.language,
                          to_address=names[1], subject=rendered.subject, body=rendered.body, created_at=now)
    db.add(message)
    outbox.add(db, mail.OUTBOX_KIND, message.id, now)
    return message.id, names


def forget_redis(client: redis.Redis, names: list[str]) -> int:
    """Delete every key naming one of `names`; how many went. Best effort (logged)."""
    removed = 0
    try:
        for name in names:
            pattern = "*" + "".join(f"[{c}]" if c in "*?[]\\" else c for c in name) + "*"
            batch = list(client.scan_iter(match=pattern, count=1000))
            if batch:
                removed += client.delete(*batch)
    except redis.RedisError:
        log.warning("could not remove a deleted account's Redis keys", exc_info=True)
    return removed
