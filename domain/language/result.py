"""The grammar check's result types."""
from __future__ import annotations

from dataclasses import dataclass

from domain.language import messages


@dataclass(frozen=True)
class GrammarError:
    start: int
    end: int
    category: str
    message: str  # in English; `to_dict(native_language)` gives the learner's language
    suggestions: list[str]
    message_key: str | None = None  # None for a message written elsewhere (the model's)
    message_params: tuple[tuple[str, str], ...] = ()

    def to_dict(self, native_language: str | None = None) -> dict:
        message = self.message if self.message_key is None else \
            messages.render(self.message_key, dict(self.message_params), native_language)
        return {
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "message": message,
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class GrammarResult:
    errors: list[GrammarError]
    corrected_text: str

    def to_dict(self) -> dict:
        return {"errors": [e.to_dict() for e in self.errors], "corrected_text": self.corrected_text}
