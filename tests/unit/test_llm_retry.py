"""Retries, Retry-After and hard deadlines around provider calls.

Times are checked with a lower bound only where the wait is the behaviour (what the
server asked for, the deadline given), and upper bounds several times the expected
value, set apart from what a wrong behaviour would take (a default backoff, the next
piece of a stalled stream, the whole call)."""
from __future__ import annotations

import email.utils
import threading
import time

import pytest

from domain.llm.base import ProviderFailure
from domain.llm.deadline import iterate_until, run_until
from domain.llm.retry import call_with_retries, retry_after_seconds


def test_retry_after_in_milliseconds_seconds_or_http_date():
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    in_ten_seconds = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= retry_after_seconds({"retry-after": in_ten_seconds}) <= 10
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


class Flaky:
    """Fails with the given failures, then answers "ok"; remembers when it was called."""

    def __init__(self, *failures: ProviderFailure):
        self.failures = list(failures)
        self.calls: list[float] = []

    def __call__(self) -> str:
        self.calls.append(time.monotonic())
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_retryable_failures_are_retried_then_succeed():
    flaky = Flaky(ProviderFailure("HTTP 500", retryable=True), ProviderFailure("timeout", retryable=True))
    assert call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2) == "ok"
    assert len(flaky.calls) == 3


def test_each_retry_is_reported_with_its_failure_and_wait():
    failures = [ProviderFailure("HTTP 500", retryable=True), ProviderFailure("connection error", retryable=True)]
    told: list[tuple[str, float]] = []
    flaky = Flaky(*failures)
    call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2,
                      on_retry=lambda failure, wait: told.append((failure.reason, wait)))
    assert [reason for reason, _ in told] == ["HTTP 500", "connection error"]
    assert all(0 < wait <= 4.2 for _, wait in told), told


def test_a_call_that_succeeds_at_once_reports_no_retry():
    told = []
    call_with_retries(Flaky(), deadline=time.monotonic() + 10, max_retries=2, on_retry=lambda *args: told.append(args))
    assert told == []


def test_retries_are_bounded_by_max_retries():
    flaky = Flaky(*[ProviderFailure("HTTP 503", retryable=True)] * 5)
    with pytest.raises(ProviderFailure, match="HTTP 503"):
        call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2)
    assert len(flaky.calls) == 3


def test_a_non_retryable_failure_is_not_retried():
    flaky = Flaky(ProviderFailure("HTTP 401"))
    with pytest.raises(ProviderFailure, match="HTTP 401"):
        call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2)
    assert len(flaky.calls) == 1


def test_retry_after_sets_the_wait():
    # Longer than the first backoff (0.2 s to 0.4 s): a retry that ignored it would come too early.
    flaky = Flaky(ProviderFailure("HTTP 429", retryable=True, retry_after=0.6))
    call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2)
    assert 0.6 <= flaky.calls[1] - flaky.calls[0] < 2.4


def test_no_wait_that_would_pass_the_deadline():
    flaky = Flaky(ProviderFailure("HTTP 429", retryable=True, retry_after=5))
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="HTTP 429"):
        call_with_retries(flaky, deadline=started + 1, max_retries=2)
    assert len(flaky.calls) == 1 and time.monotonic() - started < 0.5, "gave up at once, not at the deadline"


def test_iterate_until_passes_pieces_and_errors_through():
    assert list(iterate_until(time.monotonic() + 5, iter(["a", "b"]))) == ["a", "b"]

    def broken():
        yield "a"
        raise ProviderFailure("connection error")

    with pytest.raises(ProviderFailure, match="connection error"):
        list(iterate_until(time.monotonic() + 5, broken()))


# Pieces at 0, 0.2 and 0.4 s, then a stall until the next at 1.4 s; the deadline is at
# 0.5 s, and the cut must come before 1.2 s (generous, and still before that next piece).
PACE, DEADLINE, CUT_BY = (0.2, 0.2, 1.0), 0.5, 1.2


def test_a_trickling_source_is_cut_at_the_deadline_and_then_closed():
    closed = threading.Event()

    def trickle():
        try:
            for pause in PACE:
                yield "mot "
                time.sleep(pause)
            yield "trop tard"
        finally:
            closed.set()

    started = time.monotonic()
    received = []
    with pytest.raises(ProviderFailure, match="deadline passed"):
        for piece in iterate_until(started + DEADLINE, trickle()):
            received.append(piece)
    assert DEADLINE <= time.monotonic() - started < CUT_BY, "cut at the deadline, not at the next piece"
    assert 2 <= len(received) <= 3
    assert closed.wait(3), "the abandoned source is closed by its own thread"


def test_run_until_returns_the_result_or_gives_up_at_the_deadline():
    assert run_until(time.monotonic() + 1, lambda: 42) == 42
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="deadline passed"):
        run_until(started + 0.2, lambda: time.sleep(2))
    assert time.monotonic() - started < 1.0, "given up at the deadline, not at the call's end"


def test_under_gevent_a_trickling_source_is_interrupted_at_the_deadline():
    import gevent

    from domain.llm.deadline import _iterate_within

    closed = []

    def trickle():
        try:
            for pause in PACE:
                yield "mot "
                gevent.sleep(pause)
            yield "trop tard"
        finally:
            closed.append(True)

    started = time.monotonic()
    received = []
    with pytest.raises(ProviderFailure, match="deadline passed"):
        for piece in _iterate_within(started + DEADLINE, trickle()):
            received.append(piece)
            time.sleep(0.05)  # the caller's own time with a piece counts towards the deadline too
    assert DEADLINE <= time.monotonic() - started < CUT_BY, "cut at the deadline, not at the next piece"
    assert 2 <= len(received) <= 3 and closed == [True]


def test_under_gevent_run_until_interrupts_the_call_at_the_deadline():
    import gevent

    from domain.llm.deadline import _iterate_within, _timeout

    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="deadline passed"), _timeout(started + 0.2):
        gevent.sleep(2)
    assert time.monotonic() - started < 1.0, "interrupted at the deadline, not at the call's end"
    assert list(_iterate_within(time.monotonic() + 5, iter(["a", "b"]))) == ["a", "b"]
