"""The transactional outbox: work that must reach the broker even if the first publish
after commit did not happen (broker down, process killed, Redis restarted empty), and
the leases that make each paid model call happen once.

An entry is written with the thing it is about, stamped as published (the publish
follows the commit at once; if it fails, `unstamp` clears the stamp), and removed when
that thing is finished. A task that is about to call a model first `claim`s the entry
for a while (a lease, renewed while it works); a redelivered or re-sent task finds it
held and does nothing. The sweeper re-sends only entries whose work has not started or
whose lease ran out, and waits longer after each re-send of an entry nobody took (it
may simply be waiting in a long queue).

Work that cannot succeed stops: an entry sent or claimed OUTBOX_MAX_ATTEMPTS times
without finishing is buried (`dead_at`, with the reason) and never sent again, until an
operator revives it (`flask outbox retry ID`).

This module is the outbox's one owner: the kinds of work and the tasks each starts
(`TASKS_BY_KIND`), adding an entry, finishing it, holding it while a model is called,
re-sending what is due, burying what keeps failing, and requeueing stuck turns by hand.
(Accepting and finishing a turn write and remove its entries inside their own single
statements, domain/turns.py: one round trip each on the hot path.) Adding a feature with
background work: its module, its task names in domain/tasks.py, and one line here.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from domain import tasks
from domain.db import UNAVAILABLE_ERRORS, describe_unavailable, statement_scope
from domain.models import OutboxEntry, Turn, TurnAudio, utcnow

log = logging.getLogger(__name__)

# The kinds of work (outbox.kind), each named after the thing its ref_id points to.
TURN = "turn"  # a learner's message: its analysis, then its model-bound stages
TURN_AUDIO = "turn_audio"  # a spoken turn's recording to transcribe; then the turn's own entry (TURN) takes over
REVIEWS = "reviews"  # a finished turn's word feedback and mistakes: reviews, and the error notebook
HINT = "hint"
PENPAL = "penpal"  # a penpal reply to write
JOURNEY = "journey"  # a journey answer to score
GREETING = "greeting"  # a story session's opening line to write (ref_id: the session)
MAIL = "mail"  # an email to send (ref_id: the mail_messages row)
DATA_EXPORT = "data_export"  # a learner's archive to build (ref_id: the data_exports row)
ANKI_IMPORT = "anki_import"  # a large Anki or CSV import waiting for its task (ref_id: the import)

# What each kind starts (a turn's analysis then hands over to its model work), and
# whether the task accepts `known`: inputs the sender already has, so the task need not
# read them back from the database (the sweeper, which has only the id, sends none).
TASKS_BY_KIND: dict[str, tuple[tuple[str, bool], ...]] = {
    TURN: ((tasks.TURN_ANALYSE, True),),
    TURN_AUDIO: ((tasks.TURN_TRANSCRIBE, False),),
    HINT: ((tasks.HINTS_GENERATE, False),),
    REVIEWS: ((tasks.SRS_CONVERSATION_REVIEWS, False),),
    PENPAL: ((tasks.PENPAL_ANALYSE, False),),
    JOURNEY: ((tasks.JOURNEY_ANALYSE, False),),
    GREETING: ((tasks.SESSIONS_GREET, False),),
    MAIL: ((tasks.MAIL_SEND, False),),
    DATA_EXPORT: ((tasks.DATA_EXPORT_BUILD, False),),
    ANKI_IMPORT: ((tasks.ANKI_IMPORT, False),),
}
# The values of turns.status (the table's check constraint): only `pending` is unfinished.
UNFINISHED_TURN_STATUSES = ("pending",)

_outbox = OutboxEntry.__table__
# (Bind names differ from the column names: an UPDATE reserves those for its SET clause.)
_entry = and_(_outbox.c.kind == bindparam("entry_kind"), _outbox.c.ref_id == bindparam("entry_ref_id"))
_free = and_(_outbox.c.dead_at.is_(None),
             or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < bindparam("now")))
# Built once: they run for every turn.
_REMOVE = delete(_outbox).where(_outbox.c.kind == bindparam("kind"), _outbox.c.ref_id.in_(bindparam("ref_ids")))
_CLAIM = (update(_outbox).where(_entry, _free)
          .values(lease_until=bindparam("held_until"), claims=_outbox.c.claims + 1).returning(_outbox.c.claims))
_RENEW = (update(_outbox).where(_entry, _outbox.c.claims == bindparam("claim"))
          .values(lease_until=bindparam("held_until")))
_RELEASE = (update(_outbox).where(_entry, _outbox.c.claims == bindparam("claim"))
            .values(lease_until=None))
_UNSTAMP = update(_outbox).where(_entry, _outbox.c.lease_until.is_(None)).values(last_published_at=None)
# Each re-send of an entry nobody took doubles the wait before the next (up to 32 times).
_BACKOFF = text("make_interval(secs => :after * power(2, least(greatest(outbox.publish_attempts, 1) - 1, 5)))")


def add(db: Session, kind: str, ref_id: uuid.UUID, now: datetime) -> OutboxEntry:
    """Add an entry in the caller's transaction, stamped as published now (its publish
    follows the commit)."""
    entry = OutboxEntry(kind=kind, ref_id=ref_id, created_at=now, last_published_at=now, publish_attempts=1,
                        claims=0)
    db.add(entry)
    return entry


def unstamp(db: Session, *, kind: str, ref_id: uuid.UUID | str) -> None:
    """The publish after commit failed: the next sweep re-sends the entry."""
    db.execute(_UNSTAMP, {"entry_kind": kind, "entry_ref_id": ref_id})


def finish(db: Session, *, kind: str, ref_ids: list[uuid.UUID]) -> None:
    """The work is done (or nothing is left to do): its entries go."""
    db.execute(_REMOVE, {"kind": kind, "ref_ids": ref_ids})


def claim(db: Session, *, kind: str, ref_id: uuid.UUID, lease_seconds: float) -> int | None:
    """Hold the entry's work for `lease_seconds`: the claim's number, or None when the
    work is done (no entry) or another delivery holds it."""
    now = utcnow()
    row = db.execute(_CLAIM, {"entry_kind": kind, "entry_ref_id": ref_id, "now": now,
                              "held_until": now + timedelta(seconds=lease_seconds)}).first()
    return row[0] if row is not None else None


def renew(db: Session, *, kind: str, ref_id: uuid.UUID, claim: int, lease_seconds: float) -> bool:
    """Extend our hold; False if the work is done or another claim took it over."""
    result = db.execute(_RENEW, {"entry_kind": kind, "entry_ref_id": ref_id, "claim": claim,
                                 "held_until": utcnow() + timedelta(seconds=lease_seconds)})
    return result.rowcount == 1


def release(db: Session, *, kind: str, ref_id: uuid.UUID, claim: int) -> None:
    """Let go of unfinished work (it failed, or must wait): the sweeper re-sends it."""
    db.execute(_RELEASE, {"entry_kind": kind, "entry_ref_id": ref_id, "claim": claim})


class Lease:
    """Keeps a claim alive while its holder works: renewed every third of its length by a
    background thread (a greenlet under gevent). `lost` is set when the renewal finds the
    claim taken over; the holder's writes are fenced by the claim number anyway.

        with Lease(kind, ref_id, claim, seconds) as lease:
            ...  # calls that may outlast `seconds`
    """

    def __init__(self, kind: str, ref_id: uuid.UUID, claim: int, seconds: float):
        self.kind, self.ref_id, self.claim, self.seconds = kind, ref_id, claim, seconds
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{kind}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()

    def _keep(self) -> None:
        while not self._done.wait(self.seconds / 3):
            try:
                with statement_scope() as db:
                    held = renew(db, kind=self.kind, ref_id=self.ref_id, claim=self.claim,
                                 lease_seconds=self.seconds)
            except Exception:  # the database is away for a moment: try again at the next tick
                log.warning("could not renew the lease of %s %s", self.kind, self.ref_id, exc_info=True)
                continue
            if not held:
                self.lost.set()
                return


@contextmanager
def holding(kind: str, ref_id: uuid.UUID, lease_seconds: float) -> Iterator[int | None]:
    """Hold an entry's work while the block calls a model: the claim's number, or None
    when another delivery holds it or it is done (then do nothing). Work left unfinished
    is let go afterwards, for the sweeper to send again."""
    with statement_scope() as db:
        number = claim(db, kind=kind, ref_id=ref_id, lease_seconds=lease_seconds)
    if number is None:
        yield None
        return
    with Lease(kind, ref_id, number, lease_seconds):
        yield number
    try:
        with statement_scope() as db:  # a no-op when the work was stored (its entry is gone)
            release(db, kind=kind, ref_id=ref_id, claim=number)
    except UNAVAILABLE_ERRORS as error:  # the lease runs out instead; the work is not failed over it
        log.warning("could not let go of %s %s (%s)", kind, ref_id, describe_unavailable(error))


def claim_due(db: Session, *, older_than_seconds: float, limit: int = 200) -> list[tuple[str, uuid.UUID]]:
    """Entries to send again, stamped as published now: not held by anyone (never
    claimed, released, or their lease ran out) and either never published, not
    published since their lease ran out, or published longer ago than the backoff.

    SKIP LOCKED lets two sweepers run at once without sending the same entry twice.
    """
    now = utcnow()
    backoff_passed = _outbox.c.last_published_at + _BACKOFF.bindparams(after=older_than_seconds) < now
    due = (
        select(_outbox.c.id)
        .where(_outbox.c.dead_at.is_(None), or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < now),
               or_(_outbox.c.last_published_at.is_(None), _outbox.c.last_published_at < _outbox.c.lease_until,
                   backoff_passed))
        .order_by(_outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = db.execute(
        update(_outbox)
        .where(_outbox.c.id.in_(due))
        .values(last_published_at=now, publish_attempts=_outbox.c.publish_attempts + 1)
        .returning(_outbox.c.kind, _outbox.c.ref_id)
    ).all()
    return [(kind, ref_id) for kind, ref_id in rows]


def bury_exhausted(db: Session, *, max_attempts: int, limit: int = 200) -> list[tuple[str, uuid.UUID]]:
    """Give up on entries sent or claimed `max_attempts` times without finishing (and not
    held now): they are marked dead, with the reason, and never sent again. Returns them."""
    now = utcnow()
    sent_out = _outbox.c.publish_attempts >= max_attempts
    claimed_out = _outbox.c.claims - _outbox.c.claims_at_retry >= max_attempts
    exhausted = (
        select(_outbox.c.id)
        .where(_outbox.c.dead_at.is_(None), or_(sent_out, claimed_out),
               or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < now))
        .order_by(_outbox.c.id).limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    )
    reason = text(f"format('sent %s and started %s times without finishing (OUTBOX_MAX_ATTEMPTS {int(max_attempts)})', "
                  "outbox.publish_attempts, outbox.claims - outbox.claims_at_retry)")
    rows = db.execute(
        update(_outbox).where(_outbox.c.id.in_(exhausted)).values(dead_at=now, dead_reason=reason)
        .returning(_outbox.c.kind, _outbox.c.ref_id)
    ).all()
    for kind, ref_id in rows:
        log.error("gave up on %s %s after %d attempts; `flask outbox retry` sends it again", kind, ref_id, max_attempts)
    return [(kind, ref_id) for kind, ref_id in rows]


def entries(db: Session, *, dead: bool, limit: int = 100) -> list[OutboxEntry]:
    """Entries for operators: the dead ones, or those still waiting, oldest first."""
    alive_or_dead = OutboxEntry.dead_at.is_not(None) if dead else OutboxEntry.dead_at.is_(None)
    return list(db.scalars(select(OutboxEntry).where(alive_or_dead).order_by(OutboxEntry.id).limit(limit)))


def revive(db: Session, entry_id: int) -> OutboxEntry | None:
    """Put a dead entry back: the next sweep sends it, and it gets OUTBOX_MAX_ATTEMPTS
    fresh attempts. None when there is no dead entry with that id."""
    entry = db.scalar(select(OutboxEntry).where(OutboxEntry.id == entry_id, OutboxEntry.dead_at.is_not(None))
                      .with_for_update())
    if entry is None:
        return None
    entry.dead_at = entry.dead_reason = entry.last_published_at = entry.lease_until = None
    entry.publish_attempts = 0
    entry.claims_at_retry = entry.claims  # claim numbers only grow: they fence old holders' writes
    return entry


# --- stuck turns, by hand (`flask turns requeue --stuck`) -------------------------------

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
    pipeline again, the way the sweeper re-publishes its outbox (domain/maintenance.py):

    1. in one transaction, lock the stuck turns (SKIP LOCKED: a turn being finished or
       failed right now is left to that), make sure each has its outbox entry (a missing
       one is written again, so the sweeper keeps retrying if this publish is lost too),
       and stamp the entries as published now;
    2. after the commit, `dispatch(TURN, turn_id)` each: the stage tasks are
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
                   Turn.created_at < now - timedelta(seconds=older_than_seconds),
                   # a spoken turn still waiting for its transcript: its `turn_audio` entry has its work
                   ~exists().where(TurnAudio.turn_id == Turn.id))
            .order_by(Turn.created_at, Turn.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        ids = [turn_id for turn_id, _ in stuck]
        report.overdue = sum(1 for _, deadline_at in stuck if deadline_at < now)
        if ids:
            recreated = set(db.scalars(
                insert(OutboxEntry)
                .values([{"kind": TURN, "ref_id": turn_id, "created_at": now, "last_published_at": now,
                          "publish_attempts": 1} for turn_id in ids])
                .on_conflict_do_nothing(constraint="uq_outbox_kind_ref")
                .returning(OutboxEntry.ref_id)
            ))
            report.outbox_recreated = len(recreated)
            existing = [turn_id for turn_id in ids if turn_id not in recreated]
            if existing:
                db.execute(update(OutboxEntry)
                           .where(OutboxEntry.kind == TURN, OutboxEntry.ref_id.in_(existing))
                           .values(last_published_at=now, publish_attempts=OutboxEntry.publish_attempts + 1))
    for turn_id in ids:
        try:
            dispatch(TURN, turn_id)
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
    result = db.execute(delete(OutboxEntry).where(OutboxEntry.kind == TURN, ~still_pending))
    return result.rowcount
