"""The provider chain's decisions, with stand-in providers (the real SDKs are exercised
against the loopback server in tests/integration/test_llm_chain.py)."""
from __future__ import annotations

import time

import pytest
import redis

from domain.config import ConfigError, load_settings
from domain.llm.anthropic_provider import AnthropicProvider
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.chain import ProviderChain, build_chain
from domain.llm.openai_provider import OpenAIProvider

REQUEST = ChatRequest(system="Tu es Camille.", messages=[{"role": "user", "content": "Salut !"}])
BASE = {"DATABASE_URL": "postgresql+psycopg://db/parlons", "REDIS_URL": "redis://127.0.0.1:1/0"}


class StubProvider:
    """Yields `pieces`, then raises `failure` if one is given."""

    def __init__(self, name: str, pieces: list[str], failure: ProviderFailure | None = None):
        self.name = name
        self.pieces = pieces
        self.failure = failure
        self.calls = 0

    def stream_chat(self, request, *, deadline):
        self.calls += 1
        yield from self.pieces
        if self.failure:
            raise self.failure

    def complete_json(self, request, schema, *, deadline):
        self.calls += 1
        if self.failure:
            raise self.failure
        return {"from": self.name}


def offline():
    return iter(["Hors ", "ligne."])


def reply(chain: ProviderChain, **kwargs):
    stream = chain.stream_reply(REQUEST, deadline=time.monotonic() + 5, offline=offline, **kwargs)
    return "".join(stream), stream


def test_the_primary_answers_when_it_can():
    text, stream = reply(ProviderChain([StubProvider("openai", ["Bon", "jour"]), StubProvider("anthropic", ["X"])]))
    assert (text, stream.provider, stream.degraded, stream.failures) == ("Bonjour", "openai", False, [])


def test_a_failed_primary_falls_back_to_the_secondary():
    chain = ProviderChain([StubProvider("openai", [], ProviderFailure("HTTP 503")),
                           StubProvider("anthropic", ["Salut"])])
    text, stream = reply(chain)
    assert (text, stream.provider, stream.degraded) == ("Salut", "anthropic", False)
    assert stream.failures == [("openai", "HTTP 503")]


def test_a_failure_mid_reply_restarts_with_the_next_provider():
    restarts = []
    chain = ProviderChain([StubProvider("openai", ["Bon"], ProviderFailure("connection error")),
                           StubProvider("anthropic", ["Salut !"])])
    pieces = list(chain.stream_reply(REQUEST, deadline=time.monotonic() + 5, offline=offline,
                                     on_restart=lambda: restarts.append(len(restarts))))
    assert pieces == ["Bon", "Salut !"] and restarts == [0]


def test_all_providers_failing_is_degraded_offline():
    chain = ProviderChain([StubProvider("openai", [], ProviderFailure("timeout")),
                           StubProvider("anthropic", [], ProviderFailure("HTTP 500"))])
    text, stream = reply(chain)
    assert (text, stream.provider, stream.degraded) == ("Hors ligne.", "offline", True)
    assert [name for name, _ in stream.failures] == ["openai", "anthropic"]


def test_without_providers_offline_answers_and_is_not_degraded():
    text, stream = reply(ProviderChain([]))
    assert (text, stream.provider, stream.degraded, stream.failures) == ("Hors ligne.", "offline", False, [])


def test_with_no_time_left_no_provider_is_called():
    primary = StubProvider("openai", ["Bonjour"])
    stream = ProviderChain([primary]).stream_reply(REQUEST, deadline=time.monotonic(), offline=offline)
    assert "".join(stream) == "Hors ligne." and primary.calls == 0
    assert stream.failures == [("openai", "no time left")]


def test_complete_json_takes_the_first_answer_or_none():
    failing = StubProvider("openai", [], ProviderFailure("malformed response"))
    assert ProviderChain([failing, StubProvider("anthropic", [])]).complete_json(
        REQUEST, {}, deadline=time.monotonic() + 5) == {"from": "anthropic"}
    assert ProviderChain([failing]).complete_json(REQUEST, {}, deadline=time.monotonic() + 5) is None


def test_build_chain_follows_the_settings_and_skips_providers_without_a_key():
    client = redis.Redis.from_url(BASE["REDIS_URL"])
    both = build_chain(load_settings({**BASE, "OPENAI_API_KEY": "k1", "ANTHROPIC_API_KEY": "k2",
                                      "PRIMARY_LLM_PROVIDER": "anthropic", "SECONDARY_LLM_PROVIDER": "openai"}), client)
    assert [type(p) for p in both.providers] == [AnthropicProvider, OpenAIProvider]
    assert isinstance(both.openai, OpenAIProvider)
    no_key = build_chain(load_settings({**BASE, "ANTHROPIC_API_KEY": "k2"}), client)
    assert [p.name for p in no_key.providers] == ["anthropic"] and no_key.openai is None
    offline_first = build_chain(load_settings({**BASE, "OPENAI_API_KEY": "k1", "PRIMARY_LLM_PROVIDER": "offline"}),
                                client)
    assert offline_first.providers == []


def test_an_unknown_provider_name_is_a_configuration_error():
    with pytest.raises(ConfigError, match="PRIMARY_LLM_PROVIDER must be openai, anthropic, offline or empty"):
        load_settings({**BASE, "PRIMARY_LLM_PROVIDER": "gpt"})
