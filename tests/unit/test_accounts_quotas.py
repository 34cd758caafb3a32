"""The quota rules (domain/quotas.py) on the `limits` library's in-memory storage: the same
strategy the processes use on Redis, without a server."""
from __future__ import annotations

import uuid

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import exc

from domain.config import Settings
from domain.errors import Invalid, RateLimited
from domain.llm.base import ChatRequest
from domain.llm.chain import ProviderChain
from domain.quotas import (BUDGET_EXHAUSTED, LIMIT_NAMES, Quotas, anthropic_tokens, default_limits, openai_tokens,
                           validate_overrides)

DEFAULTS = default_limits(Settings())


def quotas(overrides: dict | None = None, *, cache_seconds: float = 60.0, reads: list | None = None) -> Quotas:
    def load() -> dict:
        if reads is not None:
            reads.append("every learner")
        return {user_id: dict(limits) for user_id, limits in (overrides or {}).items()}

    return Quotas(storage=MemoryStorage(), redis_client=None, defaults=DEFAULTS, load_overrides=load,
                  override_cache_seconds=cache_seconds)


def test_every_limit_has_a_default_setting():
    assert set(DEFAULTS) == set(LIMIT_NAMES)
    assert all(value > 0 for value in DEFAULTS.values())
    assert DEFAULTS["turns_per_minute"] < DEFAULTS["turns_per_day"]


def test_the_minutes_quota_refuses_the_next_action_with_a_retry_after():
    learner = uuid.uuid4()
    rules = quotas({learner: {"turns_per_minute": 3}})
    for _ in range(3):
        rules.spend(learner, "turns")

    with pytest.raises(RateLimited) as refused:
        rules.spend(learner, "turns")

    assert refused.value.code == "quota_exceeded"
    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.details == {"quota": "turns_per_minute", "limit": 3,
                                     "retry_after_seconds": refused.value.retry_after}


def test_the_days_quota_refuses_even_when_the_minute_has_room():
    learner = uuid.uuid4()
    rules = quotas({learner: {"letters_per_day": 2}})
    rules.spend(learner, "letters")
    rules.spend(learner, "letters")

    with pytest.raises(RateLimited) as refused:
        rules.spend(learner, "letters")

    assert refused.value.details["quota"] == "letters_per_day"
    assert refused.value.retry_after > 60  # the day's window, not the minute's


def test_learners_and_actions_are_counted_apart():
    first, second = uuid.uuid4(), uuid.uuid4()
    rules = quotas({first: {"hints_per_minute": 1}, second: {"hints_per_minute": 1}})
    rules.spend(first, "hints")
    rules.spend(second, "hints")  # not the first learner's count
    rules.spend(first, "language_checks")  # not the hints' count
    with pytest.raises(RateLimited):
        rules.spend(first, "hints")


def test_a_zero_quota_refuses_at_once():
    learner = uuid.uuid4()
    with pytest.raises(RateLimited):
        quotas({learner: {"realtime_secrets_per_day": 0}}).spend(learner, "realtime_secrets")


def test_overrides_are_read_once_per_cache_period_and_raising_a_limit_gives_room():
    learner = uuid.uuid4()
    overrides = {learner: {"turns_per_minute": 1}}
    reads: list = []
    cached = quotas(overrides, reads=reads)
    cached.spend(learner, "turns")
    with pytest.raises(RateLimited):
        cached.spend(learner, "turns")
    assert reads == ["every learner"], "one read for both requests"

    rereading = quotas(overrides, cache_seconds=0, reads=reads)
    rereading.spend(learner, "turns")
    overrides[learner] = {"turns_per_minute": 5}  # `flask users set-quota` raised it
    rereading.spend(learner, "turns")
    assert rereading.limits_for(learner)["turns_per_minute"] == 5
    assert rereading.limits_for(learner)["turns_per_day"] == DEFAULTS["turns_per_day"]


def test_while_the_database_is_unavailable_the_overrides_last_read_stand():
    learner = uuid.uuid4()
    answers: list = [{learner: {"tokens_per_day": 500}}, exc.OperationalError("SELECT", {}, Exception("refused"))]

    def load() -> dict:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    rules = Quotas(storage=MemoryStorage(), redis_client=None, defaults=DEFAULTS, load_overrides=load,
                   override_cache_seconds=0)
    assert rules.limits_for(learner)["tokens_per_day"] == 500
    assert rules.limits_for(learner)["tokens_per_day"] == 500, "the read failed: the last overrides stand"
    rules.record_tokens(learner, 100)  # charging a paid answer does not fail with the database
    assert rules.limits_for(uuid.uuid4()) == DEFAULTS


def test_the_token_budget_is_spent_by_recorded_usage():
    spender, other = uuid.uuid4(), uuid.uuid4()
    rules = quotas({spender: {"tokens_per_day": 100}, other: {"tokens_per_day": 100}})
    assert not rules.budget_exhausted(spender)
    rules.record_tokens(spender, 60)
    assert not rules.budget_exhausted(spender)
    rules.record_tokens(spender, 60)
    assert rules.budget_exhausted(spender)
    assert not rules.budget_exhausted(other)


def test_overrides_must_name_known_limits_with_whole_numbers():
    assert validate_overrides({"turns_per_day": 5000}) == {"turns_per_day": 5000}
    with pytest.raises(Invalid) as refused:
        validate_overrides({"turns_per_week": 1, "sockets": -1, "long_polls": True})
    assert set(refused.value.details) == {"turns_per_week", "sockets", "long_polls"}


def test_tokens_are_read_from_each_providers_usage_fields():
    assert openai_tokens({"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42}) == 42
    assert anthropic_tokens({"input_tokens": 12, "output_tokens": 30}) == 42
    assert openai_tokens(None) == anthropic_tokens(None) == 0


class _Provider:
    """A configured provider that must not be called."""

    name = "openai"

    def __init__(self):
        self.calls = 0

    def stream_chat(self, request, *, deadline):
        self.calls += 1
        yield "from the model"

    def complete_json(self, request, schema, *, deadline):
        self.calls += 1
        return {"ok": True}


def test_a_learner_over_budget_is_answered_offline_and_no_provider_is_called():
    spender = uuid.uuid4()
    rules = quotas({spender: {"tokens_per_day": 10}})
    rules.record_tokens(spender, 10)
    provider = _Provider()
    chain = ProviderChain([provider], rules)

    stream = chain.stream_reply(ChatRequest(system="s", messages=[], learner_id=spender), deadline=1e12,
                                offline=lambda: iter(["offline reply"]))
    assert "".join(stream) == "offline reply"
    assert (stream.provider, stream.degraded, stream.degraded_reason) == ("offline", True, BUDGET_EXHAUSTED)
    assert chain.complete_json(ChatRequest(system="s", messages=[], learner_id=spender), {}, deadline=1e12) is None
    assert provider.calls == 0

    with_room = chain.stream_reply(ChatRequest(system="s", messages=[], learner_id=uuid.uuid4()), deadline=1e12,
                                   offline=lambda: iter(["offline reply"]))
    assert "".join(with_room) == "from the model" and not with_room.degraded
