"""Noun phrases (determiner, adjectives, noun) as the agreement and subject-verb rules read them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.adjectives import prenominal_forms
from domain.language.lexicon import Determiner
from domain.language.inflection.nouns import NounInfo, DETERMINERS, NUMBER_WORDS, is_plural_number, noun_info
from domain.language.inflection.verbs import is_finite_verb
from domain.language.rules.common import NEGATION_AND_CLITICS, SUBJECT_PRONOUNS, is_clause_start
from domain.language.tokens import lower, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_MONTHS = lexicon.words("month")
_PRONOUN_SUBJECTS = lexicon.words("pronoun_subject")


@dataclass
class NounPhrase:
    determiner: Token | None  # article, possessive, demonstrative or number word
    adjectives: list[Token]   # between the determiner and the noun
    noun: Token
    info: NounInfo


def noun_phrases(doc: Doc) -> Iterator[NounPhrase]:
    for token in doc:
        if _determiner_of(token) is None and not _is_number_determiner(token):
            continue
        phrase = _phrase_after(token)
        if phrase is not None and not _is_date(phrase):
            yield phrase


def _is_number_determiner(token: Token) -> bool:
    before = previous_token(token)
    if before is not None and lower(before) in ("le", "du", "au"):
        return False  # a date or a rank: "le onze novembre"
    return is_plural_number(token.text)


def _is_date(phrase: NounPhrase) -> bool:
    return lower(phrase.noun) in _MONTHS and is_plural_number(phrase.determiner.text)


def _determiner_of(token: Token) -> Determiner | None:
    word = lower(token)
    if word not in DETERMINERS or token.pos_ == "PRON":
        return None
    before = previous_token(token)
    if word in ("le", "la", "les", "leur", "leurs") and _is_object_pronoun(token, before):
        return None
    if word in ("un", "une") and before is not None and (
            _after_number_and(before) or is_plural_number(before.text)):
        return None  # "vingt et un ans"
    return DETERMINERS[word]


def _after_number_and(before: Token) -> bool:
    """ "vingt et": "un" is then part of a number ("un chat et un chien" is not)."""
    number = previous_token(before)
    return lower(before) == "et" and number is not None and (
        lower(number) in NUMBER_WORDS or number.like_num)


def _is_object_pronoun(word: Token, before: Token | None) -> bool:
    """ "je le vois", "je la téléphone", "qui le montre": "le/la/les" before a verb."""
    if before is None:
        return False
    previous = lower(before)
    if previous in SUBJECT_PRONOUNS or previous in NEGATION_AND_CLITICS:
        return True
    following = next_token(word)
    could_be_verb = following is not None and is_finite_verb(lower(following))
    after_subject = previous in _PRONOUN_SUBJECTS or before.pos_ in ("NOUN", "PROPN")
    return could_be_verb and after_subject


def _phrase_after(determiner: Token) -> NounPhrase | None:
    adjectives: list[Token] = []
    current = next_token(determiner)
    while current is not None and lower(current) in prenominal_forms():
        following = next_token(current)
        if following is None or noun_candidate(following) is None:
            break  # the "adjective" is the noun itself ("un petit", "le premier")
        adjectives.append(current)
        current = following
    if current is None:
        return None
    info = noun_candidate(current)
    return NounPhrase(determiner, adjectives, current, info) if info else None


def noun_candidate(token: Token) -> NounInfo | None:
    if not token.text.isalpha() and "-" not in token.text:
        return None
    if token.text[:1].isupper() and token.i > 0:
        return None  # proper nouns
    if lower(token) in NUMBER_WORDS:
        return None
    return noun_info(token)


def phrase_number(phrase: NounPhrase) -> str | None:
    if is_plural_number(phrase.determiner.text):
        return "p"
    return DETERMINERS[lower(phrase.determiner)].number


def phrase_gender(phrase: NounPhrase) -> str | None:
    if phrase.info.gender:
        return phrase.info.gender
    det = DETERMINERS.get(lower(phrase.determiner))
    if det is None or (lower(phrase.determiner) in ("mon", "ton", "son")
                       and starts_with_vowel_sound(phrase.noun.text)):
        return None
    return det.gender


def clause_initial_phrase_ending_at(noun: Token) -> NounPhrase | None:
    """The noun phrase ending with `noun` when it opens its clause ("Mes amis ...")."""
    for size in (1, 2, 3):
        det = previous_token(noun, size)
        if det is None or _determiner_of(det) is None or not is_clause_start(det):
            continue
        phrase = _phrase_after(det)
        if phrase is not None and phrase.noun.i == noun.i and not coordinated(noun):
            return phrase
    return None


def coordinated(noun: Token) -> bool:
    return any(child.dep_ == "conj" for child in noun.children) or noun.dep_ == "conj"
