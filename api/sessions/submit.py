"""Accepting a learner's message, the same way from REST and from the socket."""
from __future__ import annotations

import logging
import uuid

import redis

from api.extensions import db
from domain import conversations, turns
from domain.config import get_settings
from domain.redis_client import get_publisher
from workers.dispatch import dispatch_best_effort

log = logging.getLogger(__name__)


def accept_message(*, user_id: uuid.UUID, session_id: str, content: str, client_message_id: str | None,
                   suggested_word_ids: list[int]) -> tuple[dict, bool]:
    """Persist the turn (with its outbox entry) and commit; then, best effort, start the
    pipeline and announce the turn. Returns (turn view, created)."""
    session = conversations.get_session(db(), user_id=user_id, session_id=session_id)
    turn, created = turns.submit_turn(
        db(), session=session, content=content.strip(), client_message_id=client_message_id,
        suggested_word_ids=suggested_word_ids, deadline_seconds=get_settings().turn_deadline_seconds,
    )
    view = turns.present_turn(turn)
    db().commit()
    if created:
        dispatch_best_effort(turns.OUTBOX_KIND, turn.id)
        try:
            get_publisher().publish(user_id, "turn_accepted", {"session_id": view["session_id"], "turn": view})
        except redis.RedisError:
            log.warning("turn_accepted for %s not published (Redis unavailable)", turn.id)
    return view, created
