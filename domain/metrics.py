"""Prometheus metrics for the web and the workers.

Every process records its samples; GET /metrics (web) shows them. With
PROMETHEUS_MULTIPROC_DIR set (by `make run`, the deployment files and the test stack),
each process — every gunicorn worker, every Celery pool process — writes its samples to
files in that folder and /metrics adds them up, so the figures are the whole system's,
not one process's. The folder must be emptied when the processes (re)start together and
shared by all of them, so on one host. The backlogs (outbox, penpal replies) are read
from the database at scrape time.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text


def _process_id(pid: int | None = None) -> str:
    """Names this process's metric files. Containers sharing the folder reuse the same
    pids, so the host name comes first (without "_", which splits the file names)."""
    return f"{socket.gethostname().replace('_', '-')}-{pid or os.getpid()}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before any metric is made
    values.ValueClass = values.MultiProcessValue(_process_id)

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
LLM_CALL_SECONDS = Histogram("parlons_llm_call_seconds", "Model calls' duration", ["provider", "kind"],
                             buckets=_SECONDS)
TASKS = Counter("parlons_tasks_total", "Celery tasks run", ["task", "outcome"])
TASK_SECONDS = Histogram("parlons_task_seconds", "Celery tasks' duration", ["task"], buckets=_SECONDS)
WEBSOCKETS_OPEN = Gauge("parlons_websockets_open", "Open websockets", multiprocess_mode="livesum")
EVENTS_PUBLISHED = Counter("parlons_events_published_total", "Events published to learners", ["type"])


@contextmanager
def llm_call(provider: str, kind: str) -> Iterator[None]:
    """Count and time one call to a provider (`kind`: reply, json, moderation, realtime);
    an exception is an error."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        LLM_CALLS.labels(provider, kind, "error").inc()
        raise
    finally:
        LLM_CALL_SECONDS.labels(provider, kind).observe(time.perf_counter() - started)
    LLM_CALLS.labels(provider, kind, "ok").inc()


class _Backlogs:
    """Gauges read from the database when /metrics is scraped."""

    def __init__(self, connect) -> None:
        self._connect = connect

    def collect(self):
        outbox = GaugeMetricFamily("parlons_outbox_backlog", "Outbox entries not finished yet", labels=["kind"])
        waiting = GaugeMetricFamily("parlons_penpal_replies_waiting", "Penpal replies not delivered yet")
        overdue = GaugeMetricFamily("parlons_penpal_replies_overdue", "Penpal replies past their due time")
        with self._connect() as db:
            for kind, count in db.execute(text("SELECT kind, count(*) FROM outbox GROUP BY kind")):
                outbox.add_metric([kind], count)
            pending, late = db.execute(text(
                "SELECT count(*), count(*) FILTER (WHERE deliver_at < now()) FROM penpal_letters "
                "WHERE delivered_at IS NULL")).one()
        waiting.add_metric([], pending)
        overdue.add_metric([], late)
        yield from (outbox, waiting, overdue)


def render(connect) -> bytes:
    """The Prometheus text for every process (multiprocess mode) or this one, and the
    backlogs read through `connect()` (a context manager giving a database session)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        samples = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY
        samples = generate_latest(REGISTRY)
    backlogs = CollectorRegistry()
    backlogs.register(_Backlogs(connect))
    return samples + generate_latest(backlogs)


def process_exited(pid: int) -> None:
    """Gunicorn's child_exit hook: a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(_process_id(pid))
