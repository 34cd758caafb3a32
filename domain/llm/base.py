"""What every LLM provider takes and the one error that means "try the next provider"."""
from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class ChatRequest:
    system: str
    messages: list[dict[str, str]]  # {"role": "user" | "assistant", "content": ...}, oldest first
    max_tokens: int = 400
    temperature: float = 0.7
    # Whose request this is: their daily token budget is checked before and charged after
    # (domain/quotas.py). None: nobody's (not counted).
    learner_id: uuid.UUID | None = None


class ProviderFailure(Exception):
    """The provider could not answer: timeout, connection error, 429, 5xx, 4xx, malformed
    output, or no time left before the caller's deadline. The chain falls back on it.

    Anything else a provider raises (TypeError, an invalid JSON schema...) is a bug in the
    caller and propagates.
    """

    def __init__(self, reason: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said
