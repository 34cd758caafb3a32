"""Coalescing a model's token stream into `reply_delta` events: smooth text for the
client without one event per token."""
from __future__ import annotations

import time
from collections.abc import Callable


class DeltaCoalescer:
    """Buffers text and emits it at most once per `min_interval` seconds (the first
    piece at once, so the reply starts showing immediately). Call `flush()` at the end.

    `emit(delta, index, reset)`: `reset` is True on the first delta after `restart()`
    (a provider failed mid-reply and the next one starts over): the client drops what it
    has. Indexes keep increasing across a restart, so order stays simple."""

    def __init__(self, emit: Callable[[str, int, bool], None], *, min_interval: float,
                 clock: Callable[[], float] = time.monotonic):
        self._emit = emit
        self._min_interval = min_interval
        self._clock = clock
        self._buffer: list[str] = []
        self._last_emit: float | None = None
        self.index = 0
        self.text = ""
        self._reset_pending = False

    def add(self, piece: str) -> None:
        if not piece:
            return
        self._buffer.append(piece)
        self.text += piece
        if self._last_emit is None or self._clock() - self._last_emit >= self._min_interval:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        self._emit("".join(self._buffer), self.index, self._reset_pending)
        self._buffer.clear()
        self.index += 1
        self._last_emit = self._clock()
        self._reset_pending = False

    def restart(self) -> None:
        """Forget the reply so far; the next delta tells the client to do the same."""
        self._buffer.clear()
        self.text = ""
        self._reset_pending = self.index > 0  # nothing sent yet: nothing to drop
        self._last_emit = None
