from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.pagination import PageMetaSchema
from api.turns.schemas import MessageSchema, ModerationSchema, TargetWordSchema, TurnSchema
from domain.cefr import ACCEPTED_LEVELS
from domain.config import get_settings
from domain.inputs import DB_INT_MAX


class SessionCreateSchema(ma.Schema):
    mode = ma.fields.String(load_default="story", validate=validate.OneOf(["story", "sandbox"]))
    character_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                                    metadata={"example": "camille", "description": "from GET /characters"})
    level = ma.fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(ACCEPTED_LEVELS))
    title = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SessionSchema(ma.Schema):
    id = ma.fields.UUID()
    mode = ma.fields.String()
    character_id = ma.fields.String()
    level = ma.fields.String()
    title = ma.fields.String()
    xp = ma.fields.Integer()
    turn_count = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "active, paused (a message resumes it) or ended"})
    created_at = ma.fields.DateTime()
    last_activity_at = ma.fields.DateTime()
    ended_at = ma.fields.DateTime(allow_none=True)


class SessionOverviewSchema(SessionSchema):
    recent_turns = ma.fields.List(ma.fields.Nested(TurnSchema),
                                  metadata={"description": "Up to 20 latest turns, oldest first"})
    target_words = ma.fields.List(ma.fields.Nested(TargetWordSchema), metadata={
        "description": "The words the conversation offers now: due cards (least recallable first), then new "
                       "words at the learner's level; chosen again after each turn's reviews"})


class SessionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema))
    meta = ma.fields.Nested(PageMetaSchema)


class MessagePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageSchema))
    meta = ma.fields.Nested(PageMetaSchema)


def _content_not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Write something first.")


class MessageCreateSchema(ma.Schema):
    content = ma.fields.String(required=True, validate=[
        validate.Length(min=1, max=get_settings().max_message_chars), _content_not_blank])
    client_message_id = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
        metadata={"description": "Your id for this message; resending it returns the same turn"})
    suggested_word_ids = ma.fields.List(ma.fields.Integer(validate=validate.Range(min=1, max=DB_INT_MAX)),
                                        load_default=list,
                                        validate=validate.Length(max=50),
                                        metadata={"description": "Words to practise; `suggested_words` also works "
                                                                 "(the socket frame's name for it)"})

    @ma.pre_load
    def _suggested_words_spelling(self, data, **_):
        return _one_spelling(data)


def _one_spelling(data):
    """`suggested_words` (DESIGN §5's frame field) is the same as `suggested_word_ids`."""
    if isinstance(data, dict) and "suggested_words" in data:
        if "suggested_word_ids" in data:
            raise ma.ValidationError("Send suggested_word_ids or suggested_words, not both.", "suggested_words")
        data = {**data, "suggested_word_ids": data["suggested_words"]}
        del data["suggested_words"]
    return data


class SpokenMessageSchema(ma.Schema):
    """The form fields beside a spoken turn's recording (multipart field `audio`)."""

    client_message_id = MessageCreateSchema._declared_fields["client_message_id"]
    suggested_word_ids = MessageCreateSchema._declared_fields["suggested_word_ids"]

    @ma.pre_load
    def _from_form(self, data, **_):
        """A form's fields as the JSON body has them: one value each, except the suggested
        words, repeated or comma-separated (`suggested_words` works too)."""
        if not hasattr(data, "getlist"):
            return data
        fields = {key: data.get(key) for key in data}
        for name in ("suggested_word_ids", "suggested_words"):
            if name in data:
                fields[name] = [part.strip() for value in data.getlist(name) for part in value.split(",")
                                if part.strip()]
        return _one_spelling(fields)


# The request body of a spoken turn, for the OpenAPI document (the view reads the form itself).
SPOKEN_MESSAGE_BODY = {"multipart/form-data": {"schema": {
    "type": "object", "required": ["audio"],
    "properties": {
        "audio": {"type": "string", "format": "binary",
                  "description": "The recording: a type of GET /audio/capabilities' upload_types, at most "
                                 "AUDIO_MAX_UPLOAD_BYTES"},
        "client_message_id": {"type": "string", "minLength": 1, "maxLength": 64,
                              "description": "Your id for this message; resending it returns the same turn"},
        "suggested_word_ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 50,
                               "description": "Words to practise (repeated, or comma-separated); "
                                              "`suggested_words` also works"}}}}}


