"""The real stack for integration tests: PostgreSQL, Redis, gunicorn (gevent), the
three Celery worker families and beat, each a separate process as in production.

Embedded servers unless TEST_DATABASE_URL / TEST_REDIS_URL point elsewhere.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from deploy.services import EmbeddedPostgres, EmbeddedRedis, free_port, wait_for_port
from tests.support.waits import eventually

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Short recovery timings so tests of crashes and outages finish in seconds.
TEST_SETTINGS = {
    "PARLONS_ENV": "test",
    "OUTBOX_REPUBLISH_AFTER_SECONDS": "2",
    "SWEEP_INTERVAL_SECONDS": "1",
    "STAGE_LEASE_SECONDS": "3",
    "TURN_DEADLINE_SECONDS": "60",
    "LOGIN_RATE_LIMIT_ACCOUNT": "5/minute",
    "LOGIN_RATE_LIMIT_ADDRESS": "10000/minute",
    "REGISTER_RATE_LIMIT_ADDRESS": "10000/minute",  # every test registers its learners from 127.0.0.1
    "WS_HEARTBEAT_SECONDS": "30",
    "TRANSCRIPT_HINT_DELAY_SECONDS": "0.5",
    "FSRS_ENABLE_FUZZING": "false",  # exact due dates, to compare with the fsrs reference
    # Penpal replies due two seconds after the letter, delivered by a beat job every second.
    "PENPAL_REPLY_DELAY_SECONDS": "2",
    "PENPAL_REPLY_JITTER_SECONDS": "0",
    "PENPAL_DELIVERY_INTERVAL_SECONDS": "1",
    # Never the real APIs, whatever keys the shell has: tests that want models point
    # a stack at the loopback fake (tests/support/fake_llm.py).
    "PRIMARY_LLM_PROVIDER": "offline",
    "SECONDARY_LLM_PROVIDER": "",
    "LOG_LEVEL": "WARNING",
    "LOG_TASKS": "true",  # tests follow a request id into the tasks' lines
    # Tests send bursts no learner would (turns back to back, many checks): roomy
    # per-minute quotas; tests of the quotas lower one learner's with `flask users
    # set-quota`, applied within a second.
    "QUOTA_TURNS_PER_MINUTE": "1000",
    "QUOTA_HINTS_PER_MINUTE": "1000",
    "QUOTA_LETTERS_PER_MINUTE": "1000",
    "QUOTA_JOURNEY_ANSWERS_PER_MINUTE": "1000",
    "QUOTA_LANGUAGE_CHECKS_PER_MINUTE": "1000",
    "QUOTA_TRANSCRIPTS_PER_MINUTE": "1000",
    "QUOTA_OVERRIDE_CACHE_SECONDS": "1",
}

WORKER_COMMANDS = {
    "llm": ["-Q", "llm", "-P", "gevent", "-c", "20"],
    "nlp": ["-Q", "nlp", "-P", "prefork", "-c", "1"],
    "default": ["-Q", "default", "-P", "prefork", "-c", "1"],
}


@dataclass
class Stack:
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)  # settings for every process of this stack
    database_url: str | None = None  # use this database instead of starting a server
    redis_url: str | None = None
    # Another node beside a stack whose servers it shares (database_url, redis_url): its
    # workers' names carry this, so they do not clash with the first stack's on this host.
    node: str = ""
    prepare_database: bool = True  # migrate and seed the vocabulary (a second node need not)
    env: dict[str, str] = field(default_factory=dict)
    web_port: int = 0
    redis_server: EmbeddedRedis | None = None
    postgres_server: EmbeddedPostgres | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    worker_names: dict[str, str] = field(default_factory=dict)  # family -> its running worker's Celery name
    _starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.web_port}"

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **TEST_SETTINGS, **self.extra_env}
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env["DATABASE_URL"] = self.database_url or os.environ.get("TEST_DATABASE_URL") or self._start_postgres()
        env["REDIS_URL"] = self.redis_url or os.environ.get("TEST_REDIS_URL") or self._start_redis()
        env.pop("BROKER_URL", None)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.data_dir / "metrics")
        (self.data_dir / "metrics").mkdir(exist_ok=True)
        self.env = env
        if self.prepare_database:
            subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"],
                           env=env, cwd=REPO, check=True, capture_output=True)
            subprocess.run([BIN / "flask", "--app", "api:create_app", "vocab", "seed", "--generate-sample",
                            "--output", str(self.data_dir / "vocabulary.csv")], env=env, cwd=REPO, check=True,
                           capture_output=True)
        self.web_port = free_port()
        self.start_web()
        for family in WORKER_COMMANDS:
            self.start_worker(family)
        self.start_beat()
        wait_for_port(self.web_port, timeout=60)
        self.wait_ready()
        self.wait_workers_ready()

    def _start_postgres(self) -> str:
        self.postgres_server = EmbeddedPostgres(self.data_dir / "postgres", free_port(), database="parlons_test")
        return self.postgres_server.start()

    def _start_redis(self) -> str:
        self.redis_server = EmbeddedRedis(self.data_dir / "redis", free_port())
        return self.redis_server.start()

    def spawn(self, name: str, command: list, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.data_dir / f"{name}.log", "ab")
        process = subprocess.Popen([str(part) for part in command], cwd=REPO, env={**self.env, **(extra_env or {})},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_web(self, **extra_env: str) -> subprocess.Popen:
        return self.spawn("web", [BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", "1",
                                  "api:create_app()"], {"PORT": str(self.web_port), **extra_env})

    def restart_web(self, **extra_env: str) -> None:
        """Stop the web process and start it again on the same port (with `extra_env`)."""
        self.stop_process("web")
        self.start_web(**extra_env)
        self.wait_ready()

    def start_worker(self, family: str, **extra_env: str) -> subprocess.Popen:
        self._starts += 1
        name = "-".join(part for part in (family, self.node, str(self._starts)) if part) + "@" + socket.gethostname()
        self.worker_names[family] = name
        return self.spawn(f"worker_{family}", [BIN / "celery", "-A", "workers.celery_app", "worker",
                                               *WORKER_COMMANDS[family], "-n", name, "--loglevel=INFO"], extra_env)

    def start_ready_worker(self, family: str, **extra_env: str) -> subprocess.Popen:
        """Start a worker and wait until it consumes (its log says it is ready)."""
        log = self.data_dir / f"worker_{family}.log"
        ready_before = log.read_bytes().count(b" ready.") if log.exists() else 0
        process = self.start_worker(family, **extra_env)
        eventually(lambda: log.read_bytes().count(b" ready.") > ready_before,
                   f"the {family} worker is ready (see {log})", timeout=90, interval=0.2)
        return process

    def start_beat(self, name: str = "beat") -> subprocess.Popen:
        return self.spawn(name, [BIN / "celery", "-A", "workers.celery_app", "beat", "--loglevel=WARNING",
                                 "--schedule", str(self.data_dir / f"{name}-schedule")])

    def stop_process(self, name: str) -> None:
        """Stop one process (SIGTERM, as an operator would)."""
        process = self.processes.pop(name)
        self.worker_names.pop(name.removeprefix("worker_"), None)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)

    def kill_worker(self, family: str) -> None:
        """SIGKILL the worker and its pool children: no warm shutdown, no ack."""
        process = self.processes.pop(f"worker_{family}")
        del self.worker_names[family]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def kill_all(self) -> None:
        """SIGKILL every process of this stack at once, as when its machine dies: no
        warm shutdown, no ack, no goodbye to Redis. Its embedded servers (if any) stay."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes.values():
            process.wait()
        self.processes.clear()
        self.worker_names.clear()

    def wait_ready(self, timeout: float = 60) -> None:
        eventually(self._ready, f"the web process is ready (see {self.data_dir / 'web.log'})", timeout, interval=0.2)

    def _ready(self) -> bool:
        try:
            return requests.get(self.base_url + "/api/v1/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_workers_ready(self, timeout: float = 90) -> None:
        """Until every worker consumes (the nlp worker loads spaCy first): a test's first
        turn must not wait on start-up."""
        logs = [self.data_dir / f"worker_{family}.log" for family in WORKER_COMMANDS]

        def not_ready() -> list[str]:
            return [str(log) for log in logs if b" ready." not in log.read_bytes()]

        eventually(lambda: not not_ready(), lambda: f"every worker is ready; see {not_ready()}", timeout,
                   interval=0.2)

    def database(self) -> psycopg.Connection:
        """A plain connection (autocommit) to the stack's database, to look and to meddle."""
        return psycopg.connect(self.env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True)

    def flask(self, *args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """An operator's `flask` command against this stack (text output captured)."""
        return subprocess.run([BIN / "flask", "--app", "api:create_app", *args], env=self.env, cwd=REPO,
                              input=input, capture_output=True, text=True, timeout=timeout)

    def stop_redis(self) -> None:
        assert self.redis_server is not None, "Redis restarts need the embedded Redis"
        self.redis_server.stop()

    def start_redis(self) -> None:
        assert self.redis_server is not None
        self.redis_server.start()

    def stop_postgres(self) -> None:
        assert self.postgres_server is not None, "PostgreSQL outages need the embedded PostgreSQL"
        self.postgres_server.stop()

    def start_postgres(self) -> None:
        assert self.postgres_server is not None
        self.postgres_server.start()

    def restart_postgres(self) -> None:
        """Stop and start PostgreSQL on the same port: every pooled connection dies."""
        assert self.postgres_server is not None, "Postgres restarts need the embedded PostgreSQL"
        self.postgres_server.stop()
        self.postgres_server.start()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if self.redis_server:
            self.redis_server.stop()
        if self.postgres_server:
            self.postgres_server.stop()


@contextmanager
def running_stack(name: str, **options) -> Iterator[Stack]:
    """A started Stack under .data/<name>-<pid>/, stopped (and its data removed unless
    KEEP_TEST_DATA is set) on exit."""
    data_dir = REPO / ".data" / f"{name}-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    running = Stack(data_dir, **options)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if not os.environ.get("KEEP_TEST_DATA"):
            shutil.rmtree(data_dir, ignore_errors=True)


def fresh_database(stack: Stack, *, migrate: bool) -> str:
    """The URL of a new, empty database on the stack's PostgreSQL server (migrated if asked)."""
    server_url = stack.env["DATABASE_URL"]
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = server_url.rsplit("/", 1)[0].replace("+psycopg", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + "/" + name
    if migrate:
        subprocess.run([BIN / "alembic", "-c", "migrations/alembic.ini", "upgrade", "head"],
                       env={**stack.env, "DATABASE_URL": url}, cwd=REPO, check=True, capture_output=True)
    return url


@contextmanager
def llm_worker_stopped(stack: Stack) -> Iterator[Callable[..., None]]:
    """No llm worker in the block until it calls the `resume(**env)` given; afterwards the
    stack has its own llm worker again, whatever happened."""
    resumed_with: list[dict] = []

    def resume(**env: str) -> None:
        stack.start_ready_worker("llm", **env)
        resumed_with.append(env)

    stack.stop_process("worker_llm")  # SIGTERM: a warm shutdown
    try:
        yield resume
    finally:
        if resumed_with != [{}]:  # never resumed, or resumed with other settings
            if "worker_llm" in stack.processes:
                stack.stop_process("worker_llm")
            stack.start_ready_worker("llm")
