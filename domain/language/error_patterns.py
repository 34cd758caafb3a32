"""What kind of mistake an error is, as a stable key: the error notebook counts a
learner's mistakes by it, and session summaries group by it.

A pattern is the error's category with the wrong words and their fix, normalised so the
same mistake made twice gets the same key: `gender_agreement:mes amie→mes amies`.
Case, spacing and the apostrophe's spelling do not make a new pattern.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_KEY_LENGTH = 200
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})


@dataclass(frozen=True)
class ErrorPattern:
    category: str
    key: str  # category:wrong→fix, normalised
    wrong: str  # the learner's words, as written
    fix: str  # the first suggestion ("" when the check had none)


def normalise(words: str) -> str:
    """Lower case, one space between words, one apostrophe, composed accents."""
    folded = unicodedata.normalize("NFC", words).translate(_APOSTROPHES).casefold()
    return _SPACES.sub(" ", folded).strip()


def pattern_of(error: dict[str, Any], text: str) -> ErrorPattern:
    """The pattern of one error of the grammar stage (`start`, `end`, `category`,
    `suggestions`) found in `text`, the learner's message."""
    wrong = text[error["start"]:error["end"]].strip()
    suggestions = error.get("suggestions") or []
    fix = suggestions[0].strip() if suggestions else ""
    key = f"{error['category']}:{normalise(wrong)}→{normalise(fix)}"
    return ErrorPattern(category=error["category"], key=key[:MAX_KEY_LENGTH], wrong=wrong, fix=fix)


def patterns_in(errors: list[dict[str, Any]], text: str) -> list[ErrorPattern]:
    """The patterns of a message's errors, each once, in the message's order."""
    found: dict[str, ErrorPattern] = {}
    for error in sorted(errors, key=lambda e: e["start"]):
        pattern = pattern_of(error, text)
        found.setdefault(pattern.key, pattern)
    return list(found.values())
