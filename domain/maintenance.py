"""The sweeper (beat, every SWEEP_INTERVAL_SECONDS): gives up on work that keeps failing,
re-sends lost outbox work, finishes stalled turns, fails overdue ones, and announces
again final events a Redis blip lost."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from domain import announcements, greetings, hints, journey, outbox, session_summary, turns
from domain.db import session_scope
from domain.models import utcnow
from domain.runtime import Runtime
from domain.turn_pipeline import TurnPipeline

log = logging.getLogger(__name__)

# The final events a client counts on, announced again when their publish was lost.
ANNOUNCED = (turns.ANNOUNCED, hints.ANNOUNCED, journey.ANNOUNCED, session_summary.ANNOUNCED, greetings.ANNOUNCED)


def sweep(runtime: Runtime, pipeline: TurnPipeline, dispatch: Callable[[str, Any], Any]) -> dict[str, int]:
    """One sweep. `dispatch(kind, ref_id)` sends an outbox entry's tasks to the broker
    (best effort: an entry it could not send is due again after the interval)."""
    settings = runtime.settings
    with session_scope() as db:
        buried = outbox.bury_exhausted(db, max_attempts=settings.outbox_max_attempts)
        given_up = turns.fail_given_up_turns(db, [ref for kind, ref in buried
                                                  if kind in (turns.OUTBOX_KIND, outbox.TURN_AUDIO)])
        failed = [(turn.user_id, turns.present_turn(turn)) for turn in given_up]
    with session_scope() as db:
        due = outbox.claim_due(db, older_than_seconds=settings.outbox_republish_after_seconds)
    for kind, ref_id in due:
        dispatch(kind, ref_id)
    with session_scope() as db:
        grace = timedelta(seconds=settings.stage_lease_seconds)
        stalled = turns.stalled_ready_turn_ids(db, older_than=utcnow() - grace)
    for turn_id in stalled:
        pipeline.finalize(turn_id)
    with session_scope() as db:
        failed += [(turn.user_id, turns.present_turn(turn)) for turn in turns.fail_overdue_turns(db)]
    for user_id, view in failed:
        pipeline.announce_result(user_id, view)
    return {"buried": len(buried), "republished": len(due), "finalized": len(stalled), "failed": len(failed),
            "announced_again": _announce_again(runtime)}


def _announce_again(runtime: Runtime) -> int:
    """Publish the final events of things finished a while ago but never marked as
    announced (the publish was lost), each under its row's lock."""
    announced = 0
    finished_before = utcnow() - timedelta(seconds=announcements.ANNOUNCE_GRACE_SECONDS)
    for kind in ANNOUNCED:
        with session_scope() as db:
            for thing in announcements.unannounced(db, kind, finished_before=finished_before):
                announcements.announce(runtime.publisher, kind, thing.user_id, thing.id, kind.event_data(thing),
                                       db=db)
                announced += 1
    if announced:
        log.warning("announced %d final event(s) again whose publish was lost", announced)
    return announced
