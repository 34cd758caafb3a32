"""Announcing a final event: published once, and its mark written with the others the
process made at the same moment, on a real PostgreSQL database and Redis of their own
(no worker or sweeper watches this database)."""
from __future__ import annotations

import math
import time

import redis
from sqlalchemy import event, select, text

from domain import announcements, turns
from domain.db import get_engine
from domain.events import EventPublisher, stream_key
from domain.models import Turn, utcnow
from tests.support.waits import eventually
from tests.support.in_process import new_conversation


def _finished_turns(db_scope, count):
    with db_scope() as db:
        user, session = new_conversation(db, display_name="Announced")
        ids = []
        for index in range(count):
            submitted = turns.submit_turn(db, user_id=user.id, session_id=session.id, content=f"Phrase {index}.",
                                          client_message_id=None, suggested_word_ids=[], deadline_seconds=60)
            ids.append(submitted.turn_id)
        db.execute(text("UPDATE turns SET status = 'complete', completed_at = :now WHERE id = ANY(:ids)"),
                   {"now": utcnow(), "ids": ids})
    return user.id, ids


def test_a_burst_of_announcements_is_marked_in_one_statement_per_interval(stack, db_scope):
    user_id, turn_ids = _finished_turns(db_scope, 20)
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    publisher = EventPublisher(client, maxlen=200, ttl_seconds=600)
    marks = []

    def count_marks(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE turns SET announced_at"):
            marks.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count_marks)
    try:
        started = time.monotonic()
        for turn_id in turn_ids:
            announcements.announce(publisher, turns.ANNOUNCED, user_id, turn_id, {"turn": {"id": str(turn_id)}})
        # The writer wakes once per interval: the burst's marks span this many writes at most.
        writes = 1 + math.ceil((time.monotonic() - started) / announcements.MARK_INTERVAL_SECONDS)

        def all_marked():
            with db_scope() as db:
                return all(db.scalars(select(Turn.announced_at).where(Turn.id.in_(turn_ids))))
        eventually(all_marked, "every announced turn is marked", timeout=10)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count_marks)
    assert 1 <= len(marks) <= min(writes, len(turn_ids) - 1), \
        f"{len(marks)} mark statements for {len(turn_ids)} turns announced across {writes} writes"
    assert client.xlen(stream_key(user_id)) == len(turn_ids)


def test_a_thing_announced_again_by_the_sweeper_is_published_once(stack, db_scope):
    user_id, [turn_id] = _finished_turns(db_scope, 1)
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    publisher = EventPublisher(client, maxlen=200, ttl_seconds=600)
    announcements.announce(publisher, turns.ANNOUNCED, user_id, turn_id, {"turn": {"id": str(turn_id)}})

    def marked():
        with db_scope() as db:
            return db.scalar(select(Turn.announced_at).where(Turn.id == turn_id))
    first_mark = eventually(marked, "the worker's mark is written", timeout=10)
    # As if the mark had been lost with its process: the sweeper publishes it again, in its transaction.
    with db_scope() as db:
        db.execute(text("UPDATE turns SET announced_at = NULL WHERE id = :id"), {"id": turn_id})
        announcements.announce(publisher, turns.ANNOUNCED, user_id, turn_id, {"turn": {"id": str(turn_id)}},
                               db=db)
    assert marked() >= first_mark
    assert client.xlen(stream_key(user_id)) == 1
