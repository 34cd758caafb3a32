"""Who may call an endpoint: `@signed_in(blp)` declares a view for a signed-in learner
(the token check, the OpenAPI security requirement and the documented 401), in one line."""
from __future__ import annotations

from functools import wraps
from typing import Any

from flask_jwt_extended import jwt_required

from api.auth.tokens import current_user
from api.errors import ErrorSchema, documents_errors
from domain import admin

_SCHEME = "bearerAuth"  # the OpenAPI security scheme of access (and refresh) tokens


def document_bearer_auth(api: Any) -> None:
    """Declare the scheme `signed_in` views require in the OpenAPI document."""
    api.spec.components.security_scheme(_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})


def signed_in(blueprint: Any, *, admin_only: bool = False, **token_options: Any):
    """Require a valid token before the view, its query string or its body is read (so a
    missing token is a 401, never a 422). `token_options` go to flask-jwt-extended's
    `jwt_required` (`refresh=True`: a refresh token; `verify_type=False`: either kind).

    `admin_only`: anyone but an admin gets the 404 an unknown address gets (the admin
    endpoints are not revealed to learners; the role is read from the database on every
    request, so `flask users set-role` applies to tokens already issued)."""
    def decorate(view):
        if admin_only:
            view = _admins_only(blueprint, view)
        view = jwt_required(**token_options)(view)
        view = blueprint.doc(security=[{_SCHEME: []}])(view)
        return documents_errors(blueprint, 401)(view)
    return decorate


def _admins_only(blueprint: Any, view):
    @wraps(view)
    def guarded(*args, **kwargs):
        admin.require_admin(current_user())
        return view(*args, **kwargs)

    return blueprint.alt_response(404, schema=ErrorSchema, description=(
        "Not an admin: the answer an unknown address gets (code not_found)"))(guarded)
