"""The one request-level guard on what comes in (domain/inputs.py decides): every
request's query, path and JSON body is checked before any view, schema or query sees
it, and the body is parsed here once; the schemas read that parse."""
from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from domain import inputs
from domain.config import get_settings

_NO_BODY = object()


def guard_request() -> None:
    if request.routing_exception is not None:
        return  # a 404 or 405 says so first
    inputs.check_text("query", {key: values if len(values) > 1 else values[0]
                                for key, values in request.args.lists()})
    inputs.check_text("path", request.view_args or {})
    body = _parse_body()
    if body is not _NO_BODY:
        inputs.check_text("json", body)
    g.json_body = body


def _parse_body() -> Any:
    if not request.is_json:
        if _has_body() and request.mimetype != "multipart/form-data":  # uploads come as multipart
            # A body the API cannot read (`curl -d` sends a form, a client forgot its
            # Content-Type): say so, rather than name every field of it as missing.
            raise UnsupportedMediaType()
        return _NO_BODY
    raw = request.get_data(cache=True)  # past MAX_CONTENT_LENGTH: 413
    if not raw:
        return _NO_BODY
    return inputs.parse_json(raw, max_depth=get_settings().max_json_depth)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


class GuardedParser(FlaskParser):
    """webargs' parser, reading the body the guard parsed instead of decoding it again."""

    def _raw_load_json(self, req: Any) -> Any:
        if "json_body" not in g:  # no guard ran (a view called outside a request): parse as webargs does
            return super()._raw_load_json(req)
        return core.missing if g.json_body is _NO_BODY else g.json_body


class DatabaseIdConverter(IntegerConverter):
    """`<id:word_id>`: 1 to the largest PostgreSQL integer; any other number (or one of
    thousands of digits) matches no route, so it is a 404 like any unknown id."""

    regex = r"\d{1,10}"

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=inputs.DB_INT_MAX)


def install_input_guard(app: Flask) -> None:
    app.url_map.converters["id"] = DatabaseIdConverter
    app.before_request(guard_request)
    # flask-smorest's hook for the parser; read when a route's @blp.arguments is applied,
    # so this runs before the route modules are imported.
    Blueprint.ARGUMENTS_PARSER = GuardedParser()


def document_id_converter(api: Any) -> None:
    api.register_converter(DatabaseIdConverter, lambda _: {"type": "integer", "format": "int32", "minimum": 1,
                                                           "maximum": inputs.DB_INT_MAX, "example": 1})


_HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


def document_input_errors(api: Any) -> None:
    """Say in the OpenAPI what the guard may answer: 422 on every operation (a NUL byte in
    any query, path or body field), 400 and 415 on those that take a body. Runs once the
    blueprints are registered; apispec keeps their operations in `_paths`."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    bad_json = {"description": "The body is not valid JSON (or not UTF-8, or nested too deep)", "content": error}
    not_json = {"description": "The body is neither JSON nor (for uploads) multipart/form-data", "content": error}
    for operations in api.spec._paths.values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("422", {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"})
            if "requestBody" in operation:
                responses.setdefault("400", bad_json)
                responses.setdefault("415", not_json)
