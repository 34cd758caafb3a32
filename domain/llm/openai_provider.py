"""OpenAI through its official SDK: Chat Completions (so any OpenAI-compatible server
works), moderation, and Realtime client secrets for the voice mode."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai

from domain import metrics
from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.remote import CallPolicy, RemoteProvider
from domain.quotas import openai_tokens


class OpenAIProvider(RemoteProvider):
    name = "openai"
    sdk = openai

    def __init__(self, *, api_key: str, base_url: str, model: str, moderation_model: str, realtime_model: str,
                 policy: CallPolicy):
        # Retries are ours (bounded by the caller's deadline), not the SDK's.
        super().__init__(model=model, policy=policy, make_client=lambda http_client: openai.OpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client))
        self.moderation_model = moderation_model
        self.realtime_model = realtime_model

    def moderate(self, text: str, *, deadline: float) -> dict:
        """{"flagged": bool, "categories": [OpenAI's names of the flagged categories,
        e.g. "harassment", "self-harm/intent"]}."""
        def attempt(timeout: float) -> dict:
            response = self._post("/moderations", {"input": text, "model": self.moderation_model}, timeout)
            if not response["results"]:
                raise ProviderFailure("moderation without a result")
            result = response["results"][0]
            flagged = [name for name, on in result["categories"].items() if on]
            return {"flagged": bool(result["flagged"]), "categories": flagged}

        with metrics.llm_call(self.name, "moderation"):
            return self._call_until(deadline, attempt)

    def create_realtime_client_secret(self, session: dict, *, deadline: float) -> dict:
        """A short-lived secret a browser uses to open a Realtime session itself:
        {"value": "ek_...", "expires_at": epoch seconds, "session": {...}}. `session` is
        the Realtime session configuration; type and model default to ours."""
        session = {"type": "realtime", "model": self.realtime_model, **session}

        def attempt(timeout: float) -> dict:
            with self._clients.lease() as client:
                secret = client.realtime.client_secrets.create(session=session, timeout=timeout)
            return {"value": secret.value, "expires_at": secret.expires_at,
                    "session": secret.session.to_dict(mode="json")}

        with metrics.llm_call(self.name, "realtime"):
            return self._call_until(deadline, attempt)

    def _chat_pieces(self, request: ChatRequest, timeout: float) -> Iterator[str]:
        # include_usage: a last chunk (no choices) carries the call's usage, for the learner's budget.
        finished = False
        usage = None
        with self._open_stream("/chat/completions", {**self._chat_arguments(request), "stream": True,
                                                     "stream_options": {"include_usage": True}}, timeout) as stream:
            for chunk in stream:
                for choice in chunk["choices"]:
                    if (delta := choice.get("delta")) and delta.get("content"):
                        yield delta["content"]
                    finished = finished or bool(choice.get("finish_reason"))
                usage = chunk.get("usage") or usage
                if finished and usage:  # the last chunk: only the end marker is left
                    self._release(stream)
                    break
        self._charge(request, openai_tokens(usage))
        if not finished:
            raise ProviderFailure("stream ended early", retryable=True)

    def _json_answer(self, request: ChatRequest, schema: dict, timeout: float) -> Any:
        completion = self._post("/chat/completions", {
            **self._chat_arguments(request),
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "answer", "schema": schema, "strict": True}},
        }, timeout)
        self._charge(request, openai_tokens(completion.get("usage")))
        if not completion["choices"]:
            raise ProviderFailure("malformed response: no choice")
        message = completion["choices"][0]["message"]
        if message.get("refusal"):
            raise ProviderFailure(f"refused: {message['refusal'][:200]}")
        return json.loads(message.get("content") or "")

    def _chat_arguments(self, request: ChatRequest) -> dict:
        # `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server knows it.
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": request.system}, *request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
