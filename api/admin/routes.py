"""Admin endpoints: /api/v1/admin, for accounts whose role is "admin".

A learner's request gets the 404 an unknown address gets, in the one error format: the
admin endpoints are not revealed to learners, as another learner's data is a 404 and
never a 403 (and the codebase has no "forbidden" error). The role is read from the
database on every request, so `flask users set-role` applies to tokens already issued.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.extensions import db
from api.pagination import PageArgsSchema, PageMetaSchema, page_meta
from api.turns.schemas import TurnSchema
from domain import admin

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin",
                description="Admin views across learners (role admin; anyone else gets a 404)")


class AdminUserSchema(ma.Schema):
    id = ma.fields.UUID()
    email = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String()
    level = ma.fields.String()
    native_language = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    xp = ma.fields.Integer()


class AdminUserPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AdminUserSchema))
    meta = ma.fields.Nested(PageMetaSchema)


class AdminUserArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(admin.ROLES), metadata={"description": "Only this role"})


class AdminTurnSchema(TurnSchema):
    user_id = ma.fields.String(metadata={"description": "The learner whose turn it is"})


class AdminTurnPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AdminTurnSchema))
    meta = ma.fields.Nested(PageMetaSchema)


class AdminTurnArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(admin.TURN_STATUSES),
                              metadata={"description": f"Only this status: {', '.join(admin.TURN_STATUSES)}"})


@blp.get("/users")
@signed_in(blp, admin_only=True)
@blp.arguments(AdminUserArgsSchema, location="query")
@blp.response(200, AdminUserPageSchema)
def list_users(args: dict):
    """Every account, newest first, optionally of one role.

    Admins only: anyone else gets 404 `not_found`, exactly as for an address where
    nothing lives (no 403: the admin endpoints are not revealed)."""
    items, total = admin.list_users(db(), **args)
    return {"items": items, "meta": page_meta(total=total, page=args["page"], per_page=args["per_page"])}


@blp.get("/turns")
@signed_in(blp, admin_only=True)
@blp.arguments(AdminTurnArgsSchema, location="query")
@blp.response(200, AdminTurnPageSchema)
def list_turns(args: dict):
    """Every learner's turns, newest first, as GET /turns/{id} shows them plus `user_id`;
    optionally of one status (422 naming the valid ones otherwise).

    Admins only: anyone else gets 404 `not_found`, exactly as for an address where
    nothing lives (no 403: the admin endpoints are not revealed)."""
    items, total = admin.list_turns(db(), **args)
    return {"items": items, "meta": page_meta(total=total, page=args["page"], per_page=args["per_page"])}
