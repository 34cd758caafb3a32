"""One SQLAlchemy engine per process, and short-lived sessions from it.

Forked workers call `dispose_engine()` first thing so no connection crosses a fork.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from domain.config import get_settings


@cache
def get_engine() -> Engine:
    return create_engine(
        get_settings().database_url,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


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