class HintSchema(ma.Schema):
    """A hint as the API returns it; the `hint` event carries its session_id, hint_id, turn_id and hints."""

    id = ma.fields.String()
    session_id = ma.fields.String()
    turn_id = ma.fields.String(allow_none=True, metadata={"description": "The latest turn when it was asked for"})
    source = ma.fields.String(metadata={"description": "request (asked for) or transcript (voice session)"})
    status = ma.fields.String(metadata={"description": "pending until the suggestions are written, then ready"})
    hints = ma.fields.List(ma.fields.String(), metadata={"description": "Two or three things to say next"})
    provider = ma.fields.String(allow_none=True)
    degraded = ma.fields.Boolean()
    created_at = ma.fields.String()
    completed_at = ma.fields.String(allow_none=True)


class HintListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HintSchema), metadata={"description": "Newest first, up to 20"})


class TranscriptCreateSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf(["user", "assistant"]),
                            metadata={"description": "user: the learner spoke; assistant: the character did"})
    text = ma.fields.String(required=True, validate=[
        validate.Length(min=1, max=get_settings().max_message_chars), _content_not_blank])


class TranscriptSegmentSchema(ma.Schema):
    id = ma.fields.Integer()
    session_id = ma.fields.String()
    role = ma.fields.String()
    text = ma.fields.String()
    created_at = ma.fields.String()
    moderation = ma.fields.Nested(ModerationSchema, allow_none=True, metadata={
        "description": "a learner's segment: the moderation verdict, null until checked (a moment after it is sent)"})


class TranscriptPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TranscriptSegmentSchema))
    meta = ma.fields.Nested(PageMetaSchema)


def _title_not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("A title needs a character that is not a space.")


class SessionUpdateSchema(ma.Schema):
    title = ma.fields.String(validate=[validate.Length(min=1, max=200), _title_not_blank])
    status = ma.fields.String(validate=validate.OneOf(["active", "paused"]), metadata={
        "description": "paused or active (resume); an ended session cannot change (409 session_ended)"})


class SummaryWordSchema(ma.Schema):
    word_id = ma.fields.Integer()
    lemma = ma.fields.String()


class WordsPractisedSchema(ma.Schema):
    new = ma.fields.List(ma.fields.Nested(SummaryWordSchema),
                         metadata={"description": "Words whose first review ever came from this session"})
    reviewed = ma.fields.List(ma.fields.Nested(SummaryWordSchema),
                              metadata={"description": "Words reviewed from this session's turns"})
    used_correctly = ma.fields.List(ma.fields.Nested(SummaryWordSchema))


class PatternExampleSchema(ma.Schema):
    turn_id = ma.fields.String()
    text = ma.fields.String(metadata={"description": "The learner's message"})
    wrong = ma.fields.String()
    fix = ma.fields.String()


class ErrorPatternSchema(ma.Schema):
    key = ma.fields.String(metadata={"description": "category:wrong→fix, normalised"})
    category = ma.fields.String()
    count = ma.fields.Integer()
    example = ma.fields.Nested(PatternExampleSchema, metadata={"description": "The first time it was met"})


class WellSaidSchema(ma.Schema):
    turn_id = ma.fields.String()
    text = ma.fields.String()


class WordToAddSchema(ma.Schema):
    word_id = ma.fields.Integer()
    lemma = ma.fields.String()
    translation = ma.fields.String()
    cefr_level = ma.fields.String()


class SessionSummarySchema(ma.Schema):
    """A session's recap (domain/session_summary.py); the `session_summary` event carries it."""

    session_id = ma.fields.String()
    final = ma.fields.Boolean(metadata={"description": "true: stored when the session ended; false: so far"})
    status = ma.fields.String()
    ended_at = ma.fields.String(allow_none=True)
    turns = ma.fields.Integer(metadata={"description": "Complete learner turns (the greeting is not one)"})
    xp = ma.fields.Integer()
    accuracy = ma.fields.Float(allow_none=True, metadata={
        "description": "Turns without grammar errors / turns (null without turns)"})
    words_practised = ma.fields.Nested(WordsPractisedSchema)
    error_patterns = ma.fields.List(ma.fields.Nested(ErrorPatternSchema))
    well_said = ma.fields.List(ma.fields.Nested(WellSaidSchema),
                               metadata={"description": "Up to three messages without errors, longest first"})
    words_to_add = ma.fields.List(ma.fields.Nested(WordToAddSchema), metadata={
        "description": "Vocabulary words without a card: suggested ones, then those written in the session "
                       "at its level or below, rarest first (at most 10)"})
