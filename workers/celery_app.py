"""The Celery application. Start a worker with `celery -A workers.celery_app worker -Q <queue>`.

Queues, by what their tasks spend:
- `llm`: waiting on the network — moderation, the model's grammar pass and the reply of
  every turn, hints, summaries, penpal letters, journey scoring. A gevent pool, where a
  waiting call costs a greenlet, not a process: hundreds wait at once.
- `nlp`: CPU — spaCy and the rules, for turns, letters, answers and /language/check.
  Prefork, a process per core.
- `default`: short database work — sweeping, delivering penpal replies, conversation
  reviews, the nightly FSRS fit. Prefork.
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import time
import uuid

from celery import Celery, Task, signals
from celery.schedules import crontab
from celery.worker.request import Request
from kombu.transport import TRANSPORT_ALIASES

from domain import db as database
from domain import tasks
from domain.config import ConfigError, get_settings, load_settings

# Flower runs this module too (`celery -A workers.celery_app flower`): in production it
# must not start without a login of its own (Flower itself would serve without any).
if "flower" in sys.argv[1:]:
    try:
        load_settings(for_flower=True)
    except ConfigError as error:
        raise SystemExit(str(error)) from None
settings = get_settings()
# Flower turns the workers' task events on every few seconds unless told not to; it is
# started with this app (`celery -A workers.celery_app flower`), so this reaches it.
if not settings.task_events:
    os.environ.setdefault("FLOWER_ENABLE_EVENTS", "false")


def _direct(queue: str) -> dict[str, str]:
    # Through the anonymous exchange: on a Redis broker a named exchange costs a
    # binding lookup (SMEMBERS) before every publish; this is one LPUSH.
    return {"queue": queue, "exchange": "", "routing_key": queue}


# Our Redis transport (workers/broker.py) under kombu's own name for Redis, so that the
# broker URL stays redis://... everywhere: Flower reads queue lengths by that scheme.
TRANSPORT_ALIASES["redis"] = "workers.broker:Transport"


class PrivateRequest(Request):
    """A task as `celery inspect active|reserved|query_task` (and so Flower's worker pages)
    report it: with the redacted argument text given at publish (workers/dispatch.py),
    never the arguments themselves, which may carry a learner's text."""

    def info(self, safe: bool = False) -> dict:
        return super().info(safe=True)


class ParlonsTask(Task):
    Request = "workers.celery_app:PrivateRequest"
    # A database outage fails tasks by the hundred; they are expected failures (the outbox
    # sweeper sends the work again), logged as one warning each (below), no stack trace.
    throws = database.UNAVAILABLE_ERRORS


celery = Celery("parlons", broker=settings.celery_broker_url, task_cls=ParlonsTask,
                include=["workers.turns", "workers.language", "workers.hints", "workers.srs",
                         "workers.penpal", "workers.journey", "workers.maintenance", "workers.sessions",
                         "workers.progress", "workers.mail", "workers.data_export", "workers.anki",
                         "workers.reminders", "workers.assignments"])
celery.conf.update(
    task_default_queue="default",
    task_routes={name: _direct(queue) for name, queue in tasks.QUEUES.items()},
    # A task is acknowledged only when it has finished: a worker's warm shutdown puts back
    # what it took and did not finish, and a pool child that dies mid-task has its task
    # requeued. A worker killed outright loses what it held, and the outbox sends it again
    # (below). Together with the claims in domain/turns.py this gives exactly-once results.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    # Flower lists tasks from these events; they cost every worker three publishes per
    # task and Flower their reading (README: "CPU per turn"). No "task-sent" events:
    # they would cost the API an extra publish per task on the request path.
    worker_send_task_events=settings.task_events,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        # No redelivery by the broker: a task is taken off its list when a worker takes it.
        # What must not be lost has an outbox entry, which the sweeper sends again when its
        # work was not started or its lease ran out (domain/outbox.py); the rest is
        # periodic (beat sends it again) or best effort (an achievements check: the next
        # one catches up). Emulating acks on Redis cost every task two more round trips
        # (record it as unacknowledged, then clear it) and each worker a periodic scan.
        "ack_emulation": False,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    },
    beat_schedule={
        "sweep-turns": {"task": tasks.SWEEP, "schedule": settings.sweep_interval_seconds},
        # Penpal replies are rows with a due time, delivered by this job: never a task
        # with an ETA hours ahead, which a Redis broker would redeliver. A run that waited
        # longer than the interval in the queue is dropped: the next one does its work.
        "deliver-penpal-replies": {"task": tasks.PENPAL_DELIVER, "schedule": settings.penpal_delivery_interval_seconds,
                                   "options": {"expires": max(settings.penpal_delivery_interval_seconds, 1.0)}},
        "fit-fsrs-parameters": {"task": tasks.SRS_FIT_ALL,
                                "schedule": crontab(hour=settings.fsrs_optimizer_hour_utc, minute=0)},
        # Sessions idle past SESSION_IDLE_END_MINUTES are ended with their summary.
        "end-idle-sessions": {"task": tasks.SESSIONS_END_IDLE, "schedule": settings.session_idle_check_seconds,
                              "options": {"expires": max(settings.session_idle_check_seconds, 1.0)}},
        # Every hour: a learner's week ends at Monday 00:00 in their own time zone.
        "weekly-reports": {"task": tasks.WEEKLY_REPORTS, "schedule": crontab(minute=1)},
        # Streak reminders at each learner's local hour; a run that waited past the interval is dropped.
        "streak-reminders": {"task": tasks.REMINDERS_CHECK, "schedule": settings.reminder_check_interval_seconds,
                             "options": {"expires": max(settings.reminder_check_interval_seconds, 1.0)}},
        # assignment_due reminders, at the streak reminders' interval.
        "assignment-reminders": {"task": tasks.ASSIGNMENTS_REMIND,
                                 "schedule": settings.reminder_check_interval_seconds,
                                 "options": {"expires": max(settings.reminder_check_interval_seconds, 1.0)}},
    },
    worker_hijack_root_logger=False,
)


