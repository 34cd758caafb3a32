"""Assignments (see domain/assignments.py): a class's teacher sets journey units with a
due time at /api/v1/classes/{id}/assignments; a student lists theirs at /api/v1/assignments.

Anyone but the class's teacher gets 404 `class_not_found` on the class's assignments."""
from __future__ import annotations

import uuid

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from api.auth import signed_in
from api.auth.tokens import current_user
from api.errors import documents_errors
from api.extensions import db
from domain import assignments

blp = Blueprint("assignments", __name__, url_prefix="/api/v1",
                description="Journey units a teacher assigns their class, with a due time")


class AssignmentCreateSchema(ma.Schema):
    unit_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                               metadata={"description": "a unit of GET /api/v1/journey/units",
                                         "example": "a1-se-presenter"})
    due_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "ISO-8601 with a UTC offset, in the future (within a year)",
        "example": "2027-01-15T18:00:00+01:00"})


class AssignmentStudentSchema(ma.Schema):
    user_id = ma.fields.String()
    display_name = ma.fields.String()
    completed = ma.fields.Boolean(metadata={"description": "passed every question of the unit"})


class AssignmentFields(ma.Schema):
    id = ma.fields.String()
    class_id = ma.fields.String()
    unit_id = ma.fields.String()
    unit_title = ma.fields.String(allow_none=True, metadata={"description": "null if the unit left the curriculum"})
    unit_level = ma.fields.String(allow_none=True)
    due_at = ma.fields.String(metadata={"description": "ISO-8601, UTC"})
    created_at = ma.fields.String()


class ClassAssignmentSchema(AssignmentFields):
    students = ma.fields.List(ma.fields.Nested(AssignmentStudentSchema))
    completed_count = ma.fields.Integer()
    student_count = ma.fields.Integer()


class ClassAssignmentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClassAssignmentSchema))


class MyAssignmentSchema(AssignmentFields):
    class_name = ma.fields.String()
    completed = ma.fields.Boolean(metadata={"description": "the learner has passed every question of the unit"})


class MyAssignmentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MyAssignmentSchema))


@blp.post("/classes/<uuid:class_id>/assignments")
@signed_in(blp)
@documents_errors(blp, 404, 409)
@blp.arguments(AssignmentCreateSchema)
@blp.response(201, ClassAssignmentSchema)
def create_assignment(body: dict, class_id: uuid.UUID):
    """Assign the class a journey unit due at `due_at` (its teacher only). An unknown unit
    is 422 `unknown_unit`, a due time not in the future 422 `due_at_not_in_future` (more
    than a year ahead: `due_at_too_far`), a unit the class has already 409 `assignment_exists`."""
    assignment = assignments.create(db(), current_user(), class_id, unit_id=body["unit_id"], due_at=body["due_at"])
    db().commit()
    return assignment


@blp.get("/classes/<uuid:class_id>/assignments")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(200, ClassAssignmentListSchema)
def class_assignments(class_id: uuid.UUID):
    """The class's assignments, soonest due first, each with which students have
    completed the unit (its teacher only)."""
    return {"items": assignments.class_assignments(db(), current_user(), class_id)}


@blp.delete("/classes/<uuid:class_id>/assignments/<uuid:assignment_id>")
@signed_in(blp)
@documents_errors(blp, 404)
@blp.response(204)
def delete_assignment(class_id: uuid.UUID, assignment_id: uuid.UUID):
    """Withdraw an assignment (its class's teacher only)."""
    assignments.delete(db(), current_user(), class_id, assignment_id)
    db().commit()


@blp.get("/assignments")
@signed_in(blp)
@blp.response(200, MyAssignmentListSchema)
def my_assignments():
    """The assignments of the classes the caller is in, soonest due first, with whether
    they have completed each unit."""
    return {"items": assignments.my_assignments(db(), current_user())}
