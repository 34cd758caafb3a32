"""Positive waits: poll until the system says something happened, or fail saying what
never did. (Absence is asserted only after such a wait: never after a fixed sleep.)"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(predicate: Callable[[], T], what: str | Callable[[], str], timeout: float = 30,
               interval: float = 0.1) -> T:
    """`predicate()`'s first truthy answer, polled every `interval` seconds; fails with
    "never: <what>" after `timeout` seconds (`what` may be a function, called then, to
    describe the state the wait ended in)."""
    deadline = time.monotonic() + timeout
    while not (answer := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"never, in {timeout:g} s: {what() if callable(what) else what}")
        time.sleep(interval)
    return answer
