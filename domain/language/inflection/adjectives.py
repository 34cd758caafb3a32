"""Adjectives: the four agreed forms of an adjective, and reading a token as one."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection import CACHE_SIZE
from domain.language.lexicon import is_word
from domain.language.tokens import lower

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Token


_IRREGULAR_ADJECTIVES = lexicon.irregular_adjectives()
_INVARIABLE_ADJECTIVES = lexicon.words("invariable_adjective")
_FEMININE_RULES = lexicon.adjective_endings()
_PRENOMINAL_ADJECTIVES = lexicon.words("prenominal_adjective")
_POSTNOMINAL_ADJECTIVES = lexicon.words("postnominal_adjective")

CELLS = ("ms", "fs", "mp", "fp")


@functools.lru_cache(maxsize=CACHE_SIZE)
def adjective_forms(base: str) -> dict[str, tuple[str, ...]] | None:
    """The four cells of an adjective (each a tuple of accepted spellings, best first)."""
    if base in _INVARIABLE_ADJECTIVES:
        return {cell: (base,) for cell in CELLS}
    if base in _IRREGULAR_ADJECTIVES:
        return dict(zip(CELLS, (tuple(c.split("|")) for c in _IRREGULAR_ADJECTIVES[base])))
    feminine = _regular_feminine(base)
    if feminine is None:
        return None
    masc_plural = base if base.endswith(("s", "x")) else (
        base[:-2] + "aux" if base.endswith("al") else
        base + "x" if base.endswith("eau") else base + "s")
    return {"ms": (base,), "fs": (feminine,), "mp": (masc_plural,), "fp": (feminine + "s",)}


def _regular_feminine(base: str) -> str | None:
    if base.endswith("e"):
        return base
    for ending, feminine_endings in _FEMININE_RULES:
        if base.endswith(ending):
            for fem_ending in feminine_endings:
                candidate = base[: -len(ending)] + fem_ending
                if is_word(candidate):
                    return candidate
            return None
    candidate = base + "e"
    return candidate if is_word(candidate) else None


@dataclass(frozen=True)
class Adjective:
    base: str
    forms: dict[str, tuple[str, ...]]

    def cells_of(self, word: str) -> set[str]:
        return {cell for cell, spellings in self.forms.items() if word in spellings}

    def form(self, gender: str, number: str) -> str:
        return self.forms[gender + number][0]


@functools.cache
def _irregular_bases_by_form() -> dict[str, tuple[str, ...]]:
    """Every spelling of an irregular adjective -> its bases (a few forms have two)."""
    bases: dict[str, tuple[str, ...]] = {}
    for base, cells in _IRREGULAR_ADJECTIVES.items():
        for spelling in dict.fromkeys(spelling for cell in cells for spelling in cell.split("|")):
            bases[spelling] = bases.get(spelling, ()) + (base,)
    return bases


def _adjective_bases(word: str, lemma: str) -> Iterator[str]:
    yield from _irregular_bases_by_form().get(word, ())
    yield lemma
    yield word  # an -e adjective is its own base (jeune, rouge): never a false alarm


def as_adjective(token: Token) -> Adjective | None:
    """Read the token as an inflected adjective, if spaCy's lemma supports that reading."""
    word = lower(token)
    if not word.isalpha():
        return None
    for base in _adjective_bases(word, token.lemma_.lower()):
        if not (is_word(base) or base in _IRREGULAR_ADJECTIVES):
            continue
        forms = adjective_forms(base)
        if forms and any(word in spellings for spellings in forms.values()):
            return Adjective(base, forms)
    return None


@functools.cache
def prenominal_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base in _PRENOMINAL_ADJECTIVES:
        for spellings in (adjective_forms(base) or {}).values():
            for spelling in spellings:
                forms[spelling] = base
    return forms


@functools.cache
def before_noun_forms() -> dict[str, str]:
    """Every form of the adjectives that never follow the noun ("une maison petite")."""
    return {spelling: base for base in lexicon.words("before_noun_adjective")
            for spellings in (adjective_forms(base) or {}).values() for spelling in spellings}


@functools.cache
def postnominal_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base in _POSTNOMINAL_ADJECTIVES:
        for spellings in (adjective_forms(base) or {}).values():
            for spelling in spellings:
                forms[spelling] = base
    return forms
