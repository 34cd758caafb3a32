"""ProviderChain.complete: one model call with the caller's offline fallback."""
from __future__ import annotations

from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.chain import ProviderChain

REQUEST = ChatRequest(system="s", messages=[{"role": "user", "content": "Salut !"}])


class Stub:
    def __init__(self, name: str, text: str = "", failure: ProviderFailure | None = None, answers=()):
        self.name, self.text, self.failure, self.answers, self.calls = name, text, failure, list(answers), 0

    def stream_chat(self, request, *, deadline):
        self.calls += 1
        if self.failure:
            raise self.failure
        yield self.text

    def complete_json(self, request, schema, *, deadline):
        self.calls += 1
        if self.failure:
            raise self.failure
        return self.answers.pop(0)


def test_without_providers_the_offline_answer_is_the_answer_not_degraded():
    done = ProviderChain([]).complete(REQUEST, seconds=5, offline=lambda: "hors ligne")
    assert (done.value, done.provider, done.degraded) == ("hors ligne", "offline", False)


def test_the_first_usable_answer_wins_and_an_empty_one_falls_back_degraded():
    done = ProviderChain([Stub("openai", "  Bonjour ! ")]).complete(REQUEST, seconds=5, offline=lambda: "x")
    assert (done.value, done.provider, done.degraded) == ("Bonjour !", "openai", False)
    empty = ProviderChain([Stub("openai", "  ")]).complete(REQUEST, seconds=5, offline=lambda: "x")
    assert (empty.value, empty.provider, empty.degraded) == ("x", "offline", True)
    assert empty.degraded_reason == "invalid_answer"


def test_failed_providers_fall_back_with_the_reason():
    chain = ProviderChain([Stub("openai", failure=ProviderFailure("timeout")),
                           Stub("anthropic", failure=ProviderFailure("timeout"))])
    done = chain.complete(REQUEST, seconds=5, offline=lambda: "x")
    assert (done.value, done.provider, done.degraded) == ("x", "offline", True)
    assert done.degraded_reason == "providers_failed"


def test_a_json_answer_the_caller_cannot_use_is_asked_again():
    def parse(answer):
        if answer["score"] is None:
            raise ValueError("no score")
        return answer["score"]

    provider = Stub("openai", answers=[{"score": None}, {"score": 80}])
    done = ProviderChain([provider]).complete(REQUEST, seconds=5, schema={}, parse=parse, attempts=2,
                                              offline=lambda: 0)
    assert (done.value, done.provider, done.degraded, provider.calls) == (80, "openai", False, 2)
