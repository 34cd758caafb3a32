"""Fixtures of the integration tests: one real stack for the session (tests/support/stack.py),
fresh learners on it, the fake model servers, a loopback Web Push service, and a scratch
database per module."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import Learner, register
from tests.support.fake_llm import FakeLLM
from tests.support.push_endpoint import PushEndpoint, vapid_keys
from tests.support.stack import Stack, fresh_database, running_stack


@pytest.fixture(scope="session")
def stack():
    with running_stack("test") as running:
        yield running


@pytest.fixture
def learner(stack: Stack) -> Learner:
    return register(stack.base_url, stack.ws_url)


@pytest.fixture
def other_learner(stack: Stack) -> Learner:
    return register(stack.base_url, stack.ws_url)


@pytest.fixture(scope="module")
def db_scope(stack):
    """session_scope() bound to a fresh database on the stack's PostgreSQL server, for
    tests of domain functions that no worker or sweeper must touch (one per module)."""
    import domain.config as config
    import domain.db as db_module
    from domain import announcements

    url = fresh_database(stack, migrate=True)
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", url)
    patch.setenv("REDIS_URL", stack.env["REDIS_URL"])
    for cached in (config.get_settings, db_module.get_engine, db_module.session_factory, db_module._autocommit_factory):
        cached.cache_clear()
    yield db_module.session_scope
    announcements.write_pending_marks()  # into this database, while its settings hold
    db_module.dispose_engine()
    for cached in (config.get_settings, db_module.get_engine, db_module.session_factory, db_module._autocommit_factory):
        cached.cache_clear()
    patch.undo()


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    """Loopback OpenAI and Anthropic servers for one test."""
    with FakeLLM() as servers:
        yield servers


@pytest.fixture(scope="module")
def vapid() -> tuple[str, str]:
    """The module's VAPID key pair (private, public), base64url, as the server is configured with it."""
    return vapid_keys()


@pytest.fixture
def push(vapid) -> Iterator[PushEndpoint]:
    """A loopback Web Push service for one test that accepts pushes signed with `vapid`."""
    with PushEndpoint(vapid[1]) as endpoint:
        yield endpoint


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
