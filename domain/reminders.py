"""Reminders: the streak reminder, sent by Web Push, or by email to learners without a
push subscription.

A beat job (`reminders.check`, on the `llm` queue: sending waits on the push services)
picks the learners whose local time is at or past their reminder hour, who have due cards
(vocabulary or error cards), have not practised today (no review, no message turn since
their local midnight) and have not been reminded today. Each reminder is claimed by a row
in `reminders_sent` (user_id, local_date) inserted with ON CONFLICT DO NOTHING: two beats
running at once remind once; only the run that stored the row sends. At most once a day:
a send that fails is not retried that day.

Channels: `choose_channels` is the one decision of which channels a learner's reminder
goes through: push when push is configured and the learner has a subscription, else
email when outgoing mail is configured (SMTP_URL) and REMINDER_EMAIL is on. The email is
queued (domain/mail.py) in the transaction that claims the day, so a claimed reminder is
never lost: the outbox sends it.
A subscription the push service answers 404 or 410 (gone) is deleted.
"""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from domain import mail
from domain.config import Settings
from domain.db import session_scope
from domain.errors import NotFound, Unavailable
from domain.models import PushSubscription, ReminderSetting, utcnow
from domain.srs.reviews import streak

log = logging.getLogger(__name__)

PUSH_CHANNEL = "push"
EMAIL_CHANNEL = "email"

_BATCH = 200
_GONE = {404, 410}
PUSH_TTL_SECONDS = 12 * 3600  # a reminder not delivered within half a day is dropped by the push service


def push_enabled(settings: Settings) -> bool:
    return bool(settings.vapid_private_key and settings.vapid_public_key)


def email_enabled(settings: Settings) -> bool:
    """Email carries reminders only to a real mail server: without SMTP_URL mail is only
    logged, and a log line a day per learner reminds nobody."""
    return bool(settings.reminder_email and settings.smtp_url)


def require_push(settings: Settings) -> None:
    if not push_enabled(settings):
        raise Unavailable("Web Push is not configured on this server (VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY).",
                          code="push_unavailable")


# --- subscriptions ---------------------------------------------------------------------------

def subscribe(db: Session, *, user_id: uuid.UUID, endpoint: str, p256dh: str,
              auth: str) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription; the same endpoint again updates it (a browser's
    endpoint is its own: signed in as another learner, it now reminds that one).
    Returns the row and whether it is new."""
    existing = db.scalar(select(PushSubscription.id).where(PushSubscription.endpoint == endpoint))
    statement = insert(PushSubscription).values(id=uuid.uuid4(), user_id=user_id, endpoint=endpoint,
                                                p256dh=p256dh, auth=auth, created_at=utcnow())
    db.execute(statement.on_conflict_do_update(
        index_elements=[PushSubscription.endpoint],
        set_={"user_id": user_id, "p256dh": p256dh, "auth": auth}))
    row = db.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    return row, existing is None


def unsubscribe(db: Session, *, user_id: uuid.UUID, endpoint: str) -> None:
    deleted = db.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id,
                                                        PushSubscription.endpoint == endpoint))
    if not deleted.rowcount:
        raise NotFound("No push subscription with this endpoint.", code="push_subscription_not_found")


# --- settings --------------------------------------------------------------------------------

def get_settings_of(db: Session, settings: Settings, *, user_id: uuid.UUID) -> dict[str, Any]:
    row = db.get(ReminderSetting, user_id)
    if row is None:
        return {"reminders_enabled": True, "reminder_hour": settings.reminder_default_hour}
    return {"reminders_enabled": row.reminders_enabled, "reminder_hour": row.reminder_hour}


def update_settings(db: Session, settings: Settings, *, user_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    values = {**get_settings_of(db, settings, user_id=user_id), **changes}
    statement = insert(ReminderSetting).values(user_id=user_id, updated_at=utcnow(), **values)
    db.execute(statement.on_conflict_do_update(index_elements=[ReminderSetting.user_id],
                                               set_={**values, "updated_at": utcnow()}))
    return values


# --- the channel decision --------------------------------------------------------------------

def choose_channels(*, push_configured: bool, subscriptions: int, email_available: bool) -> list[str]:
    """The channels a learner's reminder goes through: push when it is configured and the
    learner has a subscription; else email when that channel is available; else none."""
    if push_configured and subscriptions > 0:
        return [PUSH_CHANNEL]
    if email_available:
        return [EMAIL_CHANNEL]
    return []


# --- the beat job ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    user_id: uuid.UUID
    local_date: date
    due_cards: int
    native_language: str | None


_DUE = text("""
    WITH learners AS (
        SELECT u.id, u.native_language, CAST(timezone(u.timezone, :now) AS date) AS local_date,
               timezone(u.timezone, CAST(CAST(timezone(u.timezone, :now) AS date) AS timestamp)) AS day_start
        FROM users u LEFT JOIN reminder_settings s ON s.user_id = u.id
        WHERE coalesce(s.reminders_enabled, true)
          AND extract(hour FROM timezone(u.timezone, :now)) >= coalesce(s.reminder_hour, :default_hour)
    ), due AS (
        SELECT l.*,
               (SELECT count(*) FROM cards c WHERE c.user_id = l.id AND c.due <= :now)
             + (SELECT count(*) FROM error_patterns p WHERE p.user_id = l.id AND p.state = 'card'
                AND p.due <= :now) AS due_cards
        FROM learners l
        WHERE NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.user_id = l.id AND r.local_date = l.local_date)
          AND NOT EXISTS (SELECT 1 FROM review_logs g WHERE g.user_id = l.id AND g.reviewed_at >= l.day_start)
          AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.user_id = l.id AND t.kind = 'message'
                          AND t.created_at >= l.day_start)
    )
    SELECT id, native_language, local_date, due_cards FROM due WHERE due_cards > 0
    ORDER BY id LIMIT :limit
