"""Spaced repetition: /api/v1/progress (FSRS-6 reviews, the queue, stats)."""
from __future__ import annotations

import marshmallow as ma
from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.errors import documents_errors
from api.extensions import db
from api.vocabulary.routes import WordSchema
from domain import achievements, analytics, weekly_report
from domain.srs import reviews as progress
from domain.config import get_settings
from domain.db import statement_scope
from domain.inputs import DB_INT_MAX
from domain.redis_client import get_redis
from workers.dispatch import send

blp = Blueprint("progress", __name__, url_prefix="/api/v1/progress", description="Spaced repetition (FSRS-6)")


class ReviewSchema(ma.Schema):
    word_id = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=DB_INT_MAX),
                                metadata={"example": 1})
    rating = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=3),
                               metadata={"description": "0 again, 1 hard, 2 good, 3 easy"})
    reviewed_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "when the review happened (offline sync); not in the future, not before the card's last "
                       "review nor before the account was created; default now"})
    duration_ms = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=86_400_000))
    client_review_id = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                                        metadata={"description": "your id for this review: resending it is a no-op "
                                                                 "that returns the same result"})


class ReviewBatchSchema(ma.Schema):
    reviews = ma.fields.List(ma.fields.Nested(ReviewSchema), required=True, validate=validate.Length(min=1, max=500))


class CardStateSchema(ma.Schema):
    word_id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "new, learning, review or relearning"})
    due = ma.fields.String()
    stability = ma.fields.Float(allow_none=True)
    difficulty = ma.fields.Float(allow_none=True)
    retrievability = ma.fields.Float(metadata={"description": "probability of recall now"})
    reps = ma.fields.Integer()
    lapses = ma.fields.Integer()
    last_review = ma.fields.String(allow_none=True)


class ReviewResultsSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(CardStateSchema))


class QueueArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=0, max=200))
    new_limit = ma.fields.Integer(load_default=10, validate=validate.Range(min=0, max=100))


class QueueItemSchema(CardStateSchema):
    word = ma.fields.Nested(WordSchema)


class QueueSchema(ma.Schema):
    due = ma.fields.List(ma.fields.Nested(QueueItemSchema))
    new = ma.fields.List(ma.fields.Nested(QueueItemSchema))


class ReviewHistorySchema(ma.Schema):
    rating = ma.fields.Integer()
    rating_name = ma.fields.String()
    reviewed_at = ma.fields.String()
    duration_ms = ma.fields.Integer(allow_none=True)
    source = ma.fields.String(metadata={"description": "review (flashcards) or conversation"})
    turn_id = ma.fields.String(allow_none=True)
    state_after = ma.fields.String()
    due_after = ma.fields.String()


class WordProgressSchema(QueueItemSchema):
    reviews = ma.fields.List(ma.fields.Nested(ReviewHistorySchema))


class StatsSchema(ma.Schema):
    cards = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    due_today = ma.fields.Integer()
    reviews_today = ma.fields.Integer()
    true_retention_30d = ma.fields.Float(allow_none=True)
    streak_days = ma.fields.Integer()
    xp = ma.fields.Integer()
    desired_retention = ma.fields.Float()
    fsrs = ma.fields.Dict()


def _review_input(args: dict) -> progress.ReviewInput:
    return progress.ReviewInput(**args)


@blp.post("/review")
@signed_in(blp)
@blp.arguments(ReviewSchema)
@blp.response(200, CardStateSchema)
@documents_errors(blp, 404, 413)
def review(args: dict):
    """Record a review and return the card's new FSRS state (computed now, not queued)."""
    result = progress.review(db(), get_settings(), user_id=current_user_id(), given=_review_input(args))
    db().commit()
    achievements.request_check(send, current_user_id())
    return result


@blp.post("/reviews")
@signed_in(blp)
@blp.arguments(ReviewBatchSchema)
@blp.response(200, ReviewResultsSchema)
@documents_errors(blp, 404, 413)
def review_batch(args: dict):
    """Offline sync: reviews applied in order, all or none. A bad item (in the future,
    before its card's last review, an unknown word) fails the batch with its `index`."""
    results = progress.review_batch(db(), get_settings(), user_id=current_user_id(),
                                    items=[_review_input(item) for item in args["reviews"]])
    db().commit()
    achievements.request_check(send, current_user_id())
    return {"results": results}


@blp.get("/queue")
@signed_in(blp)
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueueSchema)
def get_queue(args: dict):
    """Due cards (least likely to be recalled first), then new words by frequency at or
    below the learner's level."""
    with statement_scope() as conn:  # one statement: no transaction round trips
        found = progress.queue(conn, user_id=current_user_id(), limit=args["limit"], new_limit=args["new_limit"])
    # Already in QueueSchema's shape: returned as is, skipping a dump that costs more
    # than the query on a full queue (flask-smorest passes a Response through).
    return jsonify(found)


