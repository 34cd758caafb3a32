"""Prometheus metrics for the web and the workers.

Every process records its samples; GET /metrics (web) shows them. With
PROMETHEUS_MULTIPROC_DIR set (by `make run`, the deployment files and the test stack),
each process — every gunicorn worker, every Celery pool process — writes its samples to
files in that folder and /metrics adds them up, so the figures are the whole system's,
not one process's. The folder must be emptied when the processes (re)start together and
shared by all of them, so on one host. The backlogs (outbox, penpal replies) are read
from the database at scrape time, and the Celery queues' depths from the broker: where
work waits when the system is behind.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import redis
from kombu.transport.redis import PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from domain.config import get_settings

log = logging.getLogger(__name__)


def _process_id(pid: int | None = None) -> str:
    """Names this process's metric files. Containers sharing the folder reuse the same
    pids, so the host name comes first (without "_", which splits the file names)."""
    return f"{socket.gethostname().replace('_', '-')}-{pid or os.getpid()}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before any metric is made
    values.ValueClass = values.MultiProcessValue(_process_id)
    # Live gauges under this process's name can only be a dead predecessor's (a container
    # restarted with the same host name and pid): its calls in flight are not ours.
    multiprocess.mark_process_dead(_process_id())

# Request and task latencies run from milliseconds (a turn's acknowledgement) to a model's minute.
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUEST_SECONDS = Histogram("parlons_http_request_duration_seconds", "HTTP requests by endpoint and status",
                                 ["endpoint", "method", "status"], buckets=_SECONDS)
TURNS = Counter("parlons_turns_total", "Finished turns", ["status", "degraded"])
TURN_STAGE_SECONDS = Histogram("parlons_turn_stage_seconds",
                               "Time from a turn's acceptance to a stage: reply_started, complete", ["stage"],
                               buckets=_SECONDS)
LLM_CALLS = Counter("parlons_llm_calls_total", "Calls to model providers", ["provider", "kind", "outcome"])
LLM_FALLBACKS = Counter("parlons_llm_fallbacks_total", "A provider failed and the next one answered instead",
                        ["from_provider", "to_provider"])
LLM_RETRIES = Counter("parlons_llm_retries_total", "Requests to a provider asked again after a retryable failure",
                      ["provider", "reason"])
LLM_CALL_SECONDS = Histogram("parlons_llm_call_seconds", "Model calls' duration", ["provider", "kind"],
                             buckets=_SECONDS)
LLM_CALLS_IN_FLIGHT = Gauge("parlons_llm_calls_in_flight", "Model calls started and not finished yet",
                            ["provider", "kind"], multiprocess_mode="livesum")
TASKS = Counter("parlons_tasks_total", "Celery tasks run", ["task", "outcome"])
TASK_SECONDS = Histogram("parlons_task_seconds", "Celery tasks' duration", ["task"], buckets=_SECONDS)
WEBSOCKETS_OPEN = Gauge("parlons_websockets_open", "Open websockets", multiprocess_mode="livesum")
EVENTS_PUBLISHED = Counter("parlons_events_published_total", "Events published to learners", ["type"])


@contextmanager
def llm_call(provider: str, kind: str) -> Iterator[None]:
    """Count and time one call to a provider (`kind`: reply, json, moderation, realtime);
    an exception is an error. The call is in flight until it ends however it ends (a
    stream abandoned mid-way, a greenlet killed), so the gauge never drifts."""
    in_flight = LLM_CALLS_IN_FLIGHT.labels(provider, kind)
    in_flight.inc()
    started = time.perf_counter()
    try:
        yield
    except Exception:
        LLM_CALLS.labels(provider, kind, "error").inc()
        raise
    finally:
        in_flight.dec()
        LLM_CALL_SECONDS.labels(provider, kind).observe(time.perf_counter() - started)
    LLM_CALLS.labels(provider, kind, "ok").inc()


class _Backlogs:
    """Gauges read from the database when /metrics is scraped."""

    def __init__(self, connect) -> None:
        self._connect = connect

    def collect(self):
        outbox = GaugeMetricFamily("parlons_outbox_backlog", "Outbox entries not finished yet", labels=["kind"])
        oldest = GaugeMetricFamily("parlons_outbox_oldest_age_seconds",
                                   "Age of the oldest outbox entry not finished yet", labels=["kind"])
        dead = GaugeMetricFamily("parlons_outbox_dead", "Outbox entries given up on (flask outbox list --dead)",
                                 labels=["kind"])
        waiting = GaugeMetricFamily("parlons_penpal_replies_waiting", "Penpal replies not delivered yet")
        overdue = GaugeMetricFamily("parlons_penpal_replies_overdue", "Penpal replies past their due time")
        with self._connect() as db:
            # Ages against the database's clock, which wrote none of them: a small skew from
            # the app hosts' clocks is clamped, never shown as a negative age.
            for kind, count, age, given_up in db.execute(text(
                    "SELECT kind, count(*) FILTER (WHERE dead_at IS NULL), "
                    "coalesce(greatest(extract(epoch FROM now() - min(created_at) FILTER (WHERE dead_at IS NULL)), 0), "
                    "0), "
                    "count(*) FILTER (WHERE dead_at IS NOT NULL) FROM outbox GROUP BY kind")):
                outbox.add_metric([kind], count)
                oldest.add_metric([kind], float(age))
                dead.add_metric([kind], given_up)
            pending, late = db.execute(text(
                "SELECT count(*), count(*) FILTER (WHERE deliver_at < now()) FROM penpal_letters "
                "WHERE delivered_at IS NULL")).one()
        waiting.add_metric([], pending)
        overdue.add_metric([], late)
        yield from (outbox, oldest, dead, waiting, overdue)


# The queues the workers consume (workers/celery_app.py).
QUEUES = ("llm", "nlp", "default")


class _QueueDepths:
    """Tasks waiting in each Celery queue, read from the broker when /metrics is scraped.

    kombu's Redis transport keeps a queue as a list named after it, plus one list per
    priority step (the name, kombu's separator, the step) for tasks sent with a priority:
    all are counted, as kombu itself sizes a queue. Tasks a worker has taken (running, or
    prefetched) are no longer in the lists: this is the work no worker has reached yet."""

    def __init__(self, broker_url: str, queues: tuple[str, ...] = QUEUES) -> None:
        self._broker_url = broker_url
        self._queues = queues

    def collect(self):
        if not self._broker_url.startswith(("redis://", "rediss://", "unix://")):
            return  # not a Redis broker (unconfigured, or a test's in-memory one): nothing to read
        lists = [_priority_list(queue, step) for queue in self._queues for step in PRIORITY_STEPS]
        try:
            with _broker_client(self._broker_url).pipeline(transaction=False) as pipe:
                for name in lists:
                    pipe.llen(name)
                lengths = dict(zip(lists, pipe.execute()))
        except redis.RedisError as error:
            # The broker is down or slow: skip this family rather than fail the scrape, so
            # every other figure (the backlogs that keep the work) still reaches Prometheus.
            log.warning("queue depths skipped from /metrics: broker unavailable (%s)", type(error).__name__)
            return
        depth = GaugeMetricFamily("parlons_queue_depth", "Celery tasks waiting in a queue", labels=["queue"])
        for queue in self._queues:
            depth.add_metric([queue], sum(lengths[_priority_list(queue, step)] for step in PRIORITY_STEPS))
        yield depth


def _priority_list(queue: str, step: int) -> str:
    """The broker list holding `queue`'s tasks of one priority step (kombu's naming)."""
    return f"{queue}{RedisChannel.sep}{step}" if step else queue


@cache
def _broker_client(url: str) -> redis.Redis:
    # Timeouts well under Prometheus's scrape timeout: a hung broker costs one family, not the scrape.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def render(connect) -> bytes:
    """The Prometheus text for every process (multiprocess mode) or this one, the
    backlogs read through `connect()` (a context manager giving a database session), and
    the queue depths read from the broker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        samples = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY
        samples = generate_latest(REGISTRY)
    backlogs = CollectorRegistry()
    backlogs.register(_Backlogs(connect))
    backlogs.register(_QueueDepths(get_settings().celery_broker_url))
    return samples + generate_latest(backlogs)


def process_exited(pid: int) -> None:
    """Gunicorn's child_exit hook: a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(_process_id(pid))
