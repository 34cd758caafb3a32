"""Sending outbox work to the broker. Used right after commit (best effort) and by the
sweeper (for whatever that first publish missed)."""
from __future__ import annotations

import json
import logging
import uuid

import redis

from domain import logs, outbox, tasks
from domain.db import statement_scope
from domain.errors import Unavailable
from domain.redis_client import get_redis
from workers.celery_app import celery

log = logging.getLogger(__name__)


def dispatch(kind: str, ref_id: uuid.UUID | str, known: dict | None = None) -> None:
    """Publish the tasks for one outbox entry (outbox.TASKS_BY_KIND), in one broker round
    trip (a pipeline); raises if the broker is unreachable."""
    with celery.producer_or_acquire() as producer, producer.batch():
        for name, takes_known in outbox.TASKS_BY_KIND[kind]:
            kwargs = {"known": known} if known and takes_known else {}
            _send_task(name, [str(ref_id)], kwargs, producer=producer)


def dispatch_best_effort(kind: str, ref_id: uuid.UUID | str, known: dict | None = None) -> bool:
    """Publish now if the broker answers; otherwise the outbox sweeper will (the entry,
    stamped as published when it was written, is unstamped so the next sweep sends it)."""
    try:
        dispatch(kind, ref_id, known)
        return True
    except Exception:  # any broker failure: the outbox entry keeps the work safe
        log.warning("broker unavailable; %s %s left to the outbox sweeper", kind, ref_id, exc_info=True)
        try:
            with statement_scope() as db:
                outbox.unstamp(db, kind=kind, ref_id=ref_id)
        except Exception:  # the database too: the sweeper re-sends it after its backoff
            log.warning("could not unstamp %s %s", kind, ref_id, exc_info=True)
        return False


def hint_after_speech(session_id: uuid.UUID, segment_id: int, *, delay: float) -> None:
    """Check, `delay` seconds from now, whether the learner is still quiet and deserves a hint.
    (A short countdown: long ones are what DESIGN §4 forbids on a Redis broker.)"""
    _send_task(tasks.HINTS_AFTER_SPEECH, [str(session_id), segment_id], {}, countdown=delay)


def analyse_now(text: str, language: str, *, native_language: str | None, timeout: float) -> dict:
    """Run the grammar analysis on an `nlp` worker and wait for its answer (the web
    processes do not load spaCy). Raises Unavailable if no worker answers in `timeout`."""
    reply_key = f"parlons:analysis:{uuid.uuid4().hex}"
    try:
        _send_task(tasks.LANGUAGE_ANALYSE, [text, language, reply_key, native_language], {}, expires=timeout)
        answer = get_redis().blpop([reply_key], timeout=timeout)
    except redis.RedisError:
        answer = None
    if answer is None:
        raise Unavailable("The language analysis is unavailable right now; try again shortly.",
                          code="language_unavailable")
    return json.loads(answer[1])


def send(name: str, args: list, kwargs: dict) -> None:
    """Hand one task to its queue (raises if the broker is unreachable: the caller's own
    task then fails, and the outbox sweeper starts the turn's work again)."""
    _send_task(name, args, kwargs)


_NO_REPLY = "parlons.no-reply"  # a task message's reply queue: never consumed, no task answers


class _Sent:
    """What a publish returns here: a task id, nothing to wait for (no task stores a
    result). Celery's AsyncResult would build a result backend, and the reply-to id,
    once per thread: under gevent, once per request or greenlet (75 µs each)."""

    __slots__ = ("id", "ignored")  # Celery sets `ignored` (ignore_result) after building it

    def __init__(self, task_id: str):
        self.id = task_id


def _send_task(name: str, args: list, kwargs: dict, **options) -> None:
    """The one place tasks are published. Celery shows `argsrepr`/`kwargsrepr` (log lines,
    task events, Flower) instead of the arguments: ids only, texts redacted. declare=[]:
    the workers declare their queues; checking again costs every publish. No result, no
    reply queue, no trail on the task that publishes (see _Sent)."""
    argsrepr, kwargsrepr = logs.task_arguments_repr(args, kwargs)
    celery.send_task(name, args=args, kwargs=kwargs, retry=False, declare=[], argsrepr=argsrepr,
                     kwargsrepr=kwargsrepr, ignore_result=True, result_cls=_Sent, reply_to=_NO_REPLY,
                     add_to_parent=False, **options)
