"""The provider chain (design, section 6): the primary, then the secondary, then an
offline answer the caller supplies, never keeping the caller past its deadline.

    stream = get_chain().stream_reply(request, deadline=time.monotonic() + 20,
                                      offline=lambda: offline.stream_reply(reply_request),
                                      on_restart=tell_clients_to_discard_the_partial_reply)
    for piece in stream:
        ...
    stream.provider, stream.degraded, stream.degraded_reason, stream.failures

A call that needs the whole answer (a hint, a letter, a summary, a score) is one line,
with the caller's offline fallback:

    done = get_chain().complete(request, seconds=20, offline=lambda: offline_hints,
                                parse=hints.parse_suggestions)
    done.value, done.provider, done.degraded, done.degraded_reason

A request made for a learner (`ChatRequest.learner_id`) whose daily token budget is spent
goes to no provider: the offline answer stands in (degraded, reason `budget_exhausted`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

import redis

from domain import metrics
from domain.config import Settings, get_settings
from domain.llm.anthropic_provider import AnthropicProvider
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.cache import AnswerCache
from domain.llm.openai_provider import OpenAIProvider
from domain.llm.remote import CallPolicy, RemoteProvider
from domain.llm.retry import MIN_ATTEMPT_SECONDS
from domain.llm.rate_limit import RequestRateLimit
from domain.quotas import BUDGET_EXHAUSTED, Quotas, get_quotas
from domain.redis_client import get_redis

log = logging.getLogger(__name__)

T = TypeVar("T")

# Providers must give up this long before the caller's deadline, so the caller's own
# fallback (the offline reply: string work, milliseconds) still comes in time.
OFFLINE_RESERVE_SECONDS = 0.1


class ReplyStream:
    """Iterate for the reply's pieces; afterwards `provider` names who answered
    ("openai", "anthropic" or "offline"), `degraded` says whether the offline answer
    stood in for configured providers, `degraded_reason` why (`providers_failed` or
    `budget_exhausted`), and `failures` lists (provider, reason)."""

    def __init__(self, providers: list[RemoteProvider], request: ChatRequest, *, deadline: float,
                 offline: Callable[[], Iterable[str]], on_restart: Callable[[], None] | None,
                 budget_exhausted: bool = False):
        self.provider: str | None = None
        self.degraded = False
        self.degraded_reason: str | None = None
        self.failures: list[tuple[str, str]] = []
        self._pieces = (self._offline_only(offline) if budget_exhausted
                        else self._run(providers, request, deadline, offline, on_restart))

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def close(self) -> None:
        """Stop reading the reply; a request still open is abandoned."""
        self._pieces.close()

    def _run(self, providers: list[RemoteProvider], request: ChatRequest, deadline: float,
             offline: Callable[[], Iterable[str]], on_restart: Callable[[], None] | None) -> Iterator[str]:
        deadline -= OFFLINE_RESERVE_SECONDS
        for provider in providers:
            if deadline - time.monotonic() < MIN_ATTEMPT_SECONDS:
                self._failed(provider, "no time left")
                continue
            self._fell_back_to(provider.name)
            try:
                with metrics.llm_call(provider.name, "reply"):
                    for piece in provider.stream_chat(request, deadline=deadline):
                        self.provider = provider.name
                        yield piece
                return
            except ProviderFailure as failure:
                self._failed(provider, failure.reason)
                if self.provider is not None:  # the caller has part of this reply: it must drop it
                    self.provider = None
                    if on_restart:
                        on_restart()
        self._fell_back_to("offline")
        self.provider = "offline"
        self.degraded = bool(providers)
        self.degraded_reason = "providers_failed" if providers else None
        yield from offline()

    def _offline_only(self, offline: Callable[[], Iterable[str]]) -> Iterator[str]:
        """The learner's token budget is spent: no provider is asked."""
        self.provider, self.degraded, self.degraded_reason = "offline", True, BUDGET_EXHAUSTED
        yield from offline()

    def _fell_back_to(self, name: str) -> None:
        if self.failures:
            metrics.LLM_FALLBACKS.labels(self.failures[-1][0], name).inc()

    def _failed(self, provider: RemoteProvider, reason: str) -> None:
        self.failures.append((provider.name, reason))
        log.warning("LLM provider %s failed: %s", provider.name, reason)


@dataclass(frozen=True)
class Completion(Generic[T]):
    """What `ProviderChain.complete` got: the caller's value, who gave it ("openai",
    "anthropic" or "offline"), and whether the offline fallback stood in for configured
    providers (`degraded`) and why (`providers_failed`, `budget_exhausted`, `invalid_answer`)."""
    value: T
    provider: str
    degraded: bool = False
    degraded_reason: str | None = None


def _text(answer: str) -> str:
    """The default reading of an answer: its text, stripped; an empty answer is no answer."""
    text = answer.strip()
    if not text:
        raise ValueError("empty answer")
    return text


