"""Retries (tenacity's) that never outlive the caller's deadline, and cost nothing when
the first attempt succeeds: model calls (domain/llm/retry.py) and the writes that keep a
model's answer while the database is away (domain/db.py)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any
from tenacity.wait import wait_base

T = TypeVar("T")


def retry_until(attempt: Callable[[], T], *, deadline: float, retryable: Callable[[BaseException], bool],
                wait: wait_base | Callable[[RetryCallState], float], max_attempts: int | None = None,
                on_retry: Callable[[BaseException, float, int], None] | None = None) -> T:
    """Run `attempt` until it succeeds, raises an error `retryable` refuses, has run
    `max_attempts` times, or the next wait would pass `deadline` (a time.monotonic()
    value); then the last error is raised. `on_retry(error, wait, failures so far)` is
    told of each error about to be retried."""
    # Most attempts succeed at once, and tenacity's machinery costs a thread-local per call
    # (a greenlet-local under gevent: a few percent of the `llm` process's CPU), so it is
    # built only after a retryable error, which it is handed as its own first attempt.
    try:
        return attempt()
    except Exception as error:
        if not retryable(error):
            raise
        replayed = [error]

    def attempt_after_first() -> T:
        if replayed:
            raise replayed.pop()
        return attempt()

    def out_of_time(state: RetryCallState) -> bool:
        return time.monotonic() + (state.upcoming_sleep or 0) > deadline

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry(state.outcome.exception(), state.upcoming_sleep, state.attempt_number)

    stop = out_of_time if max_attempts is None else stop_any(stop_after_attempt(max_attempts), out_of_time)
    return Retrying(retry=retry_if_exception(retryable), wait=wait, stop=stop, before_sleep=before_sleep,
                    reraise=True)(attempt_after_first)