@blp.get("/stats")
@signed_in(blp)
@blp.response(200, StatsSchema)
def get_stats():
    """Cards by state, due and reviewed today, true retention, streak, XP, FSRS parameters."""
    return progress.stats(db(), user_id=current_user_id())


class AnalyticsArgsSchema(ma.Schema):
    days = ma.fields.Integer(load_default=analytics.DEFAULT_DAYS,
                             validate=validate.Range(min=1, max=analytics.MAX_DAYS),
                             metadata={"description": "local days, today included"})


class DayCountSchema(ma.Schema):
    date = ma.fields.String()
    reviews = ma.fields.Integer(metadata={"description": "every review, flashcards and conversation"})
    from_conversation = ma.fields.Integer()


class RetentionWeekSchema(ma.Schema):
    week_start = ma.fields.String(metadata={"description": "the Monday, local"})
    recalled = ma.fields.Integer()
    attempts = ma.fields.Integer(metadata={"description": "reviews of cards in the review state"})
    retention = ma.fields.Float(allow_none=True)


class CardsDaySchema(ma.Schema):
    date = ma.fields.String()
    learning = ma.fields.Integer()
    review = ma.fields.Integer()
    relearning = ma.fields.Integer()


class KnownDaySchema(ma.Schema):
    date = ma.fields.String()
    known = ma.fields.Integer()


class PracticeDaySchema(ma.Schema):
    date = ma.fields.String()
    turns = ma.fields.Integer()
    minutes = ma.fields.Float()


class ErrorWeekSchema(ma.Schema):
    week_start = ma.fields.String()
    categories = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class StreakDaySchema(ma.Schema):
    date = ma.fields.String()
    streak = ma.fields.Integer()


class CefrEstimateSchema(ma.Schema):
    level = ma.fields.String(allow_none=True)
    lowered_for_errors = ma.fields.Boolean()
    method = ma.fields.String()
    inputs = ma.fields.Dict()


class AnalyticsSchema(ma.Schema):
    days = ma.fields.Integer()
    timezone = ma.fields.String()
    from_ = ma.fields.String(data_key="from")
    to = ma.fields.String()
    words_known_stability_days = ma.fields.Float()
    reviews_per_day = ma.fields.List(ma.fields.Nested(DayCountSchema))
    retention_per_week = ma.fields.List(ma.fields.Nested(RetentionWeekSchema))
    cards_by_state = ma.fields.List(ma.fields.Nested(CardsDaySchema))
    words_known = ma.fields.List(ma.fields.Nested(KnownDaySchema))
    practice_per_day = ma.fields.List(ma.fields.Nested(PracticeDaySchema))
    error_categories_per_week = ma.fields.List(ma.fields.Nested(ErrorWeekSchema))
    streak = ma.fields.List(ma.fields.Nested(StreakDaySchema))
    cefr_estimate = ma.fields.Nested(CefrEstimateSchema)


class WeeklyReportSchema(ma.Schema):
    id = ma.fields.String()
    week_start = ma.fields.String()
    week_end = ma.fields.String()
    reviews = ma.fields.Integer()
    retention = ma.fields.Float(allow_none=True)
    recall_attempts = ma.fields.Integer()
    turns = ma.fields.Integer()
    minutes = ma.fields.Float()
    xp = ma.fields.Integer()
    words_known = ma.fields.Integer()
    words_known_delta = ma.fields.Integer()
    streak_days = ma.fields.Integer()
    top_error_categories = ma.fields.List(ma.fields.Dict())
    created_at = ma.fields.String()


class WeeklyReportListSchema(ma.Schema):
    reports = ma.fields.List(ma.fields.Nested(WeeklyReportSchema))


@blp.get("/analytics")
@signed_in(blp)
@blp.arguments(AnalyticsArgsSchema, location="query")
@blp.response(200, AnalyticsSchema)
def get_analytics(args: dict):
    """The learner's history by local day and week over the last `days` days: reviews,
    true retention, cards by state, words known, turns and minutes practised, error
    categories, streaks; and a CEFR estimate with its method and inputs (README "Progress
    analytics")."""
    with statement_scope() as conn:  # read only: no transaction round trips
        found = analytics.analytics(conn, get_settings(), user_id=current_user_id(), days=args["days"],
                                    cache=get_redis())
    return jsonify(found)  # already in AnalyticsSchema's shape (as /queue: the dump would cost more than the queries)


@blp.get("/reports")
@signed_in(blp)
@blp.response(200, WeeklyReportListSchema)
def get_reports():
    """The learner's weekly reports (the last twelve), the latest first."""
    return {"reports": weekly_report.reports(db(), user_id=current_user_id())}


@blp.get("/<id:word_id>")
@signed_in(blp)
@blp.response(200, WordProgressSchema)
@documents_errors(blp, 404)
def get_word_progress(word_id: int):
    """One word's card and its review history."""
    return progress.word_progress(db(), get_settings(), user_id=current_user_id(), word_id=word_id)
