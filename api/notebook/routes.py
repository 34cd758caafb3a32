"""The error notebook: /api/v1/notebook (recurring mistakes, error cards, drills)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors
from api.extensions import close_db, db
from api.pagination import PageArgsSchema, PageMetaSchema, page_meta
from api.turns.schemas import GrammarErrorSchema
from domain import achievements, notebook
from domain.config import get_settings
from domain.quotas import get_quotas
from workers.dispatch import send
from workers.dispatch import analyse_now

blp = Blueprint("notebook", __name__, url_prefix="/api/v1/notebook",
                description="The error notebook: recurring mistakes and error cards")


class NotebookArgsSchema(PageArgsSchema):
    state = ma.fields.String(load_default=None, validate=validate.OneOf(notebook.STATES),
                             metadata={"description": "only patterns in this state"})


class QueueArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class ErrorCardSchema(ma.Schema):
    state = ma.fields.String(metadata={"description": "learning, review or relearning (FSRS)"})
    due = ma.fields.String()
    stability = ma.fields.Float(allow_none=True)
    difficulty = ma.fields.Float(allow_none=True)
    reps = ma.fields.Integer()
    lapses = ma.fields.Integer()
    last_review = ma.fields.String(allow_none=True)


class ExampleSchema(ma.Schema):
    turn_id = ma.fields.String()
    text = ma.fields.String(metadata={"description": "the learner's sentence with the mistake"})
    created_at = ma.fields.String()


class PatternSchema(ma.Schema):
    id = ma.fields.String()
    category = ma.fields.String()
    key = ma.fields.String(metadata={"description": "category:wrong→fix, normalised"})
    wrong = ma.fields.String(metadata={"description": "the learner's words, as last written"})
    fix = ma.fields.String(metadata={"description": "the right form (empty when the check had no suggestion)"})
    explanation = ma.fields.String(metadata={"description": "the rule, in the learner's native language"})
    occurrences = ma.fields.Integer(metadata={"description": "turns in which the mistake was made"})
    first_seen_at = ma.fields.String()
    last_seen_at = ma.fields.String()
    state = ma.fields.String(metadata={"description": "watching, card (reviewed with FSRS) or retired"})
    card = ma.fields.Nested(ErrorCardSchema, allow_none=True, metadata={"description": "null until it is a card"})
    examples = ma.fields.List(ma.fields.Nested(ExampleSchema), metadata={"description": "the latest, newest first"})


class PatternPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PatternSchema))
    meta = ma.fields.Nested(PageMetaSchema)


class PatternListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PatternSchema))


class ErrorReviewSchema(ma.Schema):
    pattern_id = ma.fields.UUID(required=True)
    rating = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=3),
                               metadata={"description": "0 again, 1 hard, 2 good, 3 easy"})
    answer = ma.fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(min=1, max=get_settings().max_message_chars),
                              metadata={"description": "a drill answer (the right form, written out): checked by "
                                                       "the analyzer; a wrong one is rated again"})
    reviewed_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "when the review happened (offline sync); not in the future nor before the card's last "
                       "review; default now"})
    client_review_id = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                                        metadata={"description": "your id for this review: resending it is a no-op "
                                                                 "that returns the same result"})


class DrillCheckSchema(ma.Schema):
    correct = ma.fields.Boolean()
    errors = ma.fields.List(ma.fields.Nested(GrammarErrorSchema), metadata={
        "description": "everything the analyzer found in the answer"})


class ErrorReviewResultSchema(ma.Schema):
    pattern_id = ma.fields.String()
    state = ma.fields.String(metadata={"description": "card, or retired (mastered: out of the queue)"})
    rating = ma.fields.Integer(metadata={"description": "the rating applied (0 after a wrong drill answer)"})
    card = ma.fields.Nested(ErrorCardSchema)
    check = ma.fields.Nested(DrillCheckSchema, allow_none=True, metadata={"description": "null without an answer"})


@blp.get("")
@signed_in(blp)
@blp.arguments(NotebookArgsSchema, location="query")
@blp.response(200, PatternPageSchema)
def list_patterns(args: dict):
    """The learner's error patterns, most recently made first: counts, last seen, state,
    the error card's FSRS state and the latest example sentences."""
    items, total = notebook.notebook(db(), user_id=current_user_id(), **args)
    return {"items": items, "meta": page_meta(total=total, page=args["page"], per_page=args["per_page"])}


@blp.get("/queue")
@signed_in(blp)
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, PatternListSchema)
def get_queue(args: dict):
    """The error cards that are due, the longest due first."""
    return {"items": notebook.queue(db(), user_id=current_user_id(), limit=args["limit"])}


@blp.post("/review")
@signed_in(blp)
@blp.arguments(ErrorReviewSchema)
@blp.response(200, ErrorReviewResultSchema)
@documents_errors(blp, 404, 409, 413, 429, 503)
def review(args: dict):
    """Review an error card with a rating, and optionally a drill answer, which the
    analyzer checks (on the `nlp` workers, like POST /language/check: 503 if none answers
    in time). A pattern that is not a card (watching, retired) is a 409."""
    user_id, analysis = current_user_id(), None
    given = notebook.ErrorReviewInput(**args)
    if given.answer is not None:
        notebook.get_pattern(db(), user_id=user_id, pattern_id=given.pattern_id)  # another learner's: 404 first
        get_quotas().spend(user_id, "language_checks")
        native_language = current_user().native_language
        close_db()  # hold no connection while the nlp worker answers
        analysis = analyse_now(given.answer, "fr", native_language=native_language,
                               timeout=get_settings().language_check_timeout_seconds)
    result = notebook.review(db(), get_settings(), user_id=user_id, given=given, analysis=analysis)
    db().commit()
    if result["state"] == "retired":
        achievements.request_check(send, user_id)  # "Mistake mastered"
    return result
