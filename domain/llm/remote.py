"""What the OpenAI and Anthropic providers share: the rate limit, retries, the cache, the
caller's deadline, and turning SDK errors into ProviderFailure.

Both official SDKs come from the same generator and have the same error classes, so a
subclass only says which SDK it uses and how to ask its API for text or JSON.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from domain import metrics
from domain.llm import pool_check
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.cache import AnswerCache
from domain.llm.deadline import iterate_until, run_until
from domain.llm.retry import MIN_ATTEMPT_SECONDS, call_with_retries, retry_after_seconds
from domain.llm.rate_limit import RequestRateLimit

if TYPE_CHECKING:
    from domain.quotas import Quotas

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class CallPolicy:
    request_timeout: float  # seconds, for one request; never past the caller's deadline
    max_retries: int
    rate_limit: RequestRateLimit | None = None
    cache: AnswerCache | None = None
    quotas: Quotas | None = None  # charged the tokens of each learner's call
    # Connections kept open to the provider. The SDKs keep 100; an `llm` process has about
    # three calls in flight per turn, and a connection opened per call costs a TCP (and
    # TLS) handshake and a resolver lookup.
    keepalive_connections: int = 300


class ClientPools:
    """A few SDK clients, each on an HTTP client with its own pool of kept-alive
    connections. An HTTP client walks every connection of its pool twice per request (to
    pick one, and when it is given back): with 300 calls in flight, one pool cost 1.4
    times the CPU per call of pools of 25 (docs/load-history.md). A request takes the first
    client with fewer than CONNECTIONS_PER_CLIENT requests in flight, so light traffic
    keeps reusing one pool's connections and heavy traffic spreads over small pools."""

    CONNECTIONS_PER_CLIENT = 25

    def __init__(self, make: Callable[[httpx2.Client], Any], sdk: ModuleType, *, keepalive_connections: int):
        pool_check.install()
        count = max(1, math.ceil(keepalive_connections / self.CONNECTIONS_PER_CLIENT))
        limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=math.ceil(keepalive_connections / count))
        self._clients = [make(sdk.DefaultHttpxClient(limits=limits)) for _ in range(count)]
        self._in_flight = [0] * count

    @contextmanager
    def lease(self) -> Iterator[Any]:
        """An SDK client for one request (a stream included), until the block ends."""
        counts = self._in_flight
        index = next((i for i, n in enumerate(counts) if n < self.CONNECTIONS_PER_CLIENT),
                     min(range(len(counts)), key=counts.__getitem__))
        counts[index] += 1
        try:
            yield self._clients[index]
        finally:
            counts[index] -= 1


