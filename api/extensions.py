"""Flask extensions and the per-request database session.

The views' database rule: a view gets its session from `db()` (opened on first use, so
a view that never queries takes no connection) and never builds one. A view that
writes commits once, with `db().commit()`, before it returns; domain functions flush
but never commit; whatever is not committed is rolled back at teardown. A view calls
`close_db()` before it waits on anything slow that is not the database (a long-poll, a
socket's lifetime, an nlp worker, a provider's API), so no pooled connection sits idle
in a transaction meanwhile; a later `db()` opens a fresh session. Work that must be
committed before something outside the request starts (a task, an event) has its own
`domain.db.session_scope()` and is started after it (api/sessions/submit.py); a single
statement may use `statement_scope()` (autocommit: no BEGIN/COMMIT round trips).
"""
from __future__ import annotations

from flask import g
from flask_jwt_extended import JWTManager
from flask_sock import Sock
from sqlalchemy.orm import Session

from api.errors import ParlonsApi
from domain.db import session_factory

jwt = JWTManager()
api = ParlonsApi()
sock = Sock()


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = session_factory()()
    return g.db


def close_db(_: BaseException | None = None) -> None:
    """End the request's session now (teardown does it otherwise); objects read stay usable."""
    session = g.pop("db", None)
    if session is not None:
        session.close()  # rolls back anything the view did not commit
