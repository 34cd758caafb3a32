"""The provider chain as production builds it (settings, Redis rate limit and cache),
with the official SDKs against the loopback server: who answers, fallbacks, restarts,
the offline answer, deadlines, and cached answers."""
from __future__ import annotations

import time
import uuid

import pytest

from domain.llm.base import ChatRequest
from domain.llm.chain import ProviderChain
from tests.support.in_process import chain_against
from tests.support.fake_llm import DEFAULT_REPLY

SECONDARY_REPLY = "Coucou ! Ici Henri. Tu as passé une bonne journée ?"
OFFLINE_PIECES = ["Salut ! ", "Tu vas ", "bien ?"]
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
          "additionalProperties": False}


@pytest.fixture
def chain(stack, fake) -> ProviderChain:
    fake.anthropic.reply_text = SECONDARY_REPLY
    with chain_against(stack, fake) as built:
        yield built


def request() -> ChatRequest:
    """A request no earlier test asked (cached answers outlive a test)."""
    return ChatRequest(system=f"Tu es Camille. ({uuid.uuid4()})", messages=[{"role": "user", "content": "Salut !"}])


def reply(chain: ProviderChain, seconds: float = 5):
    restarts: list[float] = []
    stream = chain.stream_reply(request(), deadline=time.monotonic() + seconds, offline=lambda: iter(OFFLINE_PIECES),
                                on_restart=lambda: restarts.append(time.monotonic()))
    pieces = list(stream)
    return pieces, stream, restarts


def test_the_primary_answers_in_streamed_pieces(chain, fake):
    pieces, stream, restarts = reply(chain)
    assert len(pieces) > 3 and "".join(pieces) == DEFAULT_REPLY
    assert (stream.provider, stream.degraded, stream.failures, restarts) == ("openai", False, [], [])
    assert fake.anthropic.requests == []


def test_after_its_retries_the_primary_gives_way_to_the_secondary(chain, fake):
    fake.openai.fail_next(10, status=503)
    pieces, stream, _ = reply(chain)
    assert "".join(pieces) == SECONDARY_REPLY
    assert (stream.provider, stream.degraded, stream.failures) == ("anthropic", False, [("openai", "HTTP 503")])
    assert len(fake.openai.requests) == 3  # the first try and LLM_MAX_RETRIES retries


def test_a_refused_key_falls_back_at_once(chain, fake):
    fake.openai.fail_next(1, status=401)
    pieces, stream, _ = reply(chain)
    assert stream.provider == "anthropic" and len(fake.openai.requests) == 1


def test_malformed_output_falls_back(chain, fake):
    fake.openai.malformed = True
    pieces, stream, _ = reply(chain)
    assert "".join(pieces) == SECONDARY_REPLY and stream.failures == [("openai", "malformed response")]


def test_a_stream_broken_midway_restarts_with_the_secondarys_full_reply(chain, fake):
    fake.openai.disconnect_after = 2
    pieces, stream, restarts = reply(chain)
    assert len(restarts) == 1
    assert "".join(pieces[:2]) == "Bonjour ! Je m'appelle "  # what the clients must discard
    assert "".join(pieces[2:]) == SECONDARY_REPLY
    assert stream.provider == "anthropic" and len(fake.openai.requests) == 1


def test_all_providers_down_is_a_degraded_offline_reply_before_the_deadline(chain, fake):
    fake.openai.delay = 10  # hangs far past the request timeout
    fake.anthropic.down()
    started = time.monotonic()
    pieces, stream, restarts = reply(chain, seconds=1.5)
    # Near the deadline (1.5 s; generous for a busy machine), not after the primary's
    # request timeout (2 s) or its hang (10 s).
    assert time.monotonic() - started < 4.5
    assert (pieces, stream.provider, stream.degraded, restarts) == (OFFLINE_PIECES, "offline", True, [])
    assert [name for name, _ in stream.failures] == ["openai", "anthropic"]


def test_a_primary_that_trickles_is_cut_at_the_deadline(chain, fake):
    fake.openai.piece_delay = 0.5
    fake.anthropic.delay = 10
    started = time.monotonic()
    pieces, stream, restarts = reply(chain, seconds=1.2)
    # Near the deadline (1.2 s; generous for a busy machine), not when the trickle ends (5.5 s).
    assert time.monotonic() - started < 3.0
    assert len(restarts) == 1 and pieces[-3:] == OFFLINE_PIECES and stream.degraded


def test_a_deterministic_json_answer_is_cached_and_skips_the_network(chain, fake):
    question = ChatRequest(system=f"Note cette phrase. ({uuid.uuid4()})",
                           messages=[{"role": "user", "content": "Je suis allé au cinéma."}], temperature=0)
    fake.openai.reply_json = {"ok": True}
    assert chain.complete_json(question, SCHEMA, deadline=time.monotonic() + 5) == {"ok": True}
    fake.openai.reply_json = {"ok": False}  # a new network call would see this
    assert chain.complete_json(question, SCHEMA, deadline=time.monotonic() + 5) == {"ok": True}
    assert len(fake.openai.requests) == 1

    creative = ChatRequest(system=question.system, messages=question.messages, temperature=0.7)
    chain.complete_json(creative, SCHEMA, deadline=time.monotonic() + 5)
    chain.complete_json(creative, SCHEMA, deadline=time.monotonic() + 5)
    assert len(fake.openai.requests) == 3


def test_json_falls_back_to_the_secondary_then_to_none(chain, fake):
    fake.openai.reply_json = "pas du JSON"
    fake.anthropic.reply_json = {"ok": True}
    assert chain.complete_json(request(), SCHEMA, deadline=time.monotonic() + 5) == {"ok": True}
    fake.anthropic.down()
    assert chain.complete_json(request(), SCHEMA, deadline=time.monotonic() + 3) is None
