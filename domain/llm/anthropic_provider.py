"""Anthropic through its official SDK: the Messages API, streamed for replies; JSON
answers through a tool the model is made to call (it works with every model)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic

from domain.llm.base import ChatRequest, ProviderFailure
from domain.llm.remote import CallPolicy, RemoteProvider
from domain.quotas import anthropic_tokens

_ANSWER_TOOL = "answer"


class AnthropicProvider(RemoteProvider):
    name = "anthropic"
    sdk = anthropic

    def __init__(self, *, api_key: str, base_url: str, model: str, policy: CallPolicy):
        # Retries are ours (bounded by the caller's deadline), not the SDK's.
        super().__init__(model=model, policy=policy, make_client=lambda http_client: anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client))

    def _chat_pieces(self, request: ChatRequest, timeout: float) -> Iterator[str]:
        usage: dict = {}  # input tokens come with message_start, the output count with message_delta
        with self._open_stream("/v1/messages", {**self._message_arguments(request), "stream": True}, timeout) as stream:
            for event in stream:
                if event["type"] == "content_block_delta" and event["delta"]["type"] == "text_delta":
                    yield event["delta"]["text"]
                elif event["type"] == "message_start":
                    usage.update(event["message"].get("usage") or {})
                elif event["type"] == "message_delta":
                    usage.update(event.get("usage") or {})
                elif event["type"] == "message_stop":
                    self._charge(request, anthropic_tokens(usage))
                    self._release(stream)
                    return
        raise ProviderFailure("stream ended early", retryable=True)

    def _json_answer(self, request: ChatRequest, schema: dict, timeout: float) -> Any:
        message = self._post("/v1/messages", {
            **self._message_arguments(request),
            "tools": [{"name": _ANSWER_TOOL, "description": "Give your answer in this structure.",
                       "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": _ANSWER_TOOL},
        }, timeout)
        self._charge(request, anthropic_tokens(message.get("usage")))
        for block in message["content"]:
            if block["type"] == "tool_use" and block["name"] == _ANSWER_TOOL:
                return block["input"]
        raise ProviderFailure("malformed response: no structured answer")

    def _message_arguments(self, request: ChatRequest) -> dict:
        # No temperature: the API version this SDK speaks (2026-10-21) refuses sampling parameters.
        return {"model": self.model, "system": request.system, "messages": request.messages,
                "max_tokens": request.max_tokens}
