"""Hard deadlines around blocking provider calls.

Socket timeouts bound each read, not a whole reply: a server that trickles bytes could
hold a caller far past its deadline. Under gevent (the `llm` workers, the web) a
`gevent.Timeout` interrupts the call at its deadline, wherever it waits. Elsewhere the
call runs in a helper thread and the caller waits on a queue until its deadline at
most; a call given up on ends by itself at its next read or request timeout.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from domain.llm.base import ProviderFailure

T = TypeVar("T")

_PIECE, _END, _ERROR = "piece", "end", "error"


def iterate_until(deadline: float, pieces: Iterable[T]) -> Iterator[T]:
    """Yield from `pieces` until they end or `deadline` (a `time.monotonic()` value)
    passes, which raises ProviderFailure. Errors of `pieces` are re-raised here."""
    if _cooperative():
        return _iterate_within(deadline, pieces)
    return _iterate_in_thread(deadline, pieces)


def run_until(deadline: float, call: Callable[[], T]) -> T:
    """`call()`, or ProviderFailure if it has not returned by `deadline`."""
    if _cooperative():
        with _timeout(deadline):
            return call()
    results = _iterate_in_thread(deadline, (call() for _ in range(1)))
    try:
        return next(results)
    finally:
        results.close()


def _cooperative() -> bool:
    # Patched threads are greenlets: a helper "thread" and its queue would only add
    # switches and timers to every call (a third of a moderation call's CPU).
    monkey = sys.modules.get("gevent.monkey")  # imported by whoever patched anything
    return monkey is not None and monkey.is_module_patched("threading")


@contextmanager
def _timeout(deadline: float) -> Iterator[None]:
    import gevent

    left = deadline - time.monotonic()
    if left <= 0:
        raise ProviderFailure("deadline passed")
    timeout = gevent.Timeout(left)
    timeout.start()
    try:
        yield
    except gevent.Timeout as fired:
        if fired is not timeout:
            raise
        raise ProviderFailure("deadline passed") from None
    finally:
        timeout.close()


def _iterate_within(deadline: float, pieces: Iterable[T]) -> Iterator[T]:
    # The timeout runs only while a piece is awaited, never while the caller holds one.
    iterator = iter(pieces)
    try:
        while True:
            with _timeout(deadline):
                try:
                    piece = next(iterator)
                except StopIteration:
                    return
            yield piece
    finally:
        close = getattr(iterator, "close", None)
        if close:
            close()


def _iterate_in_thread(deadline: float, pieces: Iterable[T]) -> Iterator[T]:
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
