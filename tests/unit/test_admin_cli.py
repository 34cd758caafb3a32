"""The admin commands' argument checks, which refuse bad input before any service is used."""
from __future__ import annotations

import os

import pytest

from api import create_app
from api.cli import _table
from domain import config


@pytest.fixture
def runner(monkeypatch):
    # Addresses where nothing listens: these checks must not need a server.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    config.get_settings.cache_clear()
    yield create_app(config.load_settings(dict(os.environ))).test_cli_runner()
    config.get_settings.cache_clear()


def test_a_malformed_email_is_refused_as_registration_refuses_it(runner):
    result = runner.invoke(args=["users", "create", "--email", "not-an-email", "--display-name", "X",
                                 "--password", "long enough"])
    assert result.exit_code == 2
    assert "Not a valid email address." in result.output


def test_unknown_roles_are_refused(runner):
    assert runner.invoke(args=["users", "set-role", "a@example.com", "owner"]).exit_code == 2
    assert runner.invoke(args=["users", "list", "--role", "owner"]).exit_code == 2


def test_requeue_asks_which_turns(runner):
    result = runner.invoke(args=["turns", "requeue"])
    assert result.exit_code == 2 and "--stuck" in result.output
    assert runner.invoke(args=["turns", "requeue", "--stuck", "--older-than", "-1"]).exit_code == 2


def test_the_table_lines_up_its_columns():
    assert _table(("id", "email"), [("1", "a@example.com"), ("22", "b@x.fr")]).splitlines() == [
        "id  email", "--  -------------", "1   a@example.com", "22  b@x.fr"]
