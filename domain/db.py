"""One SQLAlchemy engine per process, and short-lived sessions from it.

Forked workers call `dispose_engine()` first thing so no connection crosses a fork.
"""
from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from domain.config import get_settings


@cache
def get_engine() -> Engine:
    engine = create_engine(
        get_settings().database_url,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
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


@cache
def session_factory() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    session = session_factory()()
    try:
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
