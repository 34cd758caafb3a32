"""Email verification: a one-time link mailed at registration, valid
EMAIL_VERIFICATION_HOURS (48), kept like a password reset token: only its SHA-256 in
Redis (`parlons:email-verify:<hash>` -> user id, expiring with the token; GETDEL makes it
one-time), the account's pending hashes in a set to drop them all once it is verified.

The mail is queued at registration when mail is configured (SMTP_URL) or verification is
required (without SMTP_URL the mail is then written to the log, as all mail): verifying is
always possible. REQUIRE_EMAIL_VERIFICATION decides whether an unverified account may
use the API: when on, registration answers without tokens, and login and refresh answer
403 `email_unverified`. Accounts older than this feature (the migration) and those an
operator made count as verified.

Resends are throttled like forgotten passwords (password_reset.ResetThrottle): per client
address (429) and per account (the same 202, nothing sent); an unknown or already
verified address gets the same answer and no mail.
"""
from __future__ import annotations

import logging
import secrets
import uuid

import redis
from sqlalchemy.orm import Session

from domain import accounts, mail
from domain.config import Settings
from domain.errors import Forbidden, Gone, Unavailable
from domain.models import User, utcnow
from domain.password_reset import ResetThrottle, hash_token

log = logging.getLogger(__name__)

TEMPLATE = "verify_email"


def _key(token_hash: str) -> str:
    return f"parlons:email-verify:{token_hash}"


def _account_key(user_id: uuid.UUID | str) -> str:
    """The hashes of the account's pending tokens (a set), to drop them all once verified."""
    return f"parlons:email-verify-user:{user_id}"


class ResendThrottle(ResetThrottle):
    key_prefix = "parlons:email-verify-limit"
    code = "too_many_verification_mails"
    message = "Too many verification mails asked for; wait before trying again."

    def limits(self, settings: Settings) -> tuple[str, str]:
        return settings.email_verification_rate_limit_account, settings.email_verification_rate_limit_address


def mails_at_registration(settings: Settings) -> bool:
    return bool(settings.smtp_url) or settings.require_email_verification


def blocks(settings: Settings, user: User) -> bool:
    """Whether the account may not be signed in yet (verification required, not done)."""
    return settings.require_email_verification and not user.email_verified


def ensure_may_sign_in(settings: Settings, user: User) -> None:
    """403 `email_unverified` while verification is required and not done (after the
    password was checked, so the answer tells nothing to whoever lacks it)."""
    if blocks(settings, user):
        raise Forbidden("Confirm your email address first: open the link we mailed you (or ask for a new one).",
                        code="email_unverified")


def on_registration(db: Session, client: redis.Redis, settings: Settings, user: User) -> uuid.UUID | None:
    """Queue the verification mail of a new account when it should have one (in the
    caller's transaction); the mail's id to publish after commit, or None. Without Redis
    the registration fails only when verification is required (else it is resent later)."""
    if not mails_at_registration(settings):
        return None
    try:
        return request_verification(db, client, settings, user)
    except Unavailable:
        if settings.require_email_verification:
            raise
        log.warning("no verification mail for a new account: Redis is unavailable")
        return None


def request_verification(db: Session, client: redis.Redis, settings: Settings, user: User) -> uuid.UUID:
    """Store a new token for the account and queue the mail with its link (in the
    caller's transaction); the queued mail's id."""
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    ttl = settings.email_verification_hours * 3600
    try:
        with client.pipeline() as pipe:
            pipe.set(_key(token_hash), str(user.id), ex=ttl)
            pipe.sadd(_account_key(user.id), token_hash)
            pipe.expire(_account_key(user.id), ttl)
            pipe.execute()
    except redis.RedisError:
        raise Unavailable("Email verification is unavailable right now; try again shortly.",
                          code="auth_unavailable") from None
    url = f"{settings.public_base_url.rstrip('/')}/#verify={token}"
    return mail.queue_mail(db, user_id=user.id, template=TEMPLATE,
                           context={"verify_url": url, "hours": settings.email_verification_hours})


def resend(db: Session, client: redis.Redis, settings: Settings, *, email: str) -> uuid.UUID | None:
    """A new link for an unverified account with this address; None (nothing to send)
    for an unknown or verified one."""
    user = accounts.find_by_email(db, email)
    if user is None or user.email_verified:
        return None
    return request_verification(db, client, settings, user)


def verify(db: Session, client: redis.Redis, *, token: str) -> User:
    """Spend the token and mark the address verified (every other pending link dropped).
    410 `invalid_verification_token` for a token that is unknown, used or expired."""
    try:
        user_id = client.getdel(_key(hash_token(token)))
    except redis.RedisError:
        raise Unavailable("Email verification is unavailable right now; try again shortly.",
                          code="auth_unavailable") from None
    user = db.get(User, uuid.UUID(user_id.decode() if isinstance(user_id, bytes) else user_id)) if user_id else None
    if user is None:
        raise Gone("This verification link is invalid, used or expired; ask for a new one.",
                   code="invalid_verification_token", details={"token": ["invalid, used or expired"]})
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    try:
        forget_tokens(client, user.id)
    except redis.RedisError:
        pass  # the other links still verify the same address; they expire on their own
    return user


def forget_tokens(client: redis.Redis, user_id: uuid.UUID | str) -> None:
    """Drop every pending verification token of the account (once verified, or deleted)."""
    hashes = client.smembers(_account_key(user_id))
    with client.pipeline() as pipe:
        for token_hash in hashes:
            pipe.delete(_key(token_hash.decode() if isinstance(token_hash, bytes) else token_hash))
        pipe.delete(_account_key(user_id))
        pipe.execute()
