"""Teachers' classes: /api/v1/classes (make, list, invite codes, roster, join, leave, and a
student's notebook, stats, analytics, journey and shared letters for the class's teacher).

Only the class's teacher sees its code, roster and students; anyone else gets 404
`class_not_found`. A student's figures come from the very domain functions and schemas
of the student's own endpoints, called with the student's id."""
from __future__ import annotations

import uuid

import marshmallow as ma
from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user
from api.errors import documents_errors
from api.extensions import close_db, db
from api.journey.routes import ProgressSchema
from api.notebook.routes import NotebookArgsSchema, PatternPageSchema
from api.pagination import page_meta
from api.penpal.routes import ThreadArgsSchema, ThreadListSchema
from api.progress.routes import AnalyticsArgsSchema, AnalyticsSchema, StatsSchema
from api.runtime import characters
from domain import admin, analytics, classes, journey, notebook, penpal
from domain.config import get_settings
from domain.db import statement_scope
from domain.redis_client import get_redis
from domain.srs import reviews as progress

blp = Blueprint("classes", __name__, url_prefix="/api/v1/classes",
                description="Teachers' classes: invite codes, rosters, joining and leaving, "
                            "and a student's progress for the class's teacher")


class ClassCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))


class ClassJoinSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))


class ClassSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    teacher_id = ma.fields.String()
    invite_code = ma.fields.String(allow_none=True,
                                   metadata={"description": "the teacher's own classes only; null for a student"})
    created_at = ma.fields.String()


class ClassListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClassSchema))


class StudentSchema(ma.Schema):
    user_id = ma.fields.String()
    display_name = ma.fields.String()
    level = ma.fields.String()
    joined_at = ma.fields.String()


class RosterSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StudentSchema))


def _class(school_class, viewer) -> dict:
    mine = school_class.teacher_id == viewer.id
    return {"id": str(school_class.id), "name": school_class.name, "teacher_id": str(school_class.teacher_id),
            "invite_code": school_class.invite_code if mine else None,
            "created_at": school_class.created_at.isoformat()}


@blp.post("")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.arguments(ClassCreateSchema)
@blp.response(201, ClassSchema)
def create_class(body: dict):
    """Make a class (teachers only; anyone else gets 404 `not_found`) with a fresh invite code."""
    user = current_user()
    school_class = classes.create_class(db(), user, body["name"])
    db().commit()
    return _class(school_class, user)


@blp.get("")
@signed_in(blp)
@blp.response(200, ClassListSchema)
def list_classes():
    """The classes the caller teaches, then the ones they belong to."""
    user = current_user()
    return {"items": [_class(c, user) for c in classes.list_classes(db(), user)]}


@blp.post("/join")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.arguments(ClassJoinSchema)
@blp.response(200, ClassSchema)
def join_class(body: dict):
    """Join the class whose invite code this is (again changes nothing); 404 for an unknown code."""
    user = current_user()
    school_class = classes.join(db(), user, body["code"])
    db().commit()
    return _class(school_class, user)


@blp.post("/<uuid:class_id>/code")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(200, ClassSchema)
def regenerate_code(class_id: uuid.UUID):
    """A new invite code for the teacher's class; the old one no longer joins."""
    user = current_user()
    school_class = classes.regenerate_code(db(), user, class_id)
    db().commit()
    return _class(school_class, user)


@blp.get("/<uuid:class_id>/students")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(200, RosterSchema)
def roster(class_id: uuid.UUID):
    """The class's students (its teacher only)."""
    rows = classes.roster(db(), current_user(), class_id)
    return {"items": [{"user_id": str(u.id), "display_name": u.display_name, "level": u.level,
                       "joined_at": m.joined_at.isoformat()} for u, m in rows]}


@blp.delete("/<uuid:class_id>/students/<uuid:user_id>")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(204)
def remove_student(class_id: uuid.UUID, user_id: uuid.UUID):
    """Take a student out of the teacher's class."""
    classes.remove_student(db(), current_user(), class_id, user_id)
    db().commit()


@blp.delete("/<uuid:class_id>/membership")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(204)
def leave_class(class_id: uuid.UUID):
    """Leave a class the caller belongs to."""
    classes.leave(db(), current_user(), class_id)
    db().commit()


