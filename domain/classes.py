"""Teachers and their classes: a teacher (role "teacher", granted by an admin) makes a
class and hands out its invite code; a learner joins with the code and may leave.

Anyone outside a class (another teacher, a learner not in it) is told it does not
exist: NotFound, never forbidden, as for another learner's data. The class's teacher
reads a student's figures through the student's own domain functions, called with the
student's id (api/classes/routes.py); their letters only while the student shares them."""
from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.errors import Invalid, NotFound
from domain.models import ClassMembership, SchoolClass, User

TEACHER = "teacher"
CODE_BYTES = 12  # 96 random bits, url-safe: unguessable


def _not_found() -> NotFound:
    return NotFound("Class not found.", code="class_not_found")


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def require_teacher(user: User) -> User:
    """Teachers (and admins) make classes; anyone else is told nothing lives here."""
    if user.role not in (TEACHER, "admin"):
        raise NotFound("Nothing lives at this address.", code="not_found")
    return user


def create_class(db: Session, teacher: User, name: str) -> SchoolClass:
    require_teacher(teacher)
    name = name.strip()
    if not name:
        raise Invalid("A class needs a name.", code="validation_error", details={"name": ["Must not be blank."]})
    school_class = SchoolClass(teacher_id=teacher.id, name=name, invite_code=new_code())
    db.add(school_class)
    db.flush()
    return school_class


def teachers_class(db: Session, teacher: User, class_id: uuid.UUID) -> SchoolClass:
    """The class if `teacher` teaches it; NotFound for anyone else."""
    school_class = db.get(SchoolClass, class_id)
    if school_class is None or school_class.teacher_id != teacher.id:
        raise _not_found()
    return school_class


def list_classes(db: Session, user: User) -> list[SchoolClass]:
    """The classes the user teaches, then the ones they belong to, oldest first."""
    taught = select(SchoolClass).where(SchoolClass.teacher_id == user.id)
    joined = (select(SchoolClass).join(ClassMembership, ClassMembership.class_id == SchoolClass.id)
              .where(ClassMembership.user_id == user.id))
    return list(db.scalars(taught.order_by(SchoolClass.created_at))) + \
        list(db.scalars(joined.order_by(SchoolClass.created_at)))


def regenerate_code(db: Session, teacher: User, class_id: uuid.UUID) -> SchoolClass:
    school_class = teachers_class(db, teacher, class_id)
    school_class.invite_code = new_code()
    db.flush()
    return school_class


def join(db: Session, learner: User, code: str) -> SchoolClass:
    """Join the class with this code (again is a no-op). An unknown code is a 404."""
    school_class = db.scalar(select(SchoolClass).where(SchoolClass.invite_code == code.strip()))
    if school_class is None or school_class.teacher_id == learner.id:
        raise _not_found()
    if db.get(ClassMembership, (school_class.id, learner.id)) is None:
        db.add(ClassMembership(class_id=school_class.id, user_id=learner.id))
        db.flush()
    return school_class


def leave(db: Session, learner: User, class_id: uuid.UUID) -> None:
    membership = db.get(ClassMembership, (class_id, learner.id))
    if membership is None:
        raise _not_found()
    db.delete(membership)
    db.flush()


def roster(db: Session, teacher: User, class_id: uuid.UUID) -> list[tuple[User, ClassMembership]]:
    teachers_class(db, teacher, class_id)
    rows = db.execute(select(User, ClassMembership).join(ClassMembership, ClassMembership.user_id == User.id)
                      .where(ClassMembership.class_id == class_id).order_by(ClassMembership.joined_at))
    return [(user, membership) for user, membership in rows]


def remove_student(db: Session, teacher: User, class_id: uuid.UUID, user_id: uuid.UUID) -> None:
    teachers_class(db, teacher, class_id)
    membership = db.get(ClassMembership, (class_id, user_id))
    if membership is None:
        raise _not_found()
    db.delete(membership)
    db.flush()


def student_of(db: Session, teacher: User, class_id: uuid.UUID, user_id: uuid.UUID) -> uuid.UUID:
    """The student's id if they are in the teacher's class; NotFound for anyone else."""
    teachers_class(db, teacher, class_id)
    if db.get(ClassMembership, (class_id, user_id)) is None:
        raise _not_found()
    return user_id


def student(db: Session, teacher: User, class_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """The student's account if they are in the teacher's class; NotFound for anyone else."""
    return db.get(User, student_of(db, teacher, class_id, user_id))


def letters_owner(db: Session, teacher: User, class_id: uuid.UUID, user_id: uuid.UUID) -> uuid.UUID:
    """The student's id if they are in the teacher's class and share their letters with
    teachers. A student who does not is a 404 `letters_not_shared`: the teacher knows the
    student is in the class (the roster says so), so the distinct code tells nothing new,
    and it stays a 404 like every other refusal here."""
    pupil = student(db, teacher, class_id, user_id)
    if not pupil.share_letters_with_teachers:
        raise NotFound("This student does not share their letters with their teachers.", code="letters_not_shared")
    return pupil.id