class ProviderChain:
    def __init__(self, providers: list[RemoteProvider], quotas: Quotas | None = None):
        self.providers = providers
        self.quotas = quotas  # the learners' token budgets; None: not checked

    def stream_reply(self, request: ChatRequest, *, deadline: float, offline: Callable[[], Iterable[str]],
                     on_restart: Callable[[], None] | None = None) -> ReplyStream:
        """A reply from the first provider that manages one; a provider that fails after
        some pieces triggers `on_restart()` and the next one starts from scratch.
        `deadline` is a `time.monotonic()` value; when it passes, `offline()` answers.
        A learner over their token budget gets `offline()` at once."""
        return ReplyStream(self.providers, request, deadline=deadline, offline=offline, on_restart=on_restart,
                           budget_exhausted=bool(self.providers) and self._budget_exhausted(request))

    def _budget_exhausted(self, request: ChatRequest) -> bool:
        return (self.quotas is not None and request.learner_id is not None
                and self.quotas.budget_exhausted(request.learner_id))

    def complete(self, request: ChatRequest, *, seconds: float, offline: Callable[[], T],
                 parse: Callable[[Any], T] = _text, schema: dict | None = None, attempts: int = 1) -> Completion[T]:
        """The one way to call a model with a fallback. The first provider's answer (its
        text; with `schema`, a JSON object valid against it) made into the caller's value
        by `parse`, which raises ValueError for an answer it cannot use; the chain is
        asked `attempts` times, each given `seconds`. Else `offline()`: degraded, unless
        no provider is configured (then the offline answer is simply the answer)."""
        if not self.providers:
            return Completion(offline(), "offline")
        reason = "providers_failed"
        for _ in range(attempts):
            deadline = time.monotonic() + seconds
            if schema is None:
                stream = self.stream_reply(request, deadline=deadline, offline=lambda: iter(()))
                answer, provider = "".join(stream), stream.provider
                if provider == "offline":
                    reason = stream.degraded_reason or reason
                    continue
            else:
                answered = self._complete_json_by(request, schema, deadline=deadline)
                if answered is None:
                    reason = BUDGET_EXHAUSTED if self._budget_exhausted(request) else "providers_failed"
                    continue
                answer, provider = answered
            try:
                return Completion(parse(answer), provider)
            except ValueError:
                log.warning("%s gave an answer that could not be used", provider)
                reason = "invalid_answer"
        return Completion(offline(), "offline", True, reason)

    def complete_json(self, request: ChatRequest, schema: dict, *, deadline: float) -> dict | None:
        """The first provider's answer valid against `schema`, or None when no provider
        could give one in time (the caller then does without, e.g. local grammar)."""
        answered = self._complete_json_by(request, schema, deadline=deadline)
        return answered[0] if answered else None

    def _complete_json_by(self, request: ChatRequest, schema: dict, *, deadline: float) -> tuple[dict, str] | None:
        """The answer and the name of the provider that gave it (None too for a learner
        over their token budget)."""
        if self._budget_exhausted(request):
            return None
        failed = None
        for provider in self.providers:
            if failed:
                metrics.LLM_FALLBACKS.labels(failed, provider.name).inc()
            try:
                with metrics.llm_call(provider.name, "json"):
                    answer = provider.complete_json(request, schema, deadline=deadline - OFFLINE_RESERVE_SECONDS)
                return answer, provider.name
            except ProviderFailure as failure:
                log.warning("LLM provider %s failed a JSON request: %s", provider.name, failure.reason)
                failed = provider.name
        return None

    @property
    def openai(self) -> OpenAIProvider | None:
        """For moderation and Realtime client secrets: OpenAI when the chain has it."""
        return next((p for p in self.providers if isinstance(p, OpenAIProvider)), None)


def build_chain(settings: Settings, redis_client: redis.Redis, quotas: Quotas | None = None) -> ProviderChain:
    """Providers in configured order, stopping at "offline"; one without a key is skipped.
    With `quotas`, learners' calls are charged to and stopped by their token budgets."""
    providers: list[RemoteProvider] = []
    for name in (settings.primary_llm_provider, settings.secondary_llm_provider):
        if name == "offline":
            break
        if name and name not in {p.name for p in providers} and (
                provider := _build(name, settings, redis_client, quotas)):
            providers.append(provider)
    return ProviderChain(providers, quotas)


@cache
def get_chain() -> ProviderChain:
    """The process's chain. Its HTTP connections must not cross a fork: a forked child
    calls `get_chain.cache_clear()` (as with `redis_client.reset_after_fork`)."""
    return build_chain(get_settings(), get_redis(), get_quotas())


def _build(name: str, settings: Settings, redis_client: redis.Redis, quotas: Quotas | None) -> RemoteProvider | None:
    answer_cache = AnswerCache(redis_client, ttl_seconds=settings.llm_cache_ttl_seconds)

    def policy(requests_per_minute: int) -> CallPolicy:
        return CallPolicy(
            request_timeout=settings.llm_request_timeout_seconds,
            max_retries=settings.llm_max_retries,
            rate_limit=RequestRateLimit(redis_client, provider=name, requests=requests_per_minute),
            cache=answer_cache,
            quotas=quotas,
            keepalive_connections=settings.llm_keepalive_connections,
        )

    if name == "openai" and settings.openai_api_key:
        return OpenAIProvider(api_key=settings.openai_api_key, base_url=settings.openai_api_base,
                              model=settings.openai_model, moderation_model=settings.openai_moderation_model,
                              realtime_model=settings.openai_realtime_model,
                              policy=policy(settings.openai_requests_per_minute))
    if name == "anthropic" and settings.anthropic_api_key:
        return AnthropicProvider(api_key=settings.anthropic_api_key, base_url=settings.anthropic_api_base,
                                 model=settings.anthropic_model, policy=policy(settings.anthropic_requests_per_minute))
    return None
