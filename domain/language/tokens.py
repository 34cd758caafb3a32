"""Small helpers on spaCy tokens and on the sound of words, shared by the inflection and the rules."""
from __future__ import annotations

from typing import TYPE_CHECKING

from domain.language import lexicon

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Token


_H_MUET_PREFIXES = tuple(row["prefix"] for row in lexicon.table("h_muet"))

VOWELS = set("aeiouyàâäéèêëîïôöûüùœæ")


def starts_with_vowel_sound(word: str) -> bool:
    low = word.lower()
    if not low:
        return False
    if low[0] == "h":
        return low.startswith(_H_MUET_PREFIXES)
    return low[0] in VOWELS and low[0] != "y"


def match_case(model: str, replacement: str) -> str:
    """Give `replacement` the capital initial of `model`."""
    if model[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def lower(token: Token) -> str:
    return token.text.lower()


def next_token(token: Token, offset: int = 1) -> Token | None:
    i = token.i + offset
    return token.doc[i] if 0 <= i < len(token.doc) else None


def previous_token(token: Token, offset: int = 1) -> Token | None:
    return next_token(token, -offset)
