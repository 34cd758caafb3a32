"""What operators and admins do: roles, accounts created or reset by hand, lists across
learners, and stuck turns sent through the pipeline again.

Used by the Flask CLI (api/cli.py) and the admin API (api/admin/). Nothing here is
reachable by a learner: the API checks `require_admin` first.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from domain import accounts, turns
from domain.errors import Invalid, NotFound
from domain.models import OutboxEntry, Turn, User, utcnow

ROLES = ("learner", "admin")
ADMIN = "admin"
# The values of turns.status (the table's check constraint): only `pending` is unfinished.
TURN_STATUSES = ("pending", "complete", "failed")
UNFINISHED_TURN_STATUSES = ("pending",)


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
    validated like a registration body), plus the role. Conflict if the email is taken."""
    return accounts.register(db, role=validate_role(role), **fields)


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


@dataclass
class RequeueReport:
    requeued: list[uuid.UUID] = field(default_factory=list)  # published again, oldest first
    outbox_recreated: int = 0  # of those, how many had lost their outbox entry
    overdue: int = 0  # of those, how many were already past their deadline
    unpublished: list[uuid.UUID] = field(default_factory=list)  # the broker refused these (the outbox keeps them)
    pruned: int = 0  # outbox entries of turns no longer pending, removed


def requeue_stuck_turns(scope: Callable[[], AbstractContextManager[Session]], dispatch: Callable[[str, uuid.UUID], Any],
                        *, older_than_seconds: float, limit: int = 1000) -> RequeueReport:
    """Send the work of unfinished turns older than `older_than_seconds` through the
    pipeline again, the way the sweeper re-publishes its outbox (`Pipeline.sweep`):

    1. in one transaction, lock the stuck turns (SKIP LOCKED: a turn being finished or
       failed right now is left to that), make sure each has its outbox entry (a missing
       one is written again, so the sweeper keeps retrying if this publish is lost too),
       and stamp the entries as published now;
    2. after the commit, `dispatch(turns.OUTBOX_KIND, turn_id)` each: the stage tasks are
       idempotent (each result is stored by a claim), so an extra publish costs a little
       work and never a duplicate result;
    3. remove turn entries whose turn is no longer pending. Finishing a turn removes its
       entry, but a turn finished at the very moment its entry was written again (by
       step 1) could leave one behind, which the sweeper would re-publish for ever.

    `scope()` is a transaction scope such as domain.db.session_scope. A turn past its
    deadline is sent too: with a worker to take it, it completes (the reply goes
    straight to the offline provider); with beat running, the sweeper may fail it first.
    """
    report = RequeueReport()
    with scope() as db:
        now = utcnow()
        stuck = db.execute(
            select(Turn.id, Turn.deadline_at)
            .where(Turn.status.in_(UNFINISHED_TURN_STATUSES),
                   Turn.created_at < now - timedelta(seconds=older_than_seconds))
            .order_by(Turn.created_at, Turn.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        ids = [turn_id for turn_id, _ in stuck]
        report.overdue = sum(1 for _, deadline_at in stuck if deadline_at < now)
        if ids:
            recreated = set(db.scalars(
                insert(OutboxEntry)
                .values([{"kind": turns.OUTBOX_KIND, "ref_id": turn_id, "created_at": now, "last_published_at": now,
                          "publish_attempts": 1} for turn_id in ids])
                .on_conflict_do_nothing(constraint="uq_outbox_kind_ref")
                .returning(OutboxEntry.ref_id)
            ))
            report.outbox_recreated = len(recreated)
            existing = [turn_id for turn_id in ids if turn_id not in recreated]
            if existing:
                db.execute(update(OutboxEntry)
                           .where(OutboxEntry.kind == turns.OUTBOX_KIND, OutboxEntry.ref_id.in_(existing))
                           .values(last_published_at=now, publish_attempts=OutboxEntry.publish_attempts + 1))
    for turn_id in ids:
        try:
            dispatch(turns.OUTBOX_KIND, turn_id)
        except Exception:  # the broker is away: the entry, stamped now, is due again for the sweeper
            report.unpublished.append(turn_id)
        else:
            report.requeued.append(turn_id)
    with scope() as db:
        report.pruned = prune_finished_turn_entries(db)
    return report


def prune_finished_turn_entries(db: Session) -> int:
    """Remove turn outbox entries whose turn is finished or gone (their tasks would do nothing)."""
    still_pending = exists().where(Turn.id == OutboxEntry.ref_id, Turn.status.in_(UNFINISHED_TURN_STATUSES))
    result = db.execute(delete(OutboxEntry).where(OutboxEntry.kind == turns.OUTBOX_KIND, ~still_pending))
    return result.rowcount
