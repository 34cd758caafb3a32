"""Conversations and their messages: /api/v1/sessions."""
from __future__ import annotations

import functools

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import ErrorSchema, documents_errors
from api.extensions import db
from api.pagination import PageArgsSchema, page_meta
from api.runtime import characters
from api.sessions.schemas import (SPOKEN_MESSAGE_BODY, HintListSchema, HintSchema, MessageCreateSchema,
                                  MessagePageSchema, SessionCreateSchema, SessionOverviewSchema, SessionPageSchema,
                                  SessionSchema, SessionSummarySchema, SessionUpdateSchema, SpokenMessageSchema,
                                  TranscriptCreateSchema, TranscriptPageSchema, TranscriptSegmentSchema)
from api.sessions.submit import (accept_message, accept_spoken_message, accept_transcript, announce_ended,
                                 request_hints, start_greeting)
from api.turns.schemas import TurnEnvelopeSchema
from domain import audio, conversations, hints, inputs, sandbox, session_summary, turns
from domain.config import get_settings
from domain.errors import Invalid
from domain.llm.chain import get_chain

# Room for the multipart envelope (and the form fields) around a recording.
_MULTIPART_ROOM = 16 * 1024

blp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions", description="Conversations with characters")


@blp.post("")
@signed_in(blp)
@blp.arguments(SessionCreateSchema)
@blp.response(201, SessionSchema)
@documents_errors(blp, 400, 413)
def create_session(args: dict):
    """Start a conversation with a character (level defaults to the learner's). In a story
    session the character speaks first: its greeting follows as a `greeting` event (with
    a turn of kind `greeting`) and is the first of GET /sessions/{id}/messages."""
    session = conversations.create_session(db(), user=current_user(), characters=characters(),
                                           with_model=bool(get_chain().providers), **args)
    db().commit()
    if session.mode == "story":
        start_greeting(session, after_response=True)
    return session


@blp.get("")
@signed_in(blp)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, SessionPageSchema)
def list_sessions(args: dict):
    """The learner's conversations, most recently active first."""
    items, total = conversations.list_sessions(db(), user_id=current_user_id(), **args)
    return {"items": items, "meta": page_meta(total=total, **args)}


@blp.get("/<session_id>")
@signed_in(blp)
@blp.response(200, SessionOverviewSchema)
@documents_errors(blp, 404)
def get_session(session_id: str):
    """A conversation's overview: XP, turn count, last activity and the latest turns."""
    session = conversations.get_session(db(), user_id=current_user_id(), session_id=session_id)
    session.recent_turns = [turns.present_turn(t) for t in conversations.latest_turns(db(), session=session)]
    return session


@blp.patch("/<session_id>")
@signed_in(blp)
@blp.arguments(SessionUpdateSchema)
@blp.response(200, SessionSchema)
@documents_errors(blp, 400, 404, 409, 413)
def update_session(args: dict, session_id: str):
    """Rename, pause or resume (`status`: paused or active) a conversation. Sending a
    message to a paused one resumes it too; an ended one cannot change status (409)."""
    session = session_summary.update_session(db(), user_id=current_user_id(), session_id=session_id, **args)
    db().commit()
    return session


@blp.post("/<session_id>/end")
@signed_in(blp)
@blp.response(200, SessionSummarySchema)
@documents_errors(blp, 404)
def end_session(session_id: str):
    """End a conversation: its summary is stored, returned, and published as a
    `session_summary` event. Ending it again returns the same summary. An ended
    conversation refuses messages (409 session_ended)."""
    session, ended_now = session_summary.end_session(db(), user_id=current_user_id(), session_id=session_id)
    recap = session.recap
    if ended_now:
        ended = session_summary.Ended.of(session)
        db().commit()
        announce_ended(ended)
    return recap


@blp.get("/<session_id>/summary")
@signed_in(blp)
@blp.response(200, SessionSummarySchema)
@documents_errors(blp, 404)
def get_summary(session_id: str):
    """The conversation's summary: the one stored when it ended, else the summary so
    far (`final: false`, computed now, nothing stored)."""
    return session_summary.summary(db(), user_id=current_user_id(), session_id=session_id)


def _or_spoken(view):
    """A multipart/form-data request is a spoken turn (`_spoken_message`); any other goes
    on to the JSON body's schema."""
    @functools.wraps(view)
    def post(*args, **kwargs):
        if request.mimetype == "multipart/form-data":
            return _spoken_message(kwargs["session_id"])
        return view(*args, **kwargs)
    return post


