"""Accounts and tokens: /api/v1/auth."""
from __future__ import annotations

import redis
from flask import request
from flask_jwt_extended import get_jwt, jwt_required
from flask_smorest import Blueprint

from api.auth.schemas import (AccessTokenSchema, LoginSchema, PasswordChangeSchema, ProfileUpdateSchema,
                              RegisterSchema, TokensSchema, UserSchema)
from api.auth.tokens import current_user, issue_access_token, issue_tokens
from api.errors import documents_errors
from api.extensions import db
from api.runtime import login_throttle
from domain import accounts, revocation
from domain.errors import Unavailable
from domain.redis_client import get_redis

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens")


@blp.post("/register")
@blp.arguments(RegisterSchema)
@blp.response(201, TokensSchema)
@documents_errors(blp, 400, 409, 413)
def register(args: dict):
    """Create a learner account and sign in."""
    user = accounts.register(db(), **args)
    db().commit()
    return {"user": user, **issue_tokens(user)}


@blp.post("/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokensSchema)
@documents_errors(blp, 400, 401, 413, 429)
def login(args: dict):
    """Exchange email and password for tokens. Attempts are rate-limited per account and per address."""
    login_throttle().hit(email=args["email"], address=request.remote_addr or "unknown")
    user = accounts.authenticate(db(), email=args["email"], password=args["password"])
    db().commit()
    return {"user": user, **issue_tokens(user)}


@blp.post("/refresh")
@jwt_required(refresh=True)
@blp.response(200, AccessTokenSchema)
@blp.doc(security=[{"bearerAuth": []}])
@documents_errors(blp, 401, 503)
def refresh():
    """A new access token from a refresh token (sent as the Bearer token)."""
    return {"access_token": issue_access_token(current_user())}


@blp.post("/logout")
@jwt_required(verify_type=False)
@blp.response(204)
@blp.doc(security=[{"bearerAuth": []}])
@documents_errors(blp, 401, 503)
def logout():
    """Revoke the token sent (send the access token, then the refresh token, to end both)."""
    claims = get_jwt()
    try:
        revocation.revoke(get_redis(), jti=claims["jti"], expires_at=claims["exp"])
    except redis.RedisError:
        raise Unavailable("Logging out is temporarily unavailable; try again shortly.",
                          code="auth_unavailable") from None


@blp.route("/me", methods=["GET"])
@jwt_required()
@blp.response(200, UserSchema)
@blp.doc(security=[{"bearerAuth": []}])
@documents_errors(blp, 401)
def me():
    """The signed-in learner."""
    return current_user()


@blp.route("/me", methods=["PATCH"])
@jwt_required()
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
@blp.doc(security=[{"bearerAuth": []}])
@documents_errors(blp, 400, 401, 413)
def update_me(changes: dict):
    """Change the learner's profile (name, languages, level, time zone)."""
    user = accounts.update_profile(current_user(), changes)
    db().commit()
    return user


@blp.post("/password")
@jwt_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.doc(security=[{"bearerAuth": []}])
@documents_errors(blp, 400, 401, 413)
def change_password(args: dict):
    """Change the password (the current one is required)."""
    accounts.change_password(current_user(), current_password=args["current_password"],
                             new_password=args["new_password"])
    db().commit()
