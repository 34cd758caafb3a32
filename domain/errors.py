"""Errors that domain code raises; api/errors.py maps each class to one HTTP status."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}


class Malformed(DomainError):
    """The input cannot be read at all (not JSON, not UTF-8, nested too deep)."""

    code = "malformed_input"


class NotFound(DomainError):
    code = "not_found"


class Invalid(DomainError):
    code = "invalid"


class Conflict(DomainError):
    code = "conflict"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    """Signed in (or with the right password), but this account may not do it yet."""

    code = "forbidden"


class Gone(DomainError):
    """What the request names existed once and does not any more (a spent or expired token)."""

    code = "gone"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(DomainError):
    code = "unavailable"


class UpstreamFailed(DomainError):
    """A provider we called (OpenAI's Realtime API) refused or failed."""

    code = "upstream_failed"
