"""Hard deadlines around blocking provider calls.

Socket timeouts bound each read, not a whole reply: a server that trickles bytes could
hold a caller far past its deadline. So the provider call runs in a helper thread (a
greenlet under gevent) and the caller waits on a queue until its deadline at most. A
call given up on ends by itself at its next read or request timeout.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from domain.llm.base import ProviderFailure

T = TypeVar("T")

_PIECE, _END, _ERROR = "piece", "end", "error"


def iterate_until(deadline: float, pieces: Iterable[T]) -> Iterator[T]:
    """Yield from `pieces` until they end or `deadline` (a `time.monotonic()` value)
    passes, which raises ProviderFailure. Errors of `pieces` are re-raised here."""
    channel: queue.Queue = queue.Queue()
    abandoned = threading.Event()

    def pump() -> None:
        iterator = iter(pieces)
        try:
            for piece in iterator:
                channel.put((_PIECE, piece))
                if abandoned.is_set():
                    break
            channel.put((_END, None))
        except BaseException as error:  # handed to the caller's thread, which re-raises it
            channel.put((_ERROR, error))
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()

    threading.Thread(target=pump, name="llm-call", daemon=True).start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProviderFailure("deadline passed")
            try:
                kind, value = channel.get(timeout=left)
            except queue.Empty:
                raise ProviderFailure("deadline passed") from None
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        abandoned.set()


def run_until(deadline: float, call: Callable[[], T]) -> T:
    """`call()`, or ProviderFailure if it has not returned by `deadline`."""
    results = iterate_until(deadline, (call() for _ in range(1)))
    try:
        return next(results)
    finally:
        results.close()
