"""Penpal letters: /api/v1/penpal (see domain/penpal.py)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors
from api.extensions import db
from api.runtime import characters
from api.sessions.submit import accept_letter
from api.turns.schemas import ModerationSchema
from domain import penpal

blp = Blueprint("penpal", __name__, url_prefix="/api/v1/penpal", description="Letters to a character, answered later")


def _letter_length(value: str) -> None:
    length = len(value.strip())
    if length < penpal.LETTER_MIN_CHARS:
        raise ma.ValidationError(f"A letter has at least {penpal.LETTER_MIN_CHARS} characters; this one has {length}.")
    if length > penpal.LETTER_MAX_CHARS:
        raise ma.ValidationError(f"A letter has at most {penpal.LETTER_MAX_CHARS} characters; this one has {length}.")


class LetterCreateSchema(ma.Schema):
    character_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                                    metadata={"example": "camille", "description": "from GET /characters"})
    subject = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=penpal.SUBJECT_MAX_CHARS))
    body = ma.fields.String(required=True, validate=_letter_length, metadata={
        "description": f"{penpal.LETTER_MIN_CHARS} to {penpal.LETTER_MAX_CHARS} characters"})


class LetterCorrectionSchema(ma.Schema):
    start = ma.fields.Integer()
    end = ma.fields.Integer()
    original = ma.fields.String()
    correction = ma.fields.String()
    category = ma.fields.String()
    message = ma.fields.String()


class LetterSchema(ma.Schema):
    id = ma.fields.String()
    character_id = ma.fields.String()
    author = ma.fields.String(metadata={"description": "learner or character"})
    subject = ma.fields.String(allow_none=True)
    body = ma.fields.String()
    in_reply_to = ma.fields.String(allow_none=True)
    level = ma.fields.String()
    sent_at = ma.fields.String()
    read_at = ma.fields.String(allow_none=True)
    corrections = ma.fields.List(ma.fields.Nested(LetterCorrectionSchema), metadata={
        "description": "a reply only: corrections to the letter it answers"})
    reply_id = ma.fields.String(allow_none=True, metadata={"description": "a learner's letter: its delivered reply"})
    reply_expected_at = ma.fields.String(allow_none=True, metadata={
        "description": "a learner's letter: when its reply arrives, until it has"})
    moderation = ma.fields.Nested(ModerationSchema, allow_none=True, metadata={
        "description": "a learner's letter: the moderation verdict (null until checked, before the reply is written)"})
    out_of_character = ma.fields.Boolean(metadata={
        "description": "a reply only: true when it is the kind note that answers a flagged letter, not the character"})


class ThreadArgsSchema(ma.Schema):
    character_id = ma.fields.String(load_default=None, metadata={"description": "only this character's thread",
                                                                 "example": "camille"})
    per_thread = ma.fields.Integer(load_default=penpal.LETTERS_PER_THREAD,
                                   validate=validate.Range(min=1, max=penpal.MAX_LETTERS_PER_THREAD),
                                   metadata={"description": "the latest letters of each thread"})


class LetterCreatedSchema(ma.Schema):
    letter = ma.fields.Nested(LetterSchema)
    reply_expected_at = ma.fields.String()


class ThreadSchema(ma.Schema):
    character_id = ma.fields.String()
    character_name = ma.fields.String()
    latest_at = ma.fields.String()
    letter_count = ma.fields.Integer()
    unread_count = ma.fields.Integer()
    letters = ma.fields.List(ma.fields.Nested(LetterSchema), metadata={
        "description": "newest first, at most `per_thread`"})


class ThreadListSchema(ma.Schema):
    threads = ma.fields.List(ma.fields.Nested(ThreadSchema))


@blp.post("/letters")
@signed_in(blp)
@blp.arguments(LetterCreateSchema)
@blp.response(201, LetterCreatedSchema)
@documents_errors(blp, 400, 413, 429)
def send_letter(args: dict):
    """Send a letter to a character. The reply is written soon and delivered at
    `reply_expected_at`, as a `penpal_reply` event and in GET /letters."""
    return accept_letter(user=current_user(), after_response=True, **args)


@blp.get("/letters")
@signed_in(blp)
@blp.arguments(ThreadArgsSchema, location="query")
@blp.response(200, ThreadListSchema)
def list_letters(args: dict):
    """The learner's correspondence: one thread per character, most recent first, with
    unread replies counted."""
    return {"threads": penpal.list_threads(db(), user_id=current_user_id(), characters=characters(), **args)}


@blp.get("/letters/<letter_id>")
@signed_in(blp)
@blp.response(200, LetterSchema)
@documents_errors(blp, 404)
def get_letter(letter_id: str):
    """One of the learner's letters or a reply they have received."""
    return penpal.get_letter(db(), user_id=current_user_id(), letter_id=letter_id)


@blp.post("/letters/<letter_id>/read")
@signed_in(blp)
@blp.response(200, LetterSchema)
@documents_errors(blp, 404)
def mark_read(letter_id: str):
    """Mark a received reply read (idempotent)."""
    view = penpal.mark_read(db(), user_id=current_user_id(), letter_id=letter_id)
    db().commit()
    return view