class RemoteProvider:
    name: str
    sdk: ModuleType  # `openai` or `anthropic`

    def __init__(self, *, model: str, policy: CallPolicy, make_client: Callable[[httpx2.Client], Any]):
        self.model = model
        self._policy = policy
        self._clients = ClientPools(make_client, self.sdk, keepalive_connections=policy.keepalive_connections)

    # --- what callers use ------------------------------------------------------------

    def stream_chat(self, request: ChatRequest, *, deadline: float) -> Iterator[str]:
        """The reply in pieces as the model writes them. Raises ProviderFailure before the
        first piece (after retries) or later, if the stream breaks (never retried)."""
        return iterate_until(deadline, self._stream(request, deadline))

    def complete_json(self, request: ChatRequest, schema: dict, *, deadline: float) -> dict:
        """An answer valid against the JSON `schema`. Cached when `request.temperature`
        is 0. An invalid schema raises jsonschema's SchemaError (a caller bug)."""
        _validator(json.dumps(schema, sort_keys=True))
        return run_until(deadline, lambda: self._complete_json(request, schema, deadline))

    # --- what a provider implements ---------------------------------------------------

    def _chat_pieces(self, request: ChatRequest, timeout: float) -> Iterator[str]:
        """Open a streamed reply and yield its text; raise ProviderFailure if it ends
        without the API's end marker."""
        raise NotImplementedError

    def _json_answer(self, request: ChatRequest, schema: dict, timeout: float) -> Any:
        """One request for a JSON answer to `schema`; the decoded answer, unvalidated."""
        raise NotImplementedError

    # --- shared machinery ---------------------------------------------------------------

    def _charge(self, request: ChatRequest, tokens: int) -> None:
        """Count the tokens the API reported for this call against the learner's budget."""
        if self._policy.quotas is not None and request.learner_id is not None:
            self._policy.quotas.record_tokens(request.learner_id, tokens)

    def _post(self, path: str, body: dict, timeout: float) -> Any:
        """One request through the SDK's generic `post` (its documented way to reach any
        endpoint), answered as decoded JSON. The typed methods re-walk every request and
        build a model of every streamed chunk: for a reply with some history, five times
        the CPU of the request itself (6.0 ms against 1.2 ms, bench in the README). The
        wire protocol, errors and timeouts stay the SDK's."""
        with self._clients.lease() as client:
            return client.post(path, body=body, cast_to=object, options={"timeout": timeout})

    @contextmanager
    def _open_stream(self, path: str, body: dict, timeout: float) -> Iterator[Any]:
        """As `_post`, for a streamed answer: its events as decoded JSON, until the block ends."""
        with self._clients.lease() as client:
            with client.post(path, body=body, cast_to=object, options={"timeout": timeout}, stream=True,
                             stream_cls=self.sdk.Stream[object]) as stream:
                yield stream

    @staticmethod
    def _release(stream: Any) -> None:
        """Read the rest of a finished stream's body (its end marker) before it is closed.
        The sync SDKs close the body unread after the last event, which closes its
        connection: every reply would pay for a new one (the async SDK drains it too)."""
        try:
            for _ in stream.response.stream:
                pass
        except httpx2.HTTPError:  # the answer is complete; the connection is simply not reused
            pass

    def _call_until(self, deadline: float, attempt: Callable[[float], T]) -> T:
        """`attempt(timeout)` with retries, within `deadline` however the server behaves."""
        return run_until(deadline, lambda: self._call(attempt, deadline))

    def _complete_json(self, request: ChatRequest, schema: dict, deadline: float) -> dict:
        validator = _validator(json.dumps(schema, sort_keys=True))
        cache = self._policy.cache if request.temperature == 0 else None
        if cache:
            key = AnswerCache.key(provider=self.name, model=self.model, request=request, schema=schema)
            if (cached := cache.get(key)) is not None:
                return cached

        def attempt(timeout: float) -> dict:
            answer = self._json_answer(request, schema, timeout)
            if (error := best_match(validator.iter_errors(answer))) is not None:
                raise ProviderFailure(f"answer does not match the schema: {error.message[:200]}")
            return answer

        answer = self._call(attempt, deadline)
        if cache:
            cache.put(key, answer)
        return answer

    def _stream(self, request: ChatRequest, deadline: float) -> Iterator[str]:
        def first_piece(timeout: float) -> tuple[str, Iterator[str]]:
            pieces = self._chat_pieces(request, timeout)
            for piece in pieces:
                if piece:
                    return piece, pieces
            raise ProviderFailure("empty reply")

        # Retrying is safe until the caller has seen text; after that, the chain decides.
        first, rest = self._call(first_piece, deadline)
        yield first
        with self._translated_errors():
            yield from rest

    def _call(self, attempt: Callable[[float], T], deadline: float) -> T:
        def once() -> T:
            if self._policy.rate_limit:
                self._policy.rate_limit.acquire(deadline=deadline)
            timeout = min(self._policy.request_timeout, deadline - time.monotonic())
            if timeout < MIN_ATTEMPT_SECONDS:
                raise ProviderFailure("deadline passed")
            with self._translated_errors():
                return attempt(timeout)

        def retrying(failure: ProviderFailure, wait: float) -> None:  # a repeat may be a second paid call: say so
            metrics.LLM_RETRIES.labels(self.name, failure.reason.split(":")[0]).inc()
            log.warning("%s: %s; asking again in %.2f s", self.name, failure.reason, wait)

        return call_with_retries(once, deadline=deadline, max_retries=self._policy.max_retries, on_retry=retrying)

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        sdk = self.sdk
        try:
            yield
        except sdk.APITimeoutError as error:
            raise ProviderFailure("timeout", retryable=_never_sent(error.__cause__)) from error
        except sdk.APIConnectionError as error:
            raise ProviderFailure("connection error", retryable=True) from error
        except sdk.APIStatusError as error:
            status = error.status_code
            retryable = status in (408, 429) or status >= 500
            if not retryable:
                log.error("%s refused the request (HTTP %s): %s", self.name, status, error.message)
            raise ProviderFailure(f"HTTP {status}", retryable=retryable,
                                  retry_after=retry_after_seconds(error.response.headers)) from error
        except (sdk.APIResponseValidationError, json.JSONDecodeError) as error:
            raise ProviderFailure("malformed response") from error
        except (KeyError, IndexError, TypeError) as error:  # an answer not shaped as the API's
            raise ProviderFailure(f"malformed response: {error!r}"[:200]) from error
        except sdk.APIError as error:  # e.g. an error event inside a stream
            raise ProviderFailure(f"API error: {error.message[:200]}") from error
        except httpx2.TimeoutException as error:  # waiting for a streamed answer, when the SDK does not wrap it
            raise ProviderFailure("timeout", retryable=_never_sent(error)) from error
        except httpx2.TransportError as error:  # a stream cut short, when the SDK does not wrap it
            raise ProviderFailure("connection error", retryable=True) from error


def _never_sent(timeout: BaseException | None) -> bool:
    """Whether a timed-out request never reached the provider (no connection in time), so
    that asking again cannot pay twice. Once sent, the provider may be answering it — a
    starved process reads the answer too late — and a paid call is made once: the chain
    falls back instead."""
    return isinstance(timeout, (httpx2.ConnectTimeout, httpx2.PoolTimeout))


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    """A checked validator per schema: checking a schema costs more than the call's own
    validation, and the schemas are a handful of constants."""
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
