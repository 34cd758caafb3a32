"""Email verification: a one-time link mailed at registration, valid
EMAIL_VERIFICATION_HOURS (48), kept like a password reset token in Redis under
`parlons:email-verify` (domain/one_time_tokens.py); all of the account's pending tokens
are dropped once it is verified.

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
import uuid

import redis
from sqlalchemy.orm import Session

from domain import accounts, mail
from domain.config import Settings
from domain.errors import Forbidden, Gone, Unavailable
from domain.models import User, utcnow
from domain.one_time_tokens import OneTimeTokens
from domain.password_reset import ResetThrottle

log = logging.getLogger(__name__)

TEMPLATE = "verify_email"


TOKENS = OneTimeTokens("parlons:email-verify",
                       unavailable="Email verification is unavailable right now; try again shortly.")


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
    token = TOKENS.issue(client, user.id, seconds=settings.email_verification_hours * 3600)
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
    user_id = TOKENS.redeem(client, token)
    user = db.get(User, user_id) if user_id else None
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
    TOKENS.drop_all(client, user_id)
