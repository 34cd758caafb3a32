"""Reminders: /api/v1/push (Web Push subscriptions, the VAPID public key, reminder settings)."""
from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.errors import documents_errors
from api.extensions import db
from domain import reminders
from domain.config import get_settings

blp = Blueprint("push", __name__, url_prefix="/api/v1/push",
                description="Reminders: Web Push subscriptions and the learner's reminder settings")

_BASE64URL = validate.Regexp(r"^[A-Za-z0-9_-]+=*$", error="must be base64url")


def _https_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ma.ValidationError("must be the push service's URL")


class KeysSchema(ma.Schema):
    p256dh = ma.fields.String(required=True, validate=[validate.Length(min=80, max=200), _BASE64URL],
                              metadata={"description": "the browser's P-256 public key, base64url"})
    auth = ma.fields.String(required=True, validate=[validate.Length(min=16, max=100), _BASE64URL],
                            metadata={"description": "the authentication secret, base64url"})


class SubscriptionSchema(ma.Schema):
    """A browser's PushSubscription as JSON (`subscription.toJSON()`)."""

    endpoint = ma.fields.String(required=True, validate=[validate.Length(min=1, max=2048), _https_url])
    keys = ma.fields.Nested(KeysSchema, required=True)
    expirationTime = ma.fields.Raw(load_default=None, allow_none=True, metadata={"description": "ignored"})


class SubscriptionOutSchema(ma.Schema):
    endpoint = ma.fields.String()
    created_at = ma.fields.String()


class EndpointSchema(ma.Schema):
    endpoint = ma.fields.String(required=True, validate=validate.Length(min=1, max=2048))


class PublicKeySchema(ma.Schema):
    public_key = ma.fields.String(metadata={"description": "the VAPID public key (applicationServerKey), base64url"})


class ReminderSettingsSchema(ma.Schema):
    reminders_enabled = ma.fields.Boolean(metadata={"description": "the daily streak reminder (default on)"})
    reminder_hour = ma.fields.Integer(validate=validate.Range(min=0, max=23), metadata={
        "description": "the hour (0-23) of the learner's time zone from which the reminder is sent"})


@blp.get("/vapid-public-key")
@blp.response(200, PublicKeySchema)
@documents_errors(blp, 503)
def vapid_public_key():
    """The key a browser subscribes with (`applicationServerKey`); 503 `push_unavailable`
    when this server has no VAPID keys."""
    settings = get_settings()
    reminders.require_push(settings)
    return {"public_key": settings.vapid_public_key}


@blp.post("/subscriptions")
@signed_in(blp)
@blp.arguments(SubscriptionSchema)
@blp.response(201, SubscriptionOutSchema)
@blp.alt_response(200, schema=SubscriptionOutSchema, description="the endpoint was already subscribed: updated")
@documents_errors(blp, 503)
def subscribe(args: dict):
    """Subscribe this browser to reminders. Idempotent on the endpoint: sending it again
    updates the keys (200). 503 `push_unavailable` when push is not configured."""
    reminders.require_push(get_settings())
    row, created = reminders.subscribe(db(), user_id=current_user_id(), endpoint=args["endpoint"],
                                       p256dh=args["keys"]["p256dh"], auth=args["keys"]["auth"])
    result = {"endpoint": row.endpoint, "created_at": row.created_at.isoformat()}
    db().commit()
    return result, 201 if created else 200


@blp.delete("/subscriptions")
@signed_in(blp)
@blp.arguments(EndpointSchema)
@blp.response(204)
@documents_errors(blp, 404)
def unsubscribe(args: dict):
    """Unsubscribe the browser with this endpoint (one of the learner's own: else 404)."""
    reminders.unsubscribe(db(), user_id=current_user_id(), endpoint=args["endpoint"])
    db().commit()


@blp.get("/reminders")
@signed_in(blp)
@blp.response(200, ReminderSettingsSchema)
def get_reminder_settings():
    """The learner's reminder settings."""
    return reminders.get_settings_of(db(), get_settings(), user_id=current_user_id())


@blp.patch("/reminders")
@signed_in(blp)
@blp.arguments(ReminderSettingsSchema)
@blp.response(200, ReminderSettingsSchema)
def update_reminder_settings(args: dict):
    """Change the reminder settings (either field, or both)."""
    values = reminders.update_settings(db(), get_settings(), user_id=current_user_id(), changes=args)
    db().commit()
    return values
