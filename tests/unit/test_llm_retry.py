"""Retries, Retry-After and hard deadlines around provider calls."""
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
    flaky = Flaky(ProviderFailure("HTTP 429", retryable=True, retry_after=0.3))
    call_with_retries(flaky, deadline=time.monotonic() + 10, max_retries=2)
    assert 0.3 <= flaky.calls[1] - flaky.calls[0] < 0.5


def test_no_wait_that_would_pass_the_deadline():
    flaky = Flaky(ProviderFailure("HTTP 429", retryable=True, retry_after=5))
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="HTTP 429"):
        call_with_retries(flaky, deadline=started + 1, max_retries=2)
    assert len(flaky.calls) == 1 and time.monotonic() - started < 0.1


def test_iterate_until_passes_pieces_and_errors_through():
    assert list(iterate_until(time.monotonic() + 5, iter(["a", "b"]))) == ["a", "b"]

    def broken():
        yield "a"
        raise ProviderFailure("connection error")

    with pytest.raises(ProviderFailure, match="connection error"):
        list(iterate_until(time.monotonic() + 5, broken()))


def test_a_trickling_source_is_cut_at_the_deadline_and_then_closed():
    closed = threading.Event()

    def trickle():
        try:
            while True:
                yield "mot "
                time.sleep(0.2)
        finally:
            closed.set()

    started = time.monotonic()
    received = []
    with pytest.raises(ProviderFailure, match="deadline passed"):
        for piece in iterate_until(started + 0.5, trickle()):
            received.append(piece)
    assert 0.5 <= time.monotonic() - started < 0.6
    assert 2 <= len(received) <= 3
    assert closed.wait(1), "the abandoned source is closed by its own thread"


def test_run_until_returns_the_result_or_gives_up_at_the_deadline():
    assert run_until(time.monotonic() + 1, lambda: 42) == 42
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="deadline passed"):
        run_until(started + 0.2, lambda: time.sleep(2))
    assert time.monotonic() - started < 0.3


def test_under_gevent_a_trickling_source_is_interrupted_at_the_deadline():
    import gevent

    from domain.llm.deadline import _iterate_within

    closed = []

    def trickle():
        try:
            while True:
                yield "mot "
                gevent.sleep(0.2)
        finally:
            closed.append(True)

    started = time.monotonic()
    received = []
    with pytest.raises(ProviderFailure, match="deadline passed"):
        for piece in _iterate_within(started + 0.5, trickle()):
            received.append(piece)
            time.sleep(0.05)  # the caller's own time with a piece counts towards the deadline too
    assert 0.5 <= time.monotonic() - started < 0.6
    assert 2 <= len(received) <= 3 and closed == [True]


def test_under_gevent_run_until_interrupts_the_call_at_the_deadline():
    import gevent

    from domain.llm.deadline import _iterate_within, _timeout

    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="deadline passed"), _timeout(started + 0.2):
        gevent.sleep(2)
    assert time.monotonic() - started < 0.3
    assert list(_iterate_within(time.monotonic() + 5, iter(["a", "b"]))) == ["a", "b"]
