"""A cheap check of kept-alive connections under gevent.

Before every request, httpcore asks each idle connection of the pool whether the server
has closed it: a `select.poll()` with a zero timeout per connection. Under gevent,
`select.poll` is gevent's emulation, which starts and stops an event-loop watcher per
call; with the few hundred connections an `llm` process keeps to its provider, that was a
tenth of the process's CPU (measured with bench/load.py and py-spy). A zero-timeout poll never
blocks, so the operating system's own is safe in a gevent process.
"""
from __future__ import annotations

import socket

_installed = False


def install() -> None:
    """Check pooled connections with the real poll(2) when gevent has patched `select`
    (idempotent; a no-op elsewhere)."""
    global _installed
    from gevent import monkey

    if _installed or not monkey.is_module_patched("select"):
        return
    import select

    import httpcore2._backends.sync as sync_backend

    real_poll = monkey.get_original("select", "poll")

    def is_socket_readable(sock: socket.socket | None) -> bool:
        fd = None if sock is None else sock.fileno()
        if fd is None or fd < 0:
            return True  # gone: as httpcore does, "readable" (the next read returns b"")
        poller = real_poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))

    sync_backend.is_socket_readable = is_socket_readable
    _installed = True
