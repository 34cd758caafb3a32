"""What operators and admins do: roles, accounts created or reset by hand, and lists
across learners. (Stuck turns are requeued by the outbox, domain/outbox.py.)

Used by the Flask CLI (api/cli.py) and the admin API (api/admin/). Nothing here is
reachable by a learner: the API checks `require_admin` first.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from domain import accounts, turns
from domain.errors import Invalid, NotFound
from domain.models import Turn, User

ROLES = ("learner", "teacher", "admin")
ADMIN = "admin"
# The values of turns.status (the table's check constraint).
TURN_STATUSES = ("pending", "complete", "failed")


# --- who may do this ------------------------------------------------------------------

def require_admin(user: User) -> User:
    """The user if they are an admin. Anyone else is told that nothing lives here, as
    for an unknown address: the admin endpoints are not revealed to learners (as another
    learner's data is invisible, never forbidden)."""
    if user.role != ADMIN:
        raise NotFound("Nothing lives at this address.", code="not_found")
    return user


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}.", code="invalid_role",
                      details={"role": [f"Must be one of: {', '.join(ROLES)}."]})
    return role


# --- accounts -------------------------------------------------------------------------

def create_user(db: Session, *, role: str = "learner", **fields: Any) -> User:
    """An account made by an operator: the fields as registration takes them (already
    validated like a registration body), plus the role. Conflict if the email is taken.
    The operator vouches for the address: it counts as verified."""
    return accounts.register(db, role=validate_role(role), verified=True, **fields)


def get_user_by_email(db: Session, email: str) -> User:
    user = accounts.find_by_email(db, email)
    if user is None:
        raise NotFound(f"No account with the email {accounts.normalize_email(email)}.", code="user_not_found")
    return user


def set_role(db: Session, *, email: str, role: str) -> tuple[User, str]:
    """Give the account `role`; returns the user and the role they had. Takes effect on
    their next request: the role is read from the database, not from the token."""
    role = validate_role(role)
    user = get_user_by_email(db, email)
    previous, user.role = user.role, role
    return user, previous


def reset_password(db: Session, *, email: str, new_password: str) -> User:
    """Set a new password without the current one (an operator's reset)."""
    user = get_user_by_email(db, email)
    accounts.set_password(user, new_password)
    return user


def list_users(db: Session, *, role: str | None = None, page: int = 1, per_page: int = 50
               ) -> tuple[list[User], int]:
    """Accounts, newest first, optionally of one role; and how many there are in all."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == validate_role(role))
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.order_by(User.created_at.desc(), User.id).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


# --- turns ----------------------------------------------------------------------------

def list_turns(db: Session, *, status: str | None = None, page: int = 1, per_page: int = 20
               ) -> tuple[list[dict[str, Any]], int]:
    """Every learner's turns, newest first, as GET /turns/{id} shows them plus `user_id`."""
    query = select(Turn)
    if status is not None:
        if status not in TURN_STATUSES:
            raise Invalid(f"Unknown turn status {status!r}.", code="invalid_status",
                          details={"status": [f"Must be one of: {', '.join(TURN_STATUSES)}."]})
        query = query.where(Turn.status == status)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.scalars(query.options(selectinload(Turn.messages)).order_by(Turn.created_at.desc(), Turn.id.desc())
                      .offset((page - 1) * per_page).limit(per_page))
    return [{**turns.present_turn(turn), "user_id": str(turn.user_id)} for turn in rows], total
