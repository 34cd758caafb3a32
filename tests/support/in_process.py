"""Domain objects built in the test process against a stack's servers: a provider chain
talking to the fake model servers, a learner and a conversation written straight to a
database, for tests of domain functions without going through the HTTP API."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from domain import accounts, conversations
from domain.characters import default_library
from domain.config import load_settings
from domain.llm.chain import ProviderChain, build_chain
from tests.support.fake_llm import FakeLLM
from tests.support.stack import Stack


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
