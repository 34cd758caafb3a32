"""Learner accounts: registration, password checks, profile changes."""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar
from zoneinfo import available_timezones

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from domain import analytics, revocation
from domain.config import get_settings
from domain.errors import Conflict, Invalid, Unauthorized, Unavailable
from domain.models import User, utcnow
from domain.redis_client import get_redis

T = TypeVar("T")
_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verifying against this keeps a login for an unknown email as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalize_email(email: str) -> str:
    """The one spelling of an address: what is stored, looked up and throttled."""
    return email.strip().casefold()


# Argon2 hashes a web process runs at once. Each holds 64 MiB while it runs and its four
# lanes keep a core busy: more at once than a process has cores adds memory, not speed
# (gevent's own pool, ten threads, let a burst of logins or registrations take 640 MiB of
# a web process). The rest wait their turn in line, their greenlets parked.
HASHES_AT_ONCE = 2


@cache
def _hashing_pool():
    from gevent.threadpool import ThreadPool

    return ThreadPool(HASHES_AT_ONCE)


def _off_the_event_loop(function: Callable[..., T], *args: Any) -> T:
    """Run Argon2 (64 MiB, ~150 ms of CPU that releases the GIL) in a small thread pool
    when the process runs gevent, so a login does not freeze every other request of the
    web worker; a plain call elsewhere (CLI, Celery prefork, tests)."""
    from gevent import monkey

    if monkey.is_module_patched("threading"):
        return _hashing_pool().apply(function, args)
    return function(*args)


def _hash(password: str) -> str:
    return _off_the_event_loop(_hasher.hash, password)


@cache
def _zone_names() -> frozenset[str]:
    # The IANA names, which PostgreSQL knows too (it computes learners' days in their zone).
    # ZoneInfo also opens any file under the zone folder: "localtime", "posixrules",
    # "right/UTC" load in Python and then fail every query that uses them.
    return frozenset(available_timezones() - {"localtime", "posixrules"})


def validate_timezone(name: str) -> str:
    if name not in _zone_names():
        raise Invalid(f"Unknown time zone {name!r}.", code="invalid_timezone",
                      details={"timezone": ["Use an IANA name such as Europe/Paris."]})
    return name


def register(db: Session, *, email: str, password: str, display_name: str, target_language: str = "fr",
             native_language: str | None = None, level: str = "A1", timezone: str = "UTC",
             role: str = "learner", verified: bool = False) -> User:
    """A new account; `verified` for one an operator makes (its address counts as
    confirmed: domain/email_verification.py)."""
    user = User(
        email=normalize_email(email),
        password_hash=_hash(password),
        display_name=display_name.strip(),
        target_language=target_language,
        native_language=native_language,
        level=level.upper(),
        timezone=validate_timezone(timezone),
        role=role,
        email_verified_at=utcnow() if verified else None,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    return user


def find_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(db: Session, *, email: str, password: str) -> User:
    user = find_by_email(db, email)
    if user is None:
        _password_matches(_DUMMY_HASH, password)
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    if not _password_matches(user.password_hash, password):
        raise Unauthorized("Email or password is wrong.", code="invalid_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hash(password)
    return user


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    if not _password_matches(user.password_hash, current_password):
        raise Unauthorized("The current password is wrong.", code="invalid_credentials")
    set_password(user, new_password)


def set_password(user: User, new_password: str) -> None:
    """The one rule for a new password, whoever sets it (the learner, an admin, the CLI):
    every token of the account issued until now is revoked, so every session ends (the
    caller issues fresh tokens to whoever should stay signed in). Revoked before the
    caller commits: if Redis is away, nothing changes."""
    user.password_hash = _hash(new_password)
    try:
        revocation.revoke_all(get_redis(), user_id=str(user.id),
                              longest_token_seconds=revocation.longest_token_seconds())
    except redis.RedisError:
        raise Unavailable("Passwords cannot be changed right now; try again shortly.",
                          code="auth_unavailable") from None


def update_profile(user: User, changes: dict[str, Any]) -> User:
    zone = user.timezone
    for name in ("display_name", "native_language", "level", "timezone", "target_language", "desired_retention",
                 "share_letters_with_teachers"):
        if name in changes:
            value = changes[name]
            if name == "timezone":
                value = validate_timezone(value)
            if name == "level":
                value = value.upper()
            setattr(user, name, value)
    if user.timezone != zone:  # the analytics' days are local: their rollup follows the new zone
        session = object_session(user)
        session.flush()  # the new zone first (and the learner's row locked until the caller commits)
        analytics.rebuild_review_days(session, get_settings(), user_id=user.id)
    return user


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _off_the_event_loop(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
