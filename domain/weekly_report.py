"""The weekly report: a learner's week (Monday to Sunday in their time zone) in figures,
stored once when it ends and published as `weekly_report`.

An hourly beat job (`progress.weekly_reports`) picks the learners for whom it is Monday
now, whose week just ended had some practice (a review or a turn) and who have no
report for it: usually in the first hour of their Monday, or later that Monday when a
run was missed. Each report is inserted with ON CONFLICT DO NOTHING on (user_id,
week_start), so two runs store it once, and only the run that stored it publishes it.
The publish follows the commit (a client told of it can read it), then the row is marked
announced; a row left unannounced (Redis away, a crash in between) is published again by
the next run, with a once-key, so it is never announced twice.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain import analytics, xp
from domain.config import Settings
from domain.db import session_scope
from domain.events import EventPublisher
from domain.models import utcnow

_BATCH = 500  # learners per transaction

_DUE = text("""
    WITH learners AS (
        SELECT id, timezone, CAST(timezone(timezone, :now) AS date) - 7 AS week_start
        FROM users WHERE extract(isodow FROM timezone(timezone, :now)) = 1
    ), weeks AS (
        SELECT *, timezone(timezone, CAST(week_start AS timestamp)) AS starts_at,
               timezone(timezone, CAST(week_start + 7 AS timestamp)) AS ends_at
        FROM learners
    )
    SELECT id, timezone, week_start FROM weeks w
    WHERE NOT EXISTS (SELECT 1 FROM weekly_reports r WHERE r.user_id = w.id AND r.week_start = w.week_start)
      AND (EXISTS (SELECT 1 FROM review_logs g WHERE g.user_id = w.id
                   AND g.reviewed_at >= w.starts_at AND g.reviewed_at < w.ends_at)
           OR EXISTS (SELECT 1 FROM turns t WHERE t.user_id = w.id AND t.kind = 'message'
                      AND t.created_at >= w.starts_at AND t.created_at < w.ends_at))
    ORDER BY id
    LIMIT :limit
""")
_STORE = text("""
    INSERT INTO weekly_reports (id, user_id, week_start, report, created_at)
    VALUES (:id, :user_id, :week_start, :report, :now)
    ON CONFLICT (user_id, week_start) DO NOTHING RETURNING id
""").bindparams(bindparam("report", type_=JSONB))
_UNANNOUNCED = text("""
    SELECT id, user_id, week_start, report, created_at FROM weekly_reports
    WHERE announced_at IS NULL AND created_at < :before ORDER BY created_at LIMIT :limit
""")
_MARK = text("UPDATE weekly_reports SET announced_at = now() WHERE id = :id")
_LIST = text("""
    SELECT id, user_id, week_start, report, created_at FROM weekly_reports
    WHERE user_id = :user_id ORDER BY week_start DESC LIMIT :limit
""")
_XP_PARTS = text("""
    SELECT
      (SELECT coalesce(sum(xp_awarded), 0) FROM turns
        WHERE user_id = :user_id AND status = 'complete' AND completed_at >= :start AND completed_at < :end) AS turns,
      (SELECT count(*) FROM review_logs
        WHERE user_id = :user_id AND source = 'review' AND reviewed_at >= :start AND reviewed_at < :end) AS reviews,
      (SELECT coalesce(array_agg(score), '{}') FROM journey_answers
        WHERE user_id = :user_id AND scored_at >= :start AND scored_at < :end) AS answer_scores,
      (SELECT coalesce(array_agg(body), '{}') FROM penpal_letters
        WHERE user_id = :user_id AND author = 'learner' AND created_at >= :start AND created_at < :end) AS letters
""")


def xp_earned(db: Session, *, user_id: uuid.UUID, start: datetime, end: datetime) -> int:
    """XP earned between two instants, by the rules of domain/xp.py."""
    parts = db.execute(_XP_PARTS, {"user_id": user_id, "start": start, "end": end}).one()
    return (int(parts.turns) + parts.reviews * xp.for_review(source="review")
            + sum(xp.for_journey_answer(score) for score in parts.answer_scores)
            + sum(xp.for_letter(body or "") for body in parts.letters))


def build_report(db: Session, settings: Settings, *, user_id: uuid.UUID, zone: ZoneInfo,
                 week_start: date) -> dict[str, Any]:
    """The figures of the week starting on `week_start` (a Monday, local)."""
    week = analytics.Window(zone, week_start, week_start + timedelta(days=6))
    # From the day before the week: the words known when it began.
    history = analytics.review_history(db, settings, user_id=user_id,
                                       window=analytics.Window(zone, week_start - timedelta(days=1), week.last_day))
    reviews = analytics.reviews_per_day(history, week)
    retention = analytics.retention_per_week(history, week)[0]
    known = analytics.cards_over_time(history, analytics.Window(zone, week_start - timedelta(days=1), week.last_day))
    practice = analytics.practice_per_day(db, user_id=user_id, window=week)
    errors = analytics.error_categories_per_week(db, user_id=user_id, window=week)
    return {
        "week_start": week_start.isoformat(), "week_end": week.last_day.isoformat(),
        "reviews": sum(day["reviews"] for day in reviews),
        "retention": retention["retention"], "recall_attempts": retention["attempts"],
        "turns": sum(day["turns"] for day in practice),
        "minutes": round(sum(day["minutes"] for day in practice), 1),
        "xp": xp_earned(db, user_id=user_id, start=week.start, end=week.end),
        "words_known": known[-1]["known"], "words_known_delta": known[-1]["known"] - known[0]["known"],
        "streak_days": analytics.streak_history(history, week)[-1]["streak"],
        "top_error_categories": analytics.top_categories(errors),
    }


def present(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), **row.report, "created_at": row.created_at.isoformat()}


def run(settings: Settings, publisher: EventPublisher, *, now: datetime | None = None) -> int:
    """Store and publish the reports of the weeks that just ended; publish again the
    ones whose event was lost. Returns the number of reports stored."""
    now = now or utcnow()
    stored = 0
    while True:
        with session_scope() as db:
            due = db.execute(_DUE, {"now": now, "limit": _BATCH}).all()
            for learner in due:
                report = build_report(db, settings, user_id=learner.id, zone=ZoneInfo(learner.timezone),
                                      week_start=learner.week_start)
                stored += db.scalar(_STORE, {"id": uuid.uuid4(), "user_id": learner.id,
                                             "week_start": learner.week_start, "report": report,
                                             "now": utcnow()}) is not None
        # Committed: now announced (and anything an earlier run left unannounced).
        announce_pending(publisher, before=utcnow())
        if len(due) < _BATCH:
            return stored


def announce_pending(publisher: EventPublisher, *, before: datetime) -> int:
    """Publish `weekly_report` for stored reports not yet announced (created before
    `before`), once each (a concurrent run's publish of the same report is dropped by
    its once-key), and mark them."""
    with session_scope() as db:
        rows = db.execute(_UNANNOUNCED, {"before": before, "limit": 1000}).all()
        for row in rows:
            publisher.publish_once(row.user_id, "weekly_report", {"report": present(row)},
                                   once_key=f"weekly_report:{row.id}")
            db.execute(_MARK, {"id": row.id})
    return len(rows)


def reports(db: Session, *, user_id: uuid.UUID, limit: int = 12) -> list[dict[str, Any]]:
    """The learner's weekly reports, the latest first."""
    return [present(row) for row in db.execute(_LIST, {"user_id": user_id, "limit": limit})]
