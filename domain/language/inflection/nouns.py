"""Nouns and determiners: gender and number of a noun (from the lexicon, or its ending), plurals."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.lexicon import is_word
from domain.language.tokens import lower

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Token


_IRREGULAR_PLURALS = lexicon.irregular_plurals()
_FEMININE_ENDINGS = lexicon.noun_endings("f")
_MASCULINE_ENDINGS = lexicon.noun_endings("m")
_ENDING_EXCEPTIONS = lexicon.words("ending_exception")
_INVARIABLE_NOUNS = lexicon.words("invariable_noun")
DETERMINERS = lexicon.determiners()
OTHER_GENDER = lexicon.other_gender()
PLURAL_DETERMINER = lexicon.column("determiners", "determiner", "plural")
NUMBER_WORDS = lexicon.words("number_word")


def pluralize(noun: str) -> str:
    """Regular French plural of a singular noun or adjective."""
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z")):
        return noun
    if noun.endswith("al"):
        return noun[:-2] + "aux"
    if noun.endswith(("eau", "au", "eu")):
        return noun + "x"
    return noun + "s"


@dataclass(frozen=True)
class NounInfo:
    gender: str | None  # "m", "f" or None when either/unknown
    number: str | None  # "s", "p" or None when the form is the same in both numbers
    singular: str


@functools.cache
def noun_forms() -> dict[str, NounInfo]:
    """Every singular and plural form of the lexicon's nouns (a plural-only noun is plural)."""
    forms: dict[str, NounInfo] = {}
    nouns = lexicon.nouns()
    for noun, entry in nouns.items():
        plural = pluralize(noun)
        same_form = plural == noun
        forms[noun] = NounInfo(entry.gender, None if same_form else "s", noun)
        if not same_form:
            forms.setdefault(plural, NounInfo(entry.gender, "p", noun))
    for noun, entry in nouns.items():
        if entry.plural_only:
            forms[noun] = NounInfo(entry.gender, "p", noun)
    return forms


def _stem_variants(word: str) -> Iterator[str]:
    """The word and its spelling with "oe" written as the ligature "œ"."""
    yield word
    if "oe" in word:
        yield word.replace("oe", "œ")


def noun_info(token: Token) -> NounInfo | None:
    """Gender and number of a noun, from the lexicon or from reliable endings."""
    low = lower(token)
    forms = noun_forms()
    for variant in _stem_variants(low):
        if variant in forms:
            return forms[variant]
    if token.pos_ != "NOUN" or not low.isalpha():
        return None
    singular, number = _singular_of_unknown_noun(token)
    return NounInfo(_gender_from_ending(singular), number, singular)


def _singular_of_unknown_noun(token: Token) -> tuple[str, str | None]:
    low = lower(token)
    if low in _INVARIABLE_NOUNS:
        return low, None
    if not low.endswith(("s", "x", "z")):
        return low, "s"
    lemma = token.lemma_.lower()
    if lemma != low and pluralize(lemma) == low and is_word(lemma):
        return lemma, "p"
    return low, None


def _gender_from_ending(singular: str) -> str | None:
    if singular in _ENDING_EXCEPTIONS:
        return None
    if singular.endswith(_FEMININE_ENDINGS):
        return "f"
    if singular.endswith(_MASCULINE_ENDINGS):
        return "m"
    return None


def is_plural_number(word: str) -> bool:
    parts = word.lower().split("-")
    return all(p in NUMBER_WORDS for p in parts) and parts != ["et"]
