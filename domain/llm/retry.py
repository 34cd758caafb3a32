"""Bounded retries with backoff that honour Retry-After and never outlive the caller's deadline."""
from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from tenacity import RetryCallState
from tenacity.wait import wait_exponential_jitter

from domain.llm.base import ProviderFailure
from domain.retries import retry_until

T = TypeVar("T")

# An attempt needs at least this much time to have a chance; with less left, give up.
MIN_ATTEMPT_SECONDS = 0.05
_backoff = wait_exponential_jitter(multiplier=0.2, max=4, jitter=0.2)  # 0.2 s, 0.4 s, 0.8 s... plus jitter


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a 429/5xx response asks for: `retry-after-ms`, then `retry-after` in
    seconds or as an HTTP date. None when absent or unreadable."""
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            value = float(headers.get(name) or "")
        except ValueError:
            continue
        if math.isfinite(value):
            return max(0.0, value / scale)
    try:
        moment = email.utils.parsedate_to_datetime(headers.get("retry-after") or "")
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def call_with_retries(attempt: Callable[[], T], *, deadline: float, max_retries: int,
                      on_retry: Callable[[ProviderFailure, float], None] | None = None) -> T:
    """Run `attempt` until it succeeds, raises a non-retryable failure, has been retried
    `max_retries` times, or the next wait would leave no time before `deadline`
    (a `time.monotonic()` value). The last failure is raised. `on_retry(failure, wait)`
    is told of each failure that is about to be retried."""
    def wait(state: RetryCallState) -> float:
        failure = state.outcome.exception()
        if isinstance(failure, ProviderFailure) and failure.retry_after is not None:
            return failure.retry_after
        return _backoff(state)

    return retry_until(attempt, deadline=deadline - MIN_ATTEMPT_SECONDS, wait=wait, max_attempts=max_retries + 1,
                       retryable=lambda error: isinstance(error, ProviderFailure) and error.retryable,
                       on_retry=None if on_retry is None else lambda failure, seconds, _: on_retry(failure, seconds))
