"""flask-jwt-extended wiring: who the token names, the Redis revocation list, and the
one error format for every token failure."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt_identity

from api.errors import error_response
from api.extensions import db, jwt
from domain import revocation
from domain.config import Settings
from domain.errors import Unauthorized
from domain.models import User
from domain.redis_client import get_redis


def configure_jwt(app: Flask, settings: Settings) -> None:
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_token_days),
        JWT_TOKEN_LOCATION=["headers"],
        JWT_QUERY_STRING_NAME="token",  # sockets only: browsers cannot set headers on a WebSocket
        JWT_ERROR_MESSAGE_KEY="message",
    )


def issue_tokens(user_id: uuid.UUID | str, *, family: str | None = None) -> dict[str, str]:
    """An access and a refresh token of one login's family (a new family: a new login)."""
    claims = {"fam": family or uuid.uuid4().hex}
    return {"access_token": create_access_token(identity=str(user_id), additional_claims=claims),
            "refresh_token": create_refresh_token(identity=str(user_id), additional_claims=claims)}


@jwt.token_in_blocklist_loader
def _is_revoked(_header: dict, payload: dict) -> bool:
    return revocation.token_revoked(get_redis(), payload)


def _unauthorized(code: str, message: str):
    return error_response(401, code, message, headers={"WWW-Authenticate": "Bearer"})


@jwt.unauthorized_loader
def _missing(reason: str):
    return _unauthorized("missing_token", "Send an access token: Authorization: Bearer <token>.")


@jwt.invalid_token_loader
def _invalid(reason: str):
    return _unauthorized("invalid_token", f"The token is not valid: {reason}.")


@jwt.expired_token_loader
def _expired(_header: dict, _payload: dict):
    return _unauthorized("token_expired", "The token has expired; refresh it or log in again.")


@jwt.revoked_token_loader
def _revoked(_header: dict, _payload: dict):
    return _unauthorized("token_revoked", "The token has been revoked; log in again.")


@jwt.needs_fresh_token_loader
def _needs_fresh(_header: dict, _payload: dict):
    return _unauthorized("fresh_token_required", "Log in again to do this.")


@jwt.token_verification_failed_loader
def _verification_failed(_header: dict, _payload: dict):
    return _unauthorized("invalid_token", "The token could not be verified.")


def current_user_id() -> uuid.UUID:
    """The signed-in learner's id, straight from the verified token (no database read)."""
    return uuid.UUID(get_jwt_identity())


def current_user() -> User:
    """The signed-in learner's account, read only by the endpoints that need it."""
    user = db().get(User, current_user_id())
    if user is None:
        raise Unauthorized("The account for this token no longer exists.", code="user_not_found")
    return user
