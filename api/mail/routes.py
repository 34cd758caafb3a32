"""Forgotten passwords (/api/v1/auth/password/forgot, /reset: domain/password_reset.py),
email verification (/api/v1/auth/email/verify, /verify/resend: domain/email_verification.py)
and account deletion (DELETE /api/v1/auth/me: domain/account_deletion.py)."""
from __future__ import annotations

from functools import cache

import marshmallow as ma
import redis
from flask import jsonify, request
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.schemas import UserSchema
from api.auth.tokens import current_user, current_user_id
from api.errors import documents_errors, error_response
from api.extensions import db
from domain import account_deletion, data_export, email_verification, mail, password_reset
from domain.config import get_settings
from domain.redis_client import get_redis
from workers.dispatch import dispatch_best_effort

blp = Blueprint("auth_recovery", __name__, url_prefix="/api/v1/auth",
                description="Forgotten passwords, email verification and account deletion")


class ForgotSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))


class ResetSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))


class AcceptedSchema(ma.Schema):
    status = ma.fields.String()


class DoneSchema(ma.Schema):
    status = ma.fields.String()


@cache
def _throttle() -> password_reset.ResetThrottle:
    return password_reset.ResetThrottle(get_settings(), connection_pool=get_redis().connection_pool)


@blp.post("/password/forgot")
@blp.arguments(ForgotSchema)
@blp.response(202, AcceptedSchema)
@documents_errors(blp, 400, 413, 429)
def forgot(args: dict):
    """Mail a one-time reset link (valid 30 minutes) if the address has an account. The
    answer is the same whether it has one or not. Throttled per address and per account."""
    _throttle().hit_address(request.remote_addr or "unknown")
    message_id = None
    if _throttle().account_allowed(args["email"]):
        message_id = password_reset.request_reset(db(), get_redis(), get_settings(), email=args["email"])
        db().commit()
    if message_id is not None:
        dispatch_best_effort(mail.OUTBOX_KIND, message_id)
    return {"status": "accepted"}


@blp.post("/password/reset")
@blp.arguments(ResetSchema)
@blp.response(200, DoneSchema)
@documents_errors(blp, 400, 413, 503)
def reset(args: dict):
    """Set a new password with a mailed token (it works once). Every token of the
    account is revoked: sign in again with the new password."""
    password_reset.reset(db(), get_redis(), token=args["token"], new_password=args["new_password"])
    db().commit()
    return {"status": "password_reset"}


class VerifySchema(ma.Schema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


@cache
def _resend_throttle() -> email_verification.ResendThrottle:
    return email_verification.ResendThrottle(get_settings(), connection_pool=get_redis().connection_pool)


@blp.post("/email/verify")
@blp.arguments(VerifySchema)
@blp.response(200, UserSchema)
@documents_errors(blp, 400, 410, 413, 503)
def verify_email(args: dict):
    """Confirm the account's address with the mailed token (it works once; valid
    EMAIL_VERIFICATION_HOURS). 410 `invalid_verification_token` when it is invalid, used
    or expired. Answers the account (`email_verified`: true); then log in."""
    user = email_verification.verify(db(), get_redis(), token=args["token"])
    db().commit()
    return user


@blp.post("/email/verify/resend")
@blp.arguments(ForgotSchema)
@blp.response(202, AcceptedSchema)
@documents_errors(blp, 400, 413, 429, 503)
def resend_verification(args: dict):
    """Mail a new verification link if the address has an account that is not verified
    yet. The answer is the same whatever the address. Throttled per address and per account."""
    _resend_throttle().hit_address(request.remote_addr or "unknown")
    message_id = None
    if _resend_throttle().account_allowed(args["email"]):
        message_id = email_verification.resend(db(), get_redis(), get_settings(), email=args["email"])
        db().commit()
    if message_id is not None:
        dispatch_best_effort(mail.OUTBOX_KIND, message_id)
    return {"status": "accepted"}


class DeleteAccountSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


@blp.route("/me", methods=["DELETE"])
@signed_in(blp)
@blp.arguments(DeleteAccountSchema)
@blp.response(204)
@documents_errors(blp, 400, 401, 413)
def delete_me(args: dict):
    """Delete the account and everything it owns (password required): every row in one
    transaction, its Redis keys, and a confirmation email to its address. Its tokens stop
    working at once."""
    message_id, names = account_deletion.delete_account(db(), current_user(), password=args["password"])
    db().commit()
    try:
        password_reset.forget_tokens(get_redis(), names[0])
        email_verification.forget_tokens(get_redis(), names[0])
    except redis.RedisError:
        pass  # forget_redis below logs the outage; a left-over token names no account any more (410)
    account_deletion.forget_redis(get_redis(), names)
    dispatch_best_effort(mail.OUTBOX_KIND, message_id)


@blp.post("/me/export")
@signed_in(blp)
@blp.response(202, AcceptedSchema)
def export_me():
    """Build an archive of everything the learner owns; a link that serves it once is
    mailed when it is ready."""
    export = data_export.request_export(db(), user_id=current_user_id())
    db().commit()
    dispatch_best_effort(data_export.OUTBOX_KIND, export.id)
    return {"status": "accepted"}


@blp.get("/me/export/<string:token>")
@documents_errors(blp, 404)
def fetch_export(token: str):
    """The archive behind a mailed link (no sign-in: the link is signed). Served once:
    a second fetch is 410 `export_already_fetched`."""
    try:
        archive = data_export.fetch_once(db(), get_settings(), token)
    except data_export.Gone as gone:
        db().rollback()
        return error_response(410, gone.code, gone.message)
    db().commit()
    response = jsonify(archive)
    response.headers["Content-Disposition"] = 'attachment; filename="parlons-export.json"'
    return response