# --- roles: an admin grants the teacher role ---------------------------------------------

roles_blp = Blueprint("roles", __name__, url_prefix="/api/v1/admin/roles",
                      description="Give an account a role (admins only; anyone else gets a 404)")


class RoleSchema(ma.Schema):
    email = ma.fields.Email(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(admin.ROLES))


class RoleChangeSchema(ma.Schema):
    user_id = ma.fields.String()
    email = ma.fields.String()
    role = ma.fields.String()
    previous = ma.fields.String()


@roles_blp.put("")
@signed_in(roles_blp, admin_only=True)
@documents_errors(roles_blp, 404)
@roles_blp.arguments(RoleSchema)
@roles_blp.response(200, RoleChangeSchema)
def set_role(body: dict):
    """Give the account with this email a role (learner, teacher or admin), as
    `flask users set-role` does; it applies from the account's next request."""
    user, previous = admin.set_role(db(), email=body["email"], role=body["role"])
    db().commit()
    return {"user_id": str(user.id), "email": user.email, "role": user.role, "previous": previous}


# --- a student's data, for the class's teacher ----------------------------------------------

@blp.get("/<uuid:class_id>/students/<uuid:user_id>/notebook")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.arguments(NotebookArgsSchema, location="query")
@blp.response(200, PatternPageSchema)
def student_notebook(args: dict, class_id: uuid.UUID, user_id: uuid.UUID):
    """A student's error patterns, as GET /api/v1/notebook shows them to the student
    (the class's teacher only)."""
    student_id = classes.student_of(db(), current_user(), class_id, user_id)
    items, total = notebook.notebook(db(), user_id=student_id, **args)
    return {"items": items, "meta": page_meta(total=total, page=args["page"], per_page=args["per_page"])}


@blp.get("/<uuid:class_id>/students/<uuid:user_id>/stats")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(200, StatsSchema)
def student_stats(class_id: uuid.UUID, user_id: uuid.UUID):
    """A student's flashcard stats, as GET /api/v1/progress/stats shows them to the student
    (the class's teacher only)."""
    student_id = classes.student_of(db(), current_user(), class_id, user_id)
    return progress.stats(db(), user_id=student_id)


@blp.get("/<uuid:class_id>/students/<uuid:user_id>/analytics")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.arguments(AnalyticsArgsSchema, location="query")
@blp.response(200, AnalyticsSchema)
def student_analytics(args: dict, class_id: uuid.UUID, user_id: uuid.UUID):
    """A student's history over the last `days` days, as GET /api/v1/progress/analytics
    shows it to the student (the class's teacher only)."""
    student_id = classes.student_of(db(), current_user(), class_id, user_id)
    close_db()  # the analytics read on a connection of their own, as the student's endpoint does
    with statement_scope() as conn:
        found = analytics.analytics(conn, get_settings(), user_id=student_id, days=args["days"], cache=get_redis())
    return jsonify(found)  # already in AnalyticsSchema's shape (see api/progress/routes.py)


@blp.get("/<uuid:class_id>/students/<uuid:user_id>/journey")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(200, ProgressSchema)
def student_journey(class_id: uuid.UUID, user_id: uuid.UUID):
    """A student's journey in figures, as GET /api/v1/journey/progress shows it to the
    student (the class's teacher only)."""
    return journey.progress(db(), user=classes.student(db(), current_user(), class_id, user_id))


@blp.get("/<uuid:class_id>/students/<uuid:user_id>/letters")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.arguments(ThreadArgsSchema, location="query")
@blp.response(200, ThreadListSchema)
def student_letters(args: dict, class_id: uuid.UUID, user_id: uuid.UUID):
    """A student's penpal correspondence, as GET /api/v1/penpal/letters shows it to the
    student, while the student shares it (`share_letters_with_teachers` in PATCH
    /api/v1/auth/me); otherwise 404 `letters_not_shared` (the class's teacher only)."""
    student_id = classes.letters_owner(db(), current_user(), class_id, user_id)
    return {"threads": penpal.list_threads(db(), user_id=student_id, characters=characters(), **args)}
