"""The pooled-connection check under gevent (domain/llm/pool_check.py): still right, and
through the operating system's poll rather than gevent's emulation."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import socket
    import gevent.select
    import httpcore2._backends.sync as sync_backend
    from domain.llm import pool_check

    gevent_polls = []
    original_init = gevent.select.poll.__init__
    def counting_init(self):
        gevent_polls.append(1)
        original_init(self)
    gevent.select.poll.__init__ = counting_init

    pool_check.install()
    client, server = socket.socketpair()
    idle = sync_backend.is_socket_readable(client)
    server.sendall(b"x")  # the server wrote (or closed): the connection must not be reused
    readable = sync_backend.is_socket_readable(client)
    server.close()
    print(idle, readable, len(gevent_polls))
""")


def test_under_gevent_idle_connections_are_checked_with_the_real_poll():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "0"]


def test_without_gevent_nothing_is_replaced():
    probe = ("import httpcore2._backends.sync as b, httpcore2._utils as u\n"
             "from domain.llm import pool_check\npool_check.install()\n"
             "print(b.is_socket_readable is u.is_socket_readable)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
