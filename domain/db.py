"""One SQLAlchemy engine per process, and short-lived sessions from it.

Forked workers call `dispose_engine()` first thing so no connection crosses a fork.
Every wait on PostgreSQL is bounded (connect, pool checkout, statement: Settings), so a
database that is down or unreachable is an error within seconds, never a hung request;
`is_unavailable()` says which errors mean that. Statements' bound parameters (learners'
messages, emails, password hashes) never appear in an error's text or the logs.
"""
from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, sessionmaker
from tenacity import wait_exponential_jitter

from domain.config import get_settings
from domain.retries import retry_until

log = logging.getLogger(__name__)


@cache
def get_engine() -> Engine:
    settings = get_settings()
    engine = create_engine(
        settings.database_url,
        # Up to 30 connections, kept once opened: the overflow connections SQLAlchemy
        # opens past pool_size are closed on return, and under load (a gevent process's
        # greenlets) that was a connection, and a PostgreSQL backend, started per checkout.
        pool_size=30,
        max_overflow=0,
        pool_recycle=1800,
        pool_timeout=settings.database_pool_timeout_seconds,
        # An error's text and log line show "[SQL parameters hidden ...]" instead of the values.
        hide_parameters=True,
        connect_args={
            "connect_timeout": max(2, settings.database_connect_timeout_seconds),
            # Sent with the connection's start-up packet: no extra round trip per connection.
            "options": f"-c statement_timeout={_milliseconds(settings.database_statement_timeout_seconds)}",
        },
    )
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Check a pooled connection before use without a round trip (`pool_pre_ping` costs
    one per checkout, several per turn): an idle connection has nothing to read unless
    the server closed it (a restart, an idle timeout) and said so. Raising makes the
    pool drop it and hand out another."""
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise exc.DisconnectionError("the server closed this pooled connection")


def _milliseconds(seconds: float) -> int:
    return int(seconds * 1000)


# What a database that is down, unreachable, restarting, saturated or too slow raises: a
# condition of the service, not a bug (those stay 500s with their stack trace). A statement
# timeout (QueryCanceled) is an OperationalError too.
UNAVAILABLE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot serve now (try again shortly)."""
    return isinstance(error, UNAVAILABLE_ERRORS)


T = TypeVar("T")
# How long a worker keeps a paid result while the database is away, unless the caller
# says (a turn: its deadline); then it gives up, and the outbox sends the work again.
KEEP_PAID_RESULT_SECONDS = 60.0
_UNAVAILABLE_BACKOFF = wait_exponential_jitter(multiplier=0.05, max=1, jitter=0.05)  # 0.05 s, 0.1 s... 1 s


def until_available(work: Callable[[], T], *, deadline: float | None = None) -> T:
    """Run `work` (statements in scopes of its own) and, while the database is
    unavailable (a pool checkout timing out in a saturated process, a restart), run it
    again with backoff until `deadline` (a time.monotonic() value; by default
    KEEP_PAID_RESULT_SECONDS from now); then the last error is raised. For the writes
    that keep what a model was paid for: dropping one makes the work run, and be paid
    for, again. `work` must be safe to run twice (a statement that applied but whose
    answer was lost is run again), as conditional writes are."""
    def say_once(error: BaseException, _wait: float, failures: int) -> None:
        if failures == 1:
            log.warning("database unavailable (%s): a paid result is kept and written when it is back",
                        describe_unavailable(error))

    return retry_until(work, deadline=time.monotonic() + KEEP_PAID_RESULT_SECONDS if deadline is None else deadline,
                       retryable=is_unavailable, wait=_UNAVAILABLE_BACKOFF, on_retry=say_once)


def describe_unavailable(error: BaseException) -> str:
    """One short line for the log: the driver's first line (the server's message, never a
    statement's parameters), without SQLAlchemy's statement dump."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line[:200]}"


@cache
def session_factory() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(*, long_statements: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error.
    `long_statements`: the transaction's statements may run for the long statement
    timeout (batch jobs such as the nightly FSRS fit) instead of the request-sized one."""
    session = session_factory()()
    try:
        if long_statements:
            timeout = _milliseconds(get_settings().database_long_statement_timeout_seconds)
            session.execute(text(f"SET LOCAL statement_timeout = {timeout}"))
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engine() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


@cache
def _autocommit_factory() -> sessionmaker[Session]:
    return sessionmaker(get_engine().execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


@contextmanager
def statement_scope() -> Iterator[Session]:
    """A session in autocommit mode, for work that is a single statement (atomic on its
    own): no BEGIN and COMMIT round trips. Use session_scope() for anything larger."""
    session = _autocommit_factory()()
    try:
        yield session
    finally:
        session.close()