""")
_CLAIM = text("""
    INSERT INTO reminders_sent (user_id, local_date, channels, created_at)
    VALUES (:user_id, :local_date, :channels, :now)
    ON CONFLICT (user_id, local_date) DO NOTHING RETURNING user_id
""")


def due_learners(db: Session, settings: Settings, *, now: datetime, limit: int = _BATCH) -> list[Due]:
    rows = db.execute(_DUE, {"now": now, "default_hour": settings.reminder_default_hour, "limit": limit})
    return [Due(row.id, row.local_date, int(row.due_cards), row.native_language) for row in rows]


def payload(due: Due) -> dict[str, Any]:
    """What the service worker shows (api/playground/static/push-sw.js)."""
    cards = "card" if due.due_cards == 1 else "cards"
    return {"type": "streak_reminder", "title": "Parlons : keep your streak",
            "body": f"You have {due.due_cards} {cards} due today. A few minutes keep your streak going.",
            "due_cards": due.due_cards, "local_date": due.local_date.isoformat(), "url": "/"}


def run(settings: Settings, *, now: datetime | None = None) -> int:
    """Send today's streak reminders that are due. Returns the number of learners reminded."""
    now = now or utcnow()
    reminded = 0
    while True:
        with session_scope() as db:
            learners = due_learners(db, settings, now=now)
        if not learners:
            return reminded
        for due in learners:
            if remind(settings, due, now=now):
                reminded += 1


def remind(settings: Settings, due: Due, *, now: datetime) -> bool:
    """Claim the learner's reminder of the day, then send it. False when another run had claimed it."""
    mail_id = None
    with session_scope() as db:
        subscriptions = list(db.scalars(select(PushSubscription).where(PushSubscription.user_id == due.user_id)))
        channels = choose_channels(push_configured=push_enabled(settings), subscriptions=len(subscriptions),
                                   email_available=email_enabled(settings))
        claimed = db.execute(_CLAIM, {"user_id": due.user_id, "local_date": due.local_date,
                                      "channels": ",".join(channels), "now": now}).first()
        if claimed is None:
            return False
        if EMAIL_CHANNEL in channels:
            mail_id = _queue_email(db, settings, due)
        db.flush()  # the mail's outbox entry is written before the subscriptions are detached
        db.expunge_all()
    if mail_id is not None:
        from workers.dispatch import dispatch_best_effort  # the worker's side: publish after commit

        dispatch_best_effort(mail.OUTBOX_KIND, mail_id)
    if PUSH_CHANNEL in channels:
        message = payload(due)
        for subscription in subscriptions:
            send_push(settings, subscription, message)
    return True


def send_push(settings: Settings, subscription: PushSubscription, message: dict[str, Any]) -> None:
    """Push `message` (JSON) to one subscription; a subscription the service says is gone
    is deleted, any other failure is logged (one failed send never stops a run). The
    streak reminders and the `assignment_due` reminders (domain/assignments.py) send with it."""
    from pywebpush import WebPushException, webpush

    try:
        webpush({"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
                data=json.dumps(message), vapid_private_key=settings.vapid_private_key,
                vapid_claims={"sub": settings.vapid_subject}, ttl=PUSH_TTL_SECONDS, timeout=10)
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in _GONE:
            with session_scope() as db:
                db.execute(delete(PushSubscription).where(PushSubscription.id == subscription.id))
            log.info("push subscription gone, deleted", extra={"status": status})
        else:
            log.warning("push reminder failed", extra={"status": status})
    except Exception as error:  # the network: one learner's failed send never stops the run
        log.warning("push reminder failed: %s", type(error).__name__)


_STREAK_DAYS = text("""
    SELECT DISTINCT CAST(timezone(u.timezone, r.reviewed_at) AS date)
    FROM review_logs r JOIN users u ON u.id = r.user_id
    WHERE r.user_id = :user_id AND r.reviewed_at >= :since
""")
STREAK_LOOKBACK_DAYS = 400  # a longer streak is written as this many days


def _queue_email(db: Session, settings: Settings, due: Due) -> uuid.UUID:
    """The reminder as an email, in the claim's transaction: `streak_reminder` when the
    learner has a streak to keep (it ends yesterday, as they have not practised today),
    else `practice_reminder`."""
    since = utcnow() - timedelta(days=STREAK_LOOKBACK_DAYS)
    days = list(db.scalars(_STREAK_DAYS, {"user_id": due.user_id, "since": since}))
    streak_days = streak(days, today=due.local_date)
    context = {"due_cards": due.due_cards, "app_url": settings.public_base_url}
    if streak_days:
        return mail.queue_mail(db, user_id=due.user_id, template="streak_reminder",
                               context={**context, "streak_days": streak_days})
    return mail.queue_mail(db, user_id=due.user_id, template="practice_reminder", context=context)
