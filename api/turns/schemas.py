from __future__ import annotations

import marshmallow as ma


class MessageSchema(ma.Schema):
    id = ma.fields.String()
    role = ma.fields.String()
    content = ma.fields.String()
    created_at = ma.fields.String()


class GrammarErrorSchema(ma.Schema):
    start = ma.fields.Integer()
    end = ma.fields.Integer()
    category = ma.fields.String()
    message = ma.fields.String()
    suggestions = ma.fields.List(ma.fields.String())


class GrammarSchema(ma.Schema):
    errors = ma.fields.List(ma.fields.Nested(GrammarErrorSchema))
    corrected_text = ma.fields.String()


class ModerationSchema(ma.Schema):
    flagged = ma.fields.Boolean()
    categories = ma.fields.List(ma.fields.String())
    source = ma.fields.String(metadata={"description": "openai (the moderation endpoint) or local"})


class TargetWordSchema(ma.Schema):
    """A word the conversation offers the learner to practise (a due card or a new word)."""

    word_id = ma.fields.Integer()
    lemma = ma.fields.String()
    translation = ma.fields.String()


class TurnSchema(ma.Schema):
    """A turn as GET /turns/{id} returns it; `turn_accepted` and `turn_result` events carry the same shape."""

    id = ma.fields.String()
    session_id = ma.fields.String()
    kind = ma.fields.String(metadata={
        "description": "message (the learner's, and what it brought), or greeting (the character's opening "
                       "line in a story session: no user_message, no XP)"})
    status = ma.fields.String(metadata={"description": "pending, complete or failed"})
    user_message = ma.fields.Nested(MessageSchema, allow_none=True)
    assistant_message = ma.fields.Nested(MessageSchema, allow_none=True)
    grammar = ma.fields.Nested(GrammarSchema, allow_none=True)
    moderation = ma.fields.Nested(ModerationSchema, allow_none=True)
    word_feedback = ma.fields.List(ma.fields.Dict())
    target_words = ma.fields.List(ma.fields.Nested(TargetWordSchema), metadata={
        "description": "The session's target words when the message was sent: the reply was asked to use or "
                       "elicit a few; using one counts as a review (correctly: good, with an error: again)"})
    xp_awarded = ma.fields.Integer()
    degraded = ma.fields.Boolean()
    degraded_reason = ma.fields.String(allow_none=True, metadata={
        "description": "Why an offline reply stood in: providers_failed, or budget_exhausted (the learner's "
                       "daily model-token budget is spent)"})
    reply_provider = ma.fields.String(allow_none=True)
    error = ma.fields.Dict(allow_none=True)
    created_at = ma.fields.String()
    completed_at = ma.fields.String(allow_none=True)


class TurnEnvelopeSchema(ma.Schema):
    turn = ma.fields.Nested(TurnSchema)


class TurnWaitArgsSchema(ma.Schema):
    wait = ma.fields.Float(load_default=0, validate=ma.validate.Range(min=0, max=30),
                           metadata={"description": "Seconds to wait for the turn to finish (long-poll, max 30)"})
