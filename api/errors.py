"""The one error format, for every failure:
{"error": {"code": "<snake_case>", "message": "<human sentence>", "details": {...}}}
"""
from __future__ import annotations

import json
import logging
from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from flask_smorest import Api
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from domain import db as database
from domain.errors import (Conflict, DomainError, Forbidden, Gone, Invalid, Malformed, NotFound, RateLimited,
                           Unauthorized, Unavailable, UpstreamFailed)

log = logging.getLogger(__name__)

_STATUS_BY_DOMAIN_ERROR: dict[type[DomainError], int] = {
    Malformed: 400, NotFound: 404, Invalid: 422, Conflict: 409, Unauthorized: 401, Forbidden: 403, Gone: 410,
    RateLimited: 429, Unavailable: 503, UpstreamFailed: 502,
}

_CODE_BY_STATUS = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "Nothing lives at this address."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "The request conflicts with the current state."),
    410: ("gone", "This no longer exists."),
    413: ("payload_too_large", "The request body is too large."),
    414: ("uri_too_long", "The address (path and query) is too long."),
    415: ("unsupported_media_type", "Send the body as JSON (Content-Type: application/json), or an upload as "
                                    "multipart/form-data."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    422: ("validation_error", "Some fields are missing or invalid."),
    429: ("rate_limited", "Too many requests; slow down."),
    431: ("headers_too_large", "The request's headers are too large or too many."),
    500: ("internal_error", "Something went wrong on our side; it has been logged."),
    501: ("not_implemented", "The server does not support this."),
    502: ("upstream_failed", "A provider we depend on refused or failed."),
    503: ("unavailable", "A service we depend on is unavailable; try again shortly."),
}


def write_unparsed_request_error(sock, status: int, reason: str, problem: str) -> None:
    """gunicorn's answer to a request it could not parse (a bad request line or header,
    a URL or headers past its limits), which never reaches Flask: the one error format,
    where gunicorn writes an HTML page (installed by deploy/gunicorn.conf.py)."""
    from gunicorn.util import write_nonblock

    code, message = _CODE_BY_STATUS.get(status, ("bad_request", reason))
    body = json.dumps(error_payload(code, message, {"http": problem})).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Stable snake_case error code"})
    message = ma.fields.String(required=True, metadata={"description": "A sentence for humans"})
    details = ma.fields.Dict(metadata={"description": "Field errors or other specifics"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def error_payload(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None):
    response = jsonify(error_payload(code, message, details))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ParlonsApi(Api):
    """flask-smorest's Api with our error format for documentation and responses."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        code, message = _CODE_BY_STATUS.get(status, (error.name.lower().replace(" ", "_"), error.description))
        data = getattr(error, "data", None) or {}
        details = data.get("messages") or data.get("errors") or {}
        if status == 400 and details == {"json": ["Invalid JSON body."]}:
            code, message = "malformed_json", "The request body is not valid JSON."
        if status == 500:
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.exception("unhandled error", exc_info=original)
            details = {}
        return error_response(status, code, data.get("message", message), details, headers=data.get("headers"))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        status = next((s for cls, s in _STATUS_BY_DOMAIN_ERROR.items() if isinstance(error, cls)), 400)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
        return error_response(status, error.code, error.message, error.details, headers)

    @app.errorhandler(SQLAlchemyError)
    def _database_error(error: SQLAlchemyError):
        if not database.is_unavailable(error):
            return _unexpected(error)
        # A state of the service, not a bug: one line, no stack trace (an outage would
        # otherwise write one per request).
        log.warning("database unavailable: %s", database.describe_unavailable(error))
        return error_response(503, "database_unavailable",
                              "The database is unavailable right now; try again shortly.",
                              headers={"Retry-After": "2"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return app.extensions["parlons_api"].handle_http_exception(error)
        log.exception("unhandled error")
        return app.extensions["parlons_api"].handle_http_exception(InternalServerError(original_exception=error))


_ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON (or not UTF-8, or nested too deep)",
    401: "No valid access token (missing, malformed, expired or revoked)",
    403: "This account may not do this yet (see the code)",
    404: "Not found (another learner's resource is not found either)",
    409: "Conflicts with an existing resource",
    410: "Gone: a token that is invalid, used or expired",
    413: "The body is larger than MAX_REQUEST_BYTES",
    429: "Rate limited; see Retry-After",
    502: "A provider we depend on refused or failed",
    503: "A dependency is unavailable",
}


def documents_errors(blueprint: Any, *statuses: int):
    """Document these error responses, in the one error format, on an endpoint."""
    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=ErrorSchema, description=_ERROR_DESCRIPTIONS[status])(view)
        return view
    return decorate
