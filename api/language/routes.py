"""Checking a text without a conversation: /api/v1/language/check."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors
from api.extensions import close_db
from api.turns.schemas import GrammarSchema
from domain.config import get_settings
from domain.quotas import get_quotas
from workers.dispatch import analyse_now

blp = Blueprint("language", __name__, url_prefix="/api/v1/language", description="Grammar and spelling feedback")


class CheckSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=get_settings().max_message_chars))
    language = ma.fields.String(load_default="fr", validate=validate.OneOf(["fr"], error="Only French is analysed."))


@blp.post("/check")
@signed_in(blp)
@blp.arguments(CheckSchema)
@blp.response(200, GrammarSchema)
@documents_errors(blp, 400, 413, 429, 503)
def check(args: dict):
    """The same analysis a turn's `grammar_feedback` carries: errors with character
    offsets, category, message and ranked suggestions, and the corrected text. It runs on
    the `nlp` workers (the web processes do not load spaCy); 503 if none answers in time."""
    get_quotas().spend(current_user_id(), "language_checks")
    native_language = current_user().native_language
    close_db()  # hold no connection while the nlp worker answers
    return analyse_now(args["text"], args["language"], native_language=native_language,
                       timeout=get_settings().language_check_timeout_seconds)
