"""The Journey: /api/v1/journey (see domain/journey.py)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors
from api.extensions import db
from api.sessions.submit import accept_answer
from api.turns.schemas import ModerationSchema
from domain import journey

blp = Blueprint("journey", __name__, url_prefix="/api/v1/journey", description="Questions per level, scored")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Write an answer first.")


class AnswerCreateSchema(ma.Schema):
    answer = ma.fields.String(required=True, validate=[validate.Length(min=1, max=journey.ANSWER_MAX_CHARS),
                                                       _not_blank])


class AnswerCorrectionSchema(ma.Schema):
    original = ma.fields.String()
    correction = ma.fields.String()
    message = ma.fields.String()


class AnswerSchema(ma.Schema):
    id = ma.fields.String()
    question_id = ma.fields.String()
    unit_id = ma.fields.String()
    level = ma.fields.String()
    answer = ma.fields.String()
    status = ma.fields.String(metadata={
        "description": "pending, scored, or flagged (moderation flagged it: finished without a score)"})
    score = ma.fields.Integer(allow_none=True, metadata={"description": "0-100"})
    passed = ma.fields.Boolean(allow_none=True, metadata={"description": f"score >= {journey.PASS_SCORE}"})
    feedback = ma.fields.String(allow_none=True)
    corrections = ma.fields.List(ma.fields.Nested(AnswerCorrectionSchema))
    covered_points = ma.fields.List(ma.fields.String())
    missing_points = ma.fields.List(ma.fields.String())
    provider = ma.fields.String(allow_none=True)
    degraded = ma.fields.Boolean()
    created_at = ma.fields.String()
    scored_at = ma.fields.String(allow_none=True)
    moderation = ma.fields.Nested(ModerationSchema, allow_none=True, metadata={
        "description": "the moderation verdict (null until checked, before scoring)"})


class UnitSchema(ma.Schema):
    id = ma.fields.String()
    level = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String()
    question_count = ma.fields.Integer()
    answered_count = ma.fields.Integer()
    passed_count = ma.fields.Integer()
    passed = ma.fields.Boolean()
    average_best_score = ma.fields.Float(allow_none=True)


class UnitListSchema(ma.Schema):
    units = ma.fields.List(ma.fields.Nested(UnitSchema))


class QuestionSchema(ma.Schema):
    id = ma.fields.String()
    unit_id = ma.fields.String()
    level = ma.fields.String()
    prompt = ma.fields.String()
    context = ma.fields.String()
    min_words = ma.fields.Integer()
    expected_points = ma.fields.List(ma.fields.String())


class NextSchema(ma.Schema):
    level = ma.fields.String()
    unit = ma.fields.Nested(UnitSchema, allow_none=True)
    question = ma.fields.Nested(QuestionSchema, allow_none=True, metadata={
        "description": "null when every question at the level is passed"})
    best_score = ma.fields.Integer(allow_none=True)


class LevelProgressSchema(ma.Schema):
    units = ma.fields.Integer()
    units_passed = ma.fields.Integer()
    questions = ma.fields.Integer()
    questions_passed = ma.fields.Integer()


class ProgressSchema(ma.Schema):
    level = ma.fields.String()
    answers = ma.fields.Integer()
    questions_answered = ma.fields.Integer()
    questions_passed = ma.fields.Integer()
    units = ma.fields.Integer()
    units_passed = ma.fields.Integer()
    average_best_score = ma.fields.Float(allow_none=True)
    by_level = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(LevelProgressSchema))


@blp.get("/units")
@signed_in(blp)
@blp.response(200, UnitListSchema)
def list_units():
    """Every unit, A1 to C1, with the learner's progress in it."""
    return {"units": journey.unit_progress(db(), user_id=current_user_id())}


@blp.get("/next")
@signed_in(blp)
@blp.response(200, NextSchema)
def next_question():
    """The next unanswered or failed question at the learner's level."""
    return journey.next_question(db(), user=current_user())


@blp.post("/questions/<question_id>/answers")
@signed_in(blp)
@blp.arguments(AnswerCreateSchema)
@blp.response(202, AnswerSchema)
@documents_errors(blp, 400, 404, 413, 429)
def answer_question(args: dict, question_id: str):
    """Answer a question (again, to improve the best score). The score follows as a
    `journey_scored` event and in GET /journey/answers/{id}."""
    return accept_answer(user_id=current_user_id(), question_id=question_id, after_response=True, **args)


@blp.get("/answers/<answer_id>")
@signed_in(blp)
@blp.response(200, AnswerSchema)
@documents_errors(blp, 404)
def get_answer(answer_id: str):
    """One of the learner's answers, with its score once scored."""
    return journey.get_answer(db(), user_id=current_user_id(), answer_id=answer_id)


@blp.get("/progress")
@signed_in(blp)
@blp.response(200, ProgressSchema)
def get_progress():
    """The learner's journey in figures, overall and per level."""
    return journey.progress(db(), user=current_user())