@blp.post("/<session_id>/messages")
@signed_in(blp)
@blp.response(202, TurnEnvelopeSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Bad fields; for a recording also: no `audio` part, not an "
                  "audio type (unsupported_audio), empty, or over AUDIO_MAX_UPLOAD_BYTES (audio_too_large)")
@blp.alt_response(503, schema=ErrorSchema, description="A recording on a server without speech to text "
                  "(stt_unavailable); nothing is stored")
@documents_errors(blp, 400, 404, 409, 413, 429)
@blp.doc(requestBody={"content": SPOKEN_MESSAGE_BODY})
@_or_spoken
@blp.arguments(MessageCreateSchema)
def post_message(args: dict, session_id: str):
    """Send a message: typed (a JSON body) or spoken (multipart/form-data: the recording
    as `audio`, with optional `client_message_id` and `suggested_word_ids`). The turn is
    stored before the answer; results follow as events and through GET /turns/{id}.
    Resending a `client_message_id` returns the same turn. A paused session resumes; an
    ended one refuses the message (409 session_ended).

    A spoken turn is `pending` with `user_message: null` until its recording is
    transcribed (on the `llm` queue); the transcript then becomes its user message and
    the turn runs as a typed one. A recording that cannot be transcribed fails the turn
    (`error.code`: transcription_failed, transcription_empty...)."""
    view, _ = accept_message(user_id=current_user_id(), session_id=session_id, after_response=True, **args)
    return {"turn": view}


def _spoken_message(session_id: str) -> dict:
    settings = get_settings()
    if not audio.openai_enabled(settings):
        raise audio.stt_unavailable()  # before reading the upload: nothing is stored
    request.max_content_length = settings.audio_max_upload_bytes + _MULTIPART_ROOM
    upload = request.files.get("audio")
    if upload is None:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={"audio": ["Send the recording as multipart/form-data field `audio`."]})
    data = upload.read(settings.audio_max_upload_bytes + 1)
    media = audio.check_upload(data, upload.mimetype, settings, field="audio")
    inputs.check_text("form", request.form.to_dict())
    try:
        fields = SpokenMessageSchema().load(request.form)
    except ma.ValidationError as error:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={"form": error.messages}) from None
    view, _ = accept_spoken_message(user_id=current_user_id(), session_id=session_id, after_response=True,
                                    recording=turns.Recording(data, media), **fields)
    return {"turn": view}


@blp.get("/<session_id>/messages")
@signed_in(blp)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, MessagePageSchema)
@documents_errors(blp, 404)
def list_messages(args: dict, session_id: str):
    """The conversation's messages, oldest first, a page at a time."""
    session = conversations.get_session(db(), user_id=current_user_id(), session_id=session_id)
    items, total = conversations.list_messages(db(), session=session, **args)
    return {"items": [turns.present_message(m) for m in items], "meta": page_meta(total=total, **args)}


@blp.post("/<session_id>/hints")
@signed_in(blp)
@blp.response(202, HintSchema)
@documents_errors(blp, 404, 429)
def post_hints(session_id: str):
    """Ask for two or three things the learner could say next. They follow as a `hint`
    event, and are kept with the session (GET /sessions/{id}/hints)."""
    return request_hints(user_id=current_user_id(), session_id=session_id, after_response=True)


@blp.get("/<session_id>/hints")
@signed_in(blp)
@blp.response(200, HintListSchema)
@documents_errors(blp, 404)
def list_hints(session_id: str):
    """The session's latest hints, newest first."""
    items = hints.list_hints(db(), user_id=current_user_id(), session_id=session_id)
    return {"items": [hints.present_hint(hint) for hint in items]}


@blp.post("/<session_id>/transcripts")
@signed_in(blp)
@blp.arguments(TranscriptCreateSchema)
@blp.response(202, TranscriptSegmentSchema)
@documents_errors(blp, 400, 404, 409, 413, 429)
def post_transcript(args: dict, session_id: str):
    """Store a piece of a voice session's transcript. When the learner pauses after
    speaking, a `hint` event suggests what they could say next."""
    return accept_transcript(user_id=current_user_id(), session_id=session_id, after_response=True, **args)


@blp.get("/<session_id>/transcripts")
@signed_in(blp)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TranscriptPageSchema)
@documents_errors(blp, 404)
def list_transcripts(args: dict, session_id: str):
    """A voice session's transcript, oldest first, a page at a time, each learner
    segment with its moderation verdict (null until checked)."""
    items, total = sandbox.list_segments(db(), user_id=current_user_id(), session_id=session_id, **args)
    return {"items": [sandbox.present_segment(s) for s in items], "meta": page_meta(total=total, **args)}
