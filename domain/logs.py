"""Structured logs: one JSON object per line, from the web and the workers.

Each line carries what is known of its context: the request id (taken from an
`X-Request-ID` header or made up, returned in the response, and carried into the tasks
the request enqueues, and the tasks those enqueue), the learner, the session and the
turn. Message text, passwords and tokens are never logged at INFO.
"""
from __future__ import annotations

import contextvars
import logging
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("parlons_log_context", default={})


def bind(**fields: Any) -> None:
    """Add fields to every line logged from here on, in this request or task."""
    _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})


def reset(**fields: Any) -> None:
    """Start a new context (a new request or task) with these fields."""
    _context.set({k: str(v) for k, v in fields.items() if v is not None})


def context() -> dict[str, str]:
    return dict(_context.get())


REDACTED = "<redacted>"


def task_arguments_repr(args: list | tuple, kwargs: dict) -> tuple[str, str]:
    """How a task's arguments are shown wherever Celery shows them (its log lines, task
    events and so Flower, `celery inspect`): ids and numbers as they are; anything else —
    a learner's text, an analysis holding it — as a redaction marker."""
    return repr([_shown(value) for value in args]), repr({key: _shown(value) for key, value in kwargs.items()})


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, uuid.UUID)):
        return value
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return REDACTED
    return REDACTED


# Celery's task lines carry the task's arguments and result; ours may hold a learner's
# message, so they are left out.
_PRIVATE_TASK_FIELDS = ("args", "kwargs", "return_value")


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        data = getattr(record, "data", None)
        if isinstance(data, dict) and any(field in data for field in _PRIVATE_TASK_FIELDS):
            record.data = {k: v for k, v in data.items() if k not in _PRIVATE_TASK_FIELDS}
        return True


# Celery's lines for a task received and succeeded: two lines per task, the largest
# share of a busy worker's log (and of the CPU its relay costs). Failures come from
# celery.app.trace at ERROR and stay.
_TASK_LIFE_LOGGERS = ("celery.worker.strategy", "celery.app.trace")
# The HTTP clients under the model SDKs log every request at INFO ("HTTP Request: POST
# ... 200 OK"): three lines per turn, which say nothing the metrics do not. Their
# warnings and errors stay.
_REQUEST_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")


def configure(level: str | int, *, task_lines: bool = True) -> None:
    """JSON lines on stderr for the whole process; `task_lines` False drops Celery's
    line per task received and succeeded."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    handler.addFilter(_WithContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if isinstance(level, int) else level.upper())
    for name in _TASK_LIFE_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if task_lines else logging.WARNING)
    for name in _REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