@signals.setup_logging.connect
def _json_logs(loglevel: int | str | None = None, **_: object) -> None:
    # Connected, this replaces Celery's own logging setup: JSON lines at the --loglevel given.
    from domain import logs

    logs.configure(loglevel or settings.log_level, task_lines=settings.log_tasks)


@signals.before_task_publish.connect
def _carry_log_context(headers: dict, **_: object) -> None:
    """A task carries the log context (request id, learner...) of whoever enqueued it."""
    from domain import logs

    headers["parlons_context"] = logs.context()


@signals.task_prerun.connect
def _task_started(task, args: tuple = (), **_: object) -> None:
    from domain import logs

    carried = getattr(task.request, "parlons_context", None) or {}
    # A task's first argument names what it works on (a turn, a letter...): logged when it
    # is an id. Other first arguments (language.analyse's text) are never logged.
    subject_id = args[0] if args and isinstance(args[0], str) and _is_uuid(args[0]) else None
    subject = {"turn_id" if task.name.startswith("turns.") else "ref_id": subject_id} if subject_id else {}
    logs.reset(**{**carried, "task": task.name, "task_id": task.request.id, **subject})
    task.request.parlons_started = time.perf_counter()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


@signals.task_failure.connect
def _database_unavailable(sender=None, exception: BaseException | None = None, **_: object) -> None:
    if exception is not None and database.is_unavailable(exception):
        logging.getLogger(__name__).warning("database unavailable: %s", database.describe_unavailable(exception))


@signals.task_postrun.connect
def _task_finished(task, state: str | None = None, **_: object) -> None:
    from domain import metrics

    outcome = {"SUCCESS": "success", "RETRY": "retry"}.get(state or "", "failure")
    metrics.TASKS.labels(task.name, outcome).inc()
    started = getattr(task.request, "parlons_started", None)
    if started is not None:
        metrics.TASK_SECONDS.labels(task.name).observe(time.perf_counter() - started)


@signals.worker_ready.connect
def _freeze_startup_objects(**_: object) -> None:
    # What is loaded by now (the code, spaCy's model, the lexicon) lives as long as the
    # process: out of the collector's reach, a full collection under load scans only what
    # came since. Before, each took ~100 ms on `nlp` and `llm` (a few per thousand turns).
    gc.freeze()


@signals.worker_process_init.connect
def _fresh_connections_after_fork(**_: object) -> None:
    # Superset's rule: nothing opened by the parent is used across a fork.
    from domain.db import dispose_engine
    from domain.llm.chain import get_chain
    from domain.quotas import get_quotas
    from domain.redis_client import reset_after_fork
    from workers.runtime import runtime, turn_pipeline

    dispose_engine()
    reset_after_fork()
    get_chain.cache_clear()
    get_quotas.cache_clear()
    runtime.cache_clear()
    turn_pipeline.cache_clear()
