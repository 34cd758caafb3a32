"""The OpenAI and Anthropic providers: the official SDKs against the loopback server
(tests/support/fake_llm.py), streaming, JSON, retries, timeouts and broken answers."""
from __future__ import annotations

import time

import pytest

from domain.llm.anthropic_provider import AnthropicProvider
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.openai_provider import OpenAIProvider
from domain.llm.remote import CallPolicy
from tests.support.fake_llm import DEFAULT_REPLY, FakeLLM

REQUEST = ChatRequest(system="Tu es Camille, une amie parisienne.",
                      messages=[{"role": "user", "content": "Salut ! Ça va ?"}], max_tokens=120, temperature=0.7)
SCHEMA = {"type": "object", "properties": {"score": {"type": "integer"}, "comment": {"type": "string"}},
          "required": ["score", "comment"], "additionalProperties": False}
POLICY = CallPolicy(request_timeout=2, max_retries=2)
CHAT_PATH = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


def provider(fake: FakeLLM, name: str, policy: CallPolicy = POLICY):
    if name == "openai":
        return OpenAIProvider(api_key="test-openai-key", base_url=fake.openai.url, model="gpt-test",
                              moderation_model="omni-moderation-latest", realtime_model="gpt-realtime", policy=policy)
    return AnthropicProvider(api_key="test-anthropic-key", base_url=fake.anthropic.url, model="claude-test",
                             policy=policy)


def soon(seconds: float = 5) -> float:
    return time.monotonic() + seconds


both = pytest.mark.parametrize("name", ["openai", "anthropic"])


@both
def test_a_reply_streams_in_pieces_from_the_real_sdk(fake, name):
    pieces = list(provider(fake, name).stream_chat(REQUEST, deadline=soon()))
    assert len(pieces) > 3 and "".join(pieces) == DEFAULT_REPLY
    [call] = getattr(fake, name).calls(CHAT_PATH[name])
    assert call.body["stream"] is True and call.body["max_tokens"] == 120
    assert call.headers["authorization"] == f"Bearer test-{name}-key"
    if name == "openai":
        assert call.body["model"] == "gpt-test" and call.body["temperature"] == 0.7
        assert call.body["messages"] == [{"role": "system", "content": REQUEST.system}, *REQUEST.messages]
    else:
        assert call.body["model"] == "claude-test" and "temperature" not in call.body
        assert call.body["system"] == REQUEST.system and call.body["messages"] == REQUEST.messages
        assert call.headers["anthropic-version"]


@both
def test_replies_reuse_one_kept_alive_connection(fake, name):
    """A finished stream's connection goes back to the pool: a reply per connection would
    cost a handshake (and a resolver lookup, and TLS) per turn."""
    server = getattr(fake, name)
    server.keep_alive = True
    model = provider(fake, name)
    replies = ["".join(model.stream_chat(REQUEST, deadline=soon())) for _ in range(4)]
    assert replies == [DEFAULT_REPLY] * 4
    assert len(server.calls(CHAT_PATH[name])) == 4
    assert server.connections == 1


