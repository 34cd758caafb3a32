"""Flask extensions and the per-request database session."""
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
    session = g.pop("db", None)
    if session is not None:
        session.close()  # rolls back anything the view did not commit
