"""Writes that keep a paid result are tried again while the database is unavailable,
until their deadline, and only then."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import exc

from domain.db import until_available


def unavailable() -> exc.OperationalError:
    return exc.OperationalError("UPDATE turns ...", {}, Exception("connection refused"))


class Write:
    """Raises the given errors in turn, then returns "stored"; counts its runs."""

    def __init__(self, *errors: BaseException):
        self.errors = list(errors)
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.errors:
            raise self.errors.pop(0)
        return "stored"


def test_a_write_that_succeeds_runs_once():
    write = Write()
    assert until_available(write, deadline=time.monotonic() + 5) == "stored"
    assert write.runs == 1


def test_a_write_is_run_again_while_the_database_is_unavailable(caplog):
    write = Write(unavailable(), exc.TimeoutError("QueuePool limit of size 30 overflow 0 reached"), unavailable())
    assert until_available(write, deadline=time.monotonic() + 10) == "stored"
    assert write.runs == 4
    warnings = [r for r in caplog.records if "paid result is kept" in r.getMessage()]
    assert len(warnings) == 1, "one line per write, not one per attempt"


def test_other_errors_are_raised_at_once():
    write = Write(exc.IntegrityError("INSERT ...", {}, Exception("duplicate key")))
    with pytest.raises(exc.IntegrityError):
        until_available(write, deadline=time.monotonic() + 10)
    assert write.runs == 1


def test_at_the_deadline_the_last_error_is_raised():
    write = Write(*[unavailable() for _ in range(100)])
    started = time.monotonic()
    with pytest.raises(exc.OperationalError):
        until_available(write, deadline=started + 0.5)
    assert 2 <= write.runs < 100
    assert time.monotonic() - started < 2, "no wait past the deadline"
