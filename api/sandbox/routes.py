"""Voice practice: /api/v1/sandbox/sessions."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors
from api.extensions import close_db, db
from api.runtime import characters, realtime_minter
from api.sessions.schemas import SessionCreateSchema, SessionSchema
from domain import sandbox
from domain.config import get_settings
from domain.quotas import get_quotas

blp = Blueprint("sandbox", __name__, url_prefix="/api/v1/sandbox", description="Voice practice (OpenAI Realtime)")


class SandboxCreateSchema(SessionCreateSchema):
    class Meta:
        exclude = ("mode",)


class RealtimeSecretSchema(ma.Schema):
    value = ma.fields.String(metadata={"description": "The client secret the browser connects to OpenAI with"})
    expires_at = ma.fields.Integer(metadata={"description": "Unix time after which it no longer opens a session"})
    model = ma.fields.String()
    voice = ma.fields.String()


class SandboxSessionSchema(ma.Schema):
    session = ma.fields.Nested(SessionSchema)
    realtime = ma.fields.Nested(RealtimeSecretSchema)


@blp.post("/sessions")
@signed_in(blp)
@blp.arguments(SandboxCreateSchema)
@blp.response(201, SandboxSessionSchema)
@documents_errors(blp, 400, 429, 502, 503)
def create_sandbox_session(args: dict):
    """Start a voice conversation: a sandbox session and a short-lived Realtime client
    secret, configured with the character's instructions for the level, its voice and
    input transcription. Send what was said to POST /sessions/{id}/transcripts."""
    get_quotas().spend(current_user_id(), "realtime_secrets")
    user = current_user()
    close_db()  # hold no connection while OpenAI mints the secret (the next db() takes one for the insert)
    session, secret = sandbox.start_voice_session(db(), user=user, characters=characters(),
                                                  mint=realtime_minter(),
                                                  realtime_model=get_settings().openai_realtime_model, **args)
    db().commit()
    return {"session": session, "realtime": secret}
