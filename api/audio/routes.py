"""Audio: /api/v1/audio (a reply read aloud, a recording transcribed, what this server can do)."""
from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.errors import ErrorSchema, documents_errors
from domain import audio
from domain.config import get_settings
from domain.errors import Invalid

blp = Blueprint("audio", __name__, url_prefix="/api/v1/audio",
                description="Text to speech for replies, speech to text for recordings")


class CapabilitiesSchema(ma.Schema):
    tts = ma.fields.Boolean(metadata={"description": "POST /audio/speech answers audio"})
    tts_engine = ma.fields.String(allow_none=True, metadata={"description": "openai, espeak-ng or null"})
    stt = ma.fields.Boolean(metadata={"description": "POST /audio/transcriptions answers text"})
    stt_engine = ma.fields.String(allow_none=True, metadata={"description": "openai or null"})
    voices = ma.fields.List(ma.fields.String())
    max_text_chars = ma.fields.Integer()
    max_upload_bytes = ma.fields.Integer()
    upload_types = ma.fields.List(ma.fields.String())


class SpeechSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=get_settings().audio_max_text_chars))
    voice = ma.fields.String(load_default=None, allow_none=True, validate=validate.OneOf(audio.VOICES))


class TranscriptionSchema(ma.Schema):
    text = ma.fields.String()


@blp.get("/capabilities")
@signed_in(blp)
@blp.response(200, CapabilitiesSchema)
def get_capabilities():
    """What audio this server can produce and read (the playground shows its buttons from it)."""
    return audio.capabilities()


@blp.post("/speech")
@signed_in(blp)
@blp.arguments(SpeechSchema)
@blp.response(200, content_type="audio/mpeg",
              description="The audio (audio/mpeg from OpenAI, audio/wav from espeak-ng)")
@documents_errors(blp, 429, 502, 503)
def speech(args: dict):
    """A text read aloud, cached by text and voice; 503 `tts_unavailable` when no engine is."""
    result = audio.synthesize(current_user_id(), args["text"], args.get("voice"))
    return Response(result.audio, mimetype=result.content_type,
                    headers={"X-Audio-Engine": result.engine, "X-Audio-Cached": str(result.cached).lower(),
                             "Cache-Control": "private, max-age=86400"})


@blp.post("/transcriptions")
@signed_in(blp)
@blp.response(200, TranscriptionSchema)
@blp.alt_response(422, schema=ErrorSchema,
                  description="No `file`, not an audio type, empty or over AUDIO_MAX_UPLOAD_BYTES")
@documents_errors(blp, 413, 429, 502, 503)
def transcriptions():
    """A recording (multipart field `file`) as text; 503 `stt_unavailable` without OpenAI."""
    settings = get_settings()
    if not audio.openai_enabled(settings):
        audio.transcribe(current_user_id(), b"", None)  # raises stt_unavailable
    request.max_content_length = settings.audio_max_upload_bytes + 16 * 1024  # multipart overhead
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={"file": ["Send the recording as multipart/form-data field `file`."]})
    data = upload.read(settings.audio_max_upload_bytes + 1)
    return {"text": audio.transcribe(current_user_id(), data, upload.mimetype)}