@both
def test_a_json_answer_is_asked_for_with_the_schema_and_validated(fake, name):
    getattr(fake, name).reply_json = {"score": 4, "comment": "Très bien"}
    assert provider(fake, name).complete_json(REQUEST, SCHEMA, deadline=soon()) == {"score": 4, "comment": "Très bien"}
    [call] = getattr(fake, name).calls(CHAT_PATH[name])
    if name == "openai":
        assert call.body["response_format"] == {
            "type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}}
    else:
        assert call.body["tool_choice"] == {"type": "tool", "name": "answer"}
        assert call.body["tools"][0]["input_schema"] == SCHEMA


@both
@pytest.mark.parametrize("output", [{"score": "four", "comment": "?"}, "Voici mon avis : 4/5", "malformed body"])
def test_output_that_is_not_valid_json_for_the_schema_is_a_failure_not_retried(fake, name, output):
    server = getattr(fake, name)
    if output == "malformed body":
        server.malformed = True
    else:
        server.reply_json = output
    with pytest.raises(ProviderFailure) as failure:
        provider(fake, name).complete_json(REQUEST, SCHEMA, deadline=soon())
    assert not failure.value.retryable
    assert len(server.calls(CHAT_PATH[name])) == 1


@both
def test_a_malformed_stream_is_a_failure(fake, name):
    getattr(fake, name).malformed = True
    with pytest.raises(ProviderFailure, match="malformed"):
        list(provider(fake, name).stream_chat(REQUEST, deadline=soon()))


@both
@pytest.mark.parametrize("retry_after,count,wait", [
    ({"Retry-After": "1"}, 1, 1.0),
    ({"retry-after-ms": "250"}, 2, 0.25),
])
def test_429_is_retried_after_the_wait_the_server_asks_for(fake, name, retry_after, count, wait):
    server = getattr(fake, name)
    server.fail_next(count, status=429, headers=retry_after)
    assert "".join(provider(fake, name).stream_chat(REQUEST, deadline=soon())) == DEFAULT_REPLY
    arrivals = [call.at for call in server.calls(CHAT_PATH[name])]
    assert len(arrivals) == count + 1
    # At least the wait asked for (the behaviour), and not many times more.
    assert all(wait <= later - earlier < 3 * wait + 0.5 for earlier, later in zip(arrivals, arrivals[1:]))


@both
def test_5xx_is_retried_at_most_llm_max_retries_times(fake, name):
    server = getattr(fake, name)
    server.fail_next(5, status=503)
    with pytest.raises(ProviderFailure, match="HTTP 503"):
        provider(fake, name).complete_json(REQUEST, SCHEMA, deadline=soon())
    assert len(server.calls(CHAT_PATH[name])) == 3


@both
def test_401_is_not_retried(fake, name):
    server = getattr(fake, name)
    server.fail_next(1, status=401)
    with pytest.raises(ProviderFailure, match="HTTP 401"):
        list(provider(fake, name).stream_chat(REQUEST, deadline=soon()))
    assert len(server.calls(CHAT_PATH[name])) == 1


@both
def test_a_failure_before_the_first_piece_is_retried(fake, name):
    server = getattr(fake, name)
    server.fail_next(1, status=500)
    assert "".join(provider(fake, name).stream_chat(REQUEST, deadline=soon())) == DEFAULT_REPLY
    assert len(server.calls(CHAT_PATH[name])) == 2


@both
def test_a_stream_cut_after_some_pieces_fails_without_a_retry(fake, name):
    server = getattr(fake, name)
    server.disconnect_after = 2
    received = []
    with pytest.raises(ProviderFailure):
        for piece in provider(fake, name).stream_chat(REQUEST, deadline=soon()):
            received.append(piece)
    assert len(received) == 2
    assert len(server.calls(CHAT_PATH[name])) == 1


@both
def test_a_server_that_hangs_costs_no_more_than_the_deadline(fake, name):
    getattr(fake, name).delay = 5
    started = time.monotonic()
    with pytest.raises(ProviderFailure):
        provider(fake, name).complete_json(REQUEST, SCHEMA, deadline=started + 0.5)
    assert time.monotonic() - started < 2.0, "given up near the deadline (0.5 s), not after the hang (5 s)"


@both
def test_a_request_that_timed_out_after_it_was_sent_is_not_asked_again(fake, name):
    # The provider may be answering (and billing) it: the chain falls back instead.
    server = getattr(fake, name)
    server.delay = 0.3
    quick = CallPolicy(request_timeout=0.15, max_retries=2)
    started = time.monotonic()
    with pytest.raises(ProviderFailure, match="timeout") as failure:
        list(provider(fake, name, quick).stream_chat(REQUEST, deadline=soon()))
    assert not failure.value.retryable
    assert len(server.calls(CHAT_PATH[name])) == 1
    with pytest.raises(ProviderFailure, match="timeout"):
        provider(fake, name, quick).complete_json(REQUEST, SCHEMA, deadline=soon())
    assert len(server.calls(CHAT_PATH[name])) == 2, "one more request for the second call, none repeated"
    assert time.monotonic() - started < 3, "two 0.15 s timeouts, not the deadline (5 s)"


@both
def test_a_provider_that_is_down_is_a_connection_failure(fake, name):
    getattr(fake, name).down()
    with pytest.raises(ProviderFailure, match="connection error") as failure:
        list(provider(fake, name).stream_chat(REQUEST, deadline=soon()))
    assert failure.value.retryable


def test_moderation_lists_the_flagged_categories(fake):
    openai = provider(fake, "openai")
    assert openai.moderate("Bonjour, je m'appelle Léa.", deadline=soon()) == {"flagged": False, "categories": []}
    fake.openai.moderation_flags = {"harassment", "self-harm/intent"}
    assert openai.moderate("…", deadline=soon()) == {"flagged": True, "categories": ["harassment", "self-harm/intent"]}
    call = fake.openai.calls("/v1/moderations")[-1]
    assert call.body == {"input": "…", "model": "omni-moderation-latest"}


def test_a_realtime_client_secret_carries_the_session(fake):
    secret = provider(fake, "openai").create_realtime_client_secret(
        {"instructions": "Parle lentement, en français."}, deadline=soon())
    assert secret["value"].startswith("ek_") and secret["expires_at"] > time.time()
    assert secret["session"]["model"] == "gpt-realtime"
    assert secret["session"]["instructions"] == "Parle lentement, en français."
    [call] = fake.openai.calls("/v1/realtime/client_secrets")
    assert call.body == {"session": {"type": "realtime", "model": "gpt-realtime",
                                     "instructions": "Parle lentement, en français."}}
