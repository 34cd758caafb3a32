"""One real stack for the integration tests (see tests/support/stack.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis

from domain import accounts, conversations
from domain.characters import default_library
from domain.config import load_settings
from domain.llm.chain import ProviderChain, build_chain

from tests.support.client import Learner, register
from tests.support.fake_llm import FakeLLM
from tests.support.stack import BIN, REPO, Stack


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

    url = fresh_database(stack, migrate=True)
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", url)
    patch.setenv("REDIS_URL", stack.env["REDIS_URL"])
    for cached in (config.get_settings, db_module.get_engine, db_module.session_factory, db_module._autocommit_factory):
        cached.cache_clear()
    yield db_module.session_scope
    db_module.dispose_engine()
    for cached in (config.get_settings, db_module.get_engine, db_module.session_factory, db_module._autocommit_factory):
        cached.cache_clear()
    patch.undo()


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


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    """Loopback OpenAI and Anthropic servers for one test."""
    with FakeLLM() as servers:
        yield servers


@contextmanager
def chain_against(stack: Stack, fake: FakeLLM, **settings: str) -> Iterator[ProviderChain]:
    """A provider chain (OpenAI, then Anthropic) built in this process against `fake`,
    rate-limited through the stack's Redis; `settings` override the defaults below."""
    env = {**fake.env(), "DATABASE_URL": stack.env["DATABASE_URL"], "REDIS_URL": stack.env["REDIS_URL"],
           "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": "anthropic",
           "LLM_REQUEST_TIMEOUT_SECONDS": "2", "LLM_MAX_RETRIES": "2",
           "OPENAI_REQUESTS_PER_MINUTE": "100000", "ANTHROPIC_REQUESTS_PER_MINUTE": "100000", **settings}
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        yield build_chain(load_settings(env), client)
    finally:
        client.close()


def new_conversation(db, *, display_name: str = "Learner"):
    """A fresh learner and a story session with Camille, in `db`: (user, session)."""
    user = accounts.register(db, email=f"{uuid.uuid4().hex[:8]}@example.com", password="long enough",
                             display_name=display_name)
    session = conversations.create_session(db, user=user, characters=default_library(), mode="story",
                                           character_id="camille")
    return user, session


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
