"""Marks that cannot be written are left to the sweeper, with one log line for an outage."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import exc

from domain import announcements


def _failing_with(error):
    @contextmanager
    def scope():
        raise error
        yield

    return scope


def _marks_for(count):
    marks = announcements._PendingMarks()
    kind = SimpleNamespace(event="turn_result", _mark=None)
    marks._things = {"turn_result": (kind, {uuid.uuid4() for _ in range(count)})}
    return marks


def test_a_database_outage_is_one_line_without_a_traceback(monkeypatch, caplog):
    refused = exc.OperationalError("UPDATE turns ...", {}, Exception("connection refused"))
    monkeypatch.setattr(announcements, "statement_scope", _failing_with(refused))
    _marks_for(3).write()
    [record] = [r for r in caplog.records if "announcement marks not written" in r.getMessage()]
    assert "3 announcement marks" in record.getMessage() and "connection refused" in record.getMessage()
    assert not record.exc_info, "no traceback"


def test_any_other_failure_keeps_its_traceback(monkeypatch, caplog):
    monkeypatch.setattr(announcements, "statement_scope", _failing_with(RuntimeError("a bug")))
    _marks_for(1).write()
    [record] = [r for r in caplog.records if "announcement marks not written" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
