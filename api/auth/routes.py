"""Accounts and tokens: /api/v1/auth."""
from __future__ import annotations

import redis
from flask import request
from flask_jwt_extended import get_jwt
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.schemas import (LoginSchema, PasswordChangeSchema, ProfileUpdateSchema, RefreshedTokensSchema,
                              RegisteredSchema, RegisterSchema, TokensSchema, UserSchema)
from api.auth.tokens import current_user, issue_tokens
from api.errors import documents_errors
from api.extensions import db
from api.runtime import login_throttle
from domain import accounts, email_verification, mail, revocation
from domain.config import get_settings
from domain.errors import Unavailable
from domain.redis_client import get_redis
from workers.dispatch import dispatch_best_effort

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens")


@blp.post("/register")
@blp.arguments(RegisterSchema)
@blp.response(201, RegisteredSchema)
@documents_errors(blp, 400, 409, 413, 503)
def register(args: dict):
    """Create a learner account and sign in. Registrations are rate-limited per address.
    When mail is configured a link to confirm the address is mailed; when
    REQUIRE_EMAIL_VERIFICATION is on the answer has no tokens (`verification_required`:
    true) and the account can log in once the address is confirmed."""
    login_throttle().hit_registration(address=request.remote_addr or "unknown")
    settings = get_settings()
    user = accounts.register(db(), **args)
    message_id = email_verification.on_registration(db(), get_redis(), settings, user)
    db().commit()
    if message_id is not None:
        dispatch_best_effort(mail.OUTBOX_KIND, message_id)
    if email_verification.blocks(settings, user):
        return {"user": user, "verification_required": True}
    return {"user": user, **issue_tokens(user.id), "verification_required": False}


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokensSchema)
@documents_errors(blp, 400, 401, 403, 413, 429)
def login(args: dict):
    """Exchange email and password for tokens. Attempts are rate-limited per account and per address.
    403 `email_unverified` while REQUIRE_EMAIL_VERIFICATION is on and the address is not confirmed."""
    login_throttle().hit(email=args["email"], address=request.remote_addr or "unknown")
    user = accounts.authenticate(db(), email=args["email"], password=args["password"])
    db().commit()
    email_verification.ensure_may_sign_in(get_settings(), user)
    return {"user": user, **issue_tokens(user.id)}


@blp.post("/refresh")
@signed_in(blp, refresh=True)
@blp.response(200, RefreshedTokensSchema)
@documents_errors(blp, 403, 503)
def refresh():
    """New access and refresh tokens from a refresh token (sent as the Bearer token). A
    refresh token works once: sending a used one again revokes every token of its login.
    403 `email_unverified` while REQUIRE_EMAIL_VERIFICATION is on and the address is not confirmed."""
    token = revocation.TokenClaims.from_payload(get_jwt())
    email_verification.ensure_may_sign_in(get_settings(), current_user())  # the account still exists
    try:
        family = revocation.spend_refresh_token(get_redis(), token=token,
                                                longest_token_seconds=revocation.longest_token_seconds())
    except redis.RedisError:
        raise Unavailable("Sign-in is temporarily unavailable.", code="auth_unavailable") from None
    return issue_tokens(token.user_id, family=family)


@blp.post("/logout")
@signed_in(blp, verify_type=False)
@blp.response(204)
@documents_errors(blp, 503)
def logout():
    """End the login the token sent belongs to: it, and every access and refresh token
    obtained from that login, are revoked (sockets opened with them close within seconds)."""
    try:
        revocation.revoke(get_redis(), token=revocation.TokenClaims.from_payload(get_jwt()),
                          longest_token_seconds=revocation.longest_token_seconds())
    except redis.RedisError:
        raise Unavailable("Logging out is temporarily unavailable; try again shortly.",
                          code="auth_unavailable") from None


@blp.route("/me", methods=["GET"])
@signed_in(blp)
@blp.response(200, UserSchema)
def me():
    """The signed-in learner."""
    return current_user()


@blp.route("/me", methods=["PATCH"])
@signed_in(blp)
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
@documents_errors(blp, 400, 413)
def update_me(changes: dict):
    """Change the learner's profile (name, languages, level, time zone, desired retention, and whether
    their classes' teachers may read their penpal letters)."""
    user = accounts.update_profile(current_user(), changes)
    db().commit()
    return user


@blp.post("/password")
@signed_in(blp)
@blp.arguments(PasswordChangeSchema)
@blp.response(200, RefreshedTokensSchema)
@documents_errors(blp, 400, 413, 503)
def change_password(args: dict):
    """Change the password (the current one is required). Every token of the account is
    revoked, so every other session ends; the answer carries this client's new tokens."""
    user = current_user()
    accounts.change_password(user, current_password=args["current_password"], new_password=args["new_password"])
    db().commit()
    return issue_tokens(user.id)
