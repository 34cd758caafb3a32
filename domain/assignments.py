"""Assignments: a teacher sets their class a journey unit, due at a given time; each
student sees their classes' assignments and whether they have completed the unit
(passed it, as the journey counts it: `journey.passed_units`), and is reminded once.

Only the class's teacher sets, lists (with each student's completion) and deletes its
assignments; anyone else is told the class does not exist (domain/classes.py). A student
sees the assignments of the classes they are in now: leaving a class hides them.

The reminder: a beat job (`assignments.remind`, on `llm` with the streak reminders:
sending waits on the push services) takes the assignments due within
ASSIGNMENT_REMINDER_HOURS (and not yet past due) and, for each student of the class who
has not completed the unit, claims a row of `assignment_reminders` (assignment_id,
user_id) inserted with ON CONFLICT DO NOTHING: two beats at once remind once; only the
run that stored the row sends. It publishes `assignment_due` to the student, and, unless
they turned reminders off, sends it through the streak reminders' channels
(`reminders.choose_channels`): Web Push to their subscriptions, else the
`assignment_due` email when outgoing mail is configured. The email is queued in the
claim's transaction (the outbox sends it); a failed push is not retried.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from domain import classes, journey, mail, reminders
from domain.config import Settings
from domain.db import session_scope
from domain.errors import Conflict, Invalid, NotFound
from domain.events import EventPublisher
from domain.models import (Assignment, AssignmentReminder, ClassMembership, PushSubscription, ReminderSetting,
                           SchoolClass, User, utcnow)

log = logging.getLogger(__name__)

EVENT = "assignment_due"
TEMPLATE = "assignment_due"
MAX_AHEAD = timedelta(days=366)  # a due date within a school year
_BATCH = 200


def _not_found() -> NotFound:
    return NotFound("Assignment not found.", code="assignment_not_found")


def _units() -> dict[str, journey.Unit]:
    return {unit.id: unit for unit in journey.units()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def present(assignment: Assignment, unit: journey.Unit | None) -> dict[str, Any]:
    """An assignment as both sides see it (the unit may have left the curriculum since:
    then its title and level are null)."""
    return {"id": str(assignment.id), "class_id": str(assignment.class_id), "unit_id": assignment.unit_id,
            "unit_title": unit.title if unit else None, "unit_level": unit.level if unit else None,
            "due_at": _iso(assignment.due_at), "created_at": _iso(assignment.created_at)}


# --- the teacher's side ------------------------------------------------------------------------

def create(db: Session, teacher: User, class_id: uuid.UUID, *, unit_id: str, due_at: datetime,
           now: datetime | None = None) -> dict[str, Any]:
    """Set the class a unit due at `due_at` (in the caller's transaction); its view with
    the students' completion. Invalid for an unknown unit or a due time not in the
    future (or more than a year ahead); Conflict when the class has the unit already."""
    classes.teachers_class(db, teacher, class_id)
    unit = journey.find_unit(unit_id)
    if unit is None:
        raise Invalid(f"Unknown journey unit {unit_id!r}.", code="unknown_unit",
                      details={"unit_id": ["Choose a unit of GET /api/v1/journey/units."]})
    now = now or utcnow()
    if due_at <= now:
        raise Invalid("The due time must be in the future.", code="due_at_not_in_future",
                      details={"due_at": ["Must be in the future."]})
    if due_at - now > MAX_AHEAD:
        raise Invalid("The due time must be within a year.", code="due_at_too_far",
                      details={"due_at": [f"Must be within {MAX_AHEAD.days} days."]})
    assignment_id = db.scalar(insert(Assignment).values(
        id=uuid.uuid4(), class_id=class_id, unit_id=unit.id, due_at=due_at, created_at=now,
    ).on_conflict_do_nothing(constraint="uq_assignments_class_unit").returning(Assignment.id))
    if assignment_id is None:
        raise Conflict("This unit is already assigned to the class; delete that assignment first.",
                       code="assignment_exists", details={"unit_id": ["Already assigned to this class."]})
    return _with_completion(db, teacher, class_id, [db.get(Assignment, assignment_id)])[0]


def class_assignments(db: Session, teacher: User, class_id: uuid.UUID) -> list[dict[str, Any]]:
    """The class's assignments, soonest due first, each with who of the class's students
    has completed the unit (its teacher only)."""
    classes.teachers_class(db, teacher, class_id)
    found = list(db.scalars(select(Assignment).where(Assignment.class_id == class_id)
                            .order_by(Assignment.due_at, Assignment.created_at)))
    return _with_completion(db, teacher, class_id, found)


def _with_completion(db: Session, teacher: User, class_id: uuid.UUID,
                     found: list[Assignment]) -> list[dict[str, Any]]:
    students = [user for user, _ in classes.roster(db, teacher, class_id)]
    passed = journey.passed_units(db, user_ids=[user.id for user in students])
    units = _units()
    views = []
    for assignment in found:
        done = [{"user_id": str(user.id), "display_name": user.display_name,
                 "completed": assignment.unit_id in passed[user.id]} for user in students]
        views.append({**present(assignment, units.get(assignment.unit_id)), "students": done,
                      "completed_count": sum(s["completed"] for s in done), "student_count": len(done)})
    return views


def delete(db: Session, teacher: User, class_id: uuid.UUID, assignment_id: uuid.UUID) -> None:
    classes.teachers_class(db, teacher, class_id)
    assignment = db.get(Assignment, assignment_id)
    if assignment is None or assignment.class_id != class_id:
        raise _not_found()
    db.delete(assignment)
    db.flush()


# --- the student's side ------------------------------------------------------------------------

def my_assignments(db: Session, user: User) -> list[dict[str, Any]]:
    """The assignments of the classes the learner is in, soonest due first, each with
    whether they have completed the unit."""
    rows = db.execute(select(Assignment, SchoolClass.name)
                      .join(SchoolClass, SchoolClass.id == Assignment.class_id)
                      .join(ClassMembership, and_(ClassMembership.class_id == Assignment.class_id,
                                                  ClassMembership.user_id == user.id))
                      .order_by(Assignment.due_at, Assignment.created_at)).all()
    passed = journey.passed_units(db, user_ids=[user.id])[user.id]
    units = _units()
    return [{**present(assignment, units.get(assignment.unit_id)), "class_name": class_name,
             "completed": assignment.unit_id in passed} for assignment, class_name in rows]


# --- the beat job: `assignment_due` reminders ---------------------------------------------------

@dataclass(frozen=True)
class Due:
    assignment_id: uuid.UUID
    class_id: uuid.UUID
    class_name: str
    unit_id: str
    due_at: datetime
    user_id: uuid.UUID
    timezone: str
    reminders_enabled: bool


def due_reminders(db: Session, *, now: datetime, horizon: datetime, after: tuple[uuid.UUID, uuid.UUID] | None = None,
                  limit: int = _BATCH) -> list[Due]:
    """(assignment, student) pairs not yet reminded whose assignment is due after `now`
    and by `horizon`, in (assignment, student) order after `after`."""
    pair = tuple_(Assignment.id, ClassMembership.user_id)
    query = (select(Assignment.id, Assignment.class_id, SchoolClass.name, Assignment.unit_id, Assignment.due_at,
                    ClassMembership.user_id, User.timezone, ReminderSetting.reminders_enabled)
             .join(SchoolClass, SchoolClass.id == Assignment.class_id)
             .join(ClassMembership, ClassMembership.class_id == Assignment.class_id)
             .join(User, User.id == ClassMembership.user_id)
             .outerjoin(ReminderSetting, ReminderSetting.user_id == ClassMembership.user_id)
             .where(Assignment.due_at > now, Assignment.due_at <= horizon,
                    ~select(AssignmentReminder.user_id)
                    .where(AssignmentReminder.assignment_id == Assignment.id,
                           AssignmentReminder.user_id == ClassMembership.user_id).exists())
             .order_by(Assignment.id, ClassMembership.user_id).limit(limit))
    if after is not None:
        query = query.where(pair > tuple_(*after))
    return [Due(*row[:7], reminders_enabled=row[7] is not False) for row in db.execute(query)]


def event_data(due: Due, unit: journey.Unit) -> dict[str, Any]:
    """The `assignment_due` event's data."""
    return {"assignment_id": str(due.assignment_id), "class_id": str(due.class_id), "unit_id": due.unit_id,
            "unit_title": unit.title, "due_at": _iso(due.due_at)}


def _local_due_date(due: Due) -> str:
    return due.due_at.astimezone(ZoneInfo(due.timezone)).date().isoformat()


def payload(due: Due, unit: journey.Unit) -> dict[str, Any]:
    """What the service worker shows (api/playground/static/push-sw.js: title, body, url)."""
    return {"type": EVENT, "title": f"Parlons : {unit.title}",
            "body": f"Due {_local_due_date(due)} for \u201c{due.class_name}\u201d.",
            **event_data(due, unit), "url": "/"}


def run(settings: Settings, publisher: EventPublisher, *, now: datetime | None = None) -> int:
    """Remind the students whose assignments are now due soon and not completed, once
    each. Returns the number reminded."""
    now = now or utcnow()
    horizon = now + timedelta(hours=settings.assignment_reminder_hours)
    units = _units()
    reminded = 0
    after = None
    while True:
        with session_scope() as db:
            batch = due_reminders(db, now=now, horizon=horizon, after=after)
            passed = journey.passed_units(db, user_ids={due.user_id for due in batch})
        for due in batch:
            unit = units.get(due.unit_id)
            if unit is None or due.unit_id in passed[due.user_id]:
                continue  # completed (or gone from the curriculum): nothing to remind of
            reminded += remind(settings, publisher, due, unit, now=now)
        if len(batch) < _BATCH:
            return reminded
        after = (batch[-1].assignment_id, batch[-1].user_id)


def remind(settings: Settings, publisher: EventPublisher, due: Due, unit: journey.Unit, *, now: datetime) -> bool:
    """Claim the student's reminder of this assignment, then send it. False when another
    run had claimed it."""
    mail_id = None
    subscriptions: list[PushSubscription] = []
    channels: list[str] = []
    with session_scope() as db:
        if due.reminders_enabled:
            subscriptions = list(db.scalars(select(PushSubscription).where(PushSubscription.user_id == due.user_id)))
            channels = reminders.choose_channels(push_configured=reminders.push_enabled(settings),
                                                 subscriptions=len(subscriptions),
                                                 email_available=reminders.email_enabled(settings))
        claimed = db.execute(insert(AssignmentReminder).values(
            assignment_id=due.assignment_id, user_id=due.user_id, channels=",".join(channels), created_at=now,
        ).on_conflict_do_nothing().returning(AssignmentReminder.user_id)).first()
        if claimed is None:
            return False
        if reminders.EMAIL_CHANNEL in channels:
            mail_id = mail.queue_mail(db, user_id=due.user_id, template=TEMPLATE, context={
                "class_name": due.class_name, "unit_title": unit.title, "due_date": _local_due_date(due),
                "app_url": settings.public_base_url})
        db.flush()  # the mail's outbox entry is written before the subscriptions are detached
        db.expunge_all()
    if mail_id is not None:
        from workers.dispatch import dispatch_best_effort  # the worker's side: publish after commit

        dispatch_best_effort(mail.OUTBOX_KIND, mail_id)
    if reminders.PUSH_CHANNEL in channels:
        message = payload(due, unit)
        for subscription in subscriptions:
            reminders.send_push(settings, subscription, message)
    publisher.publish(due.user_id, EVENT, event_data(due, unit))
    return True
