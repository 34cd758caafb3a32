"""Rules: prepositions (places, jouer à/de, dépendre de, chez)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import paradigm
from domain.language.result import GrammarError
from domain.language.rules.common import grammar_error
from domain.language.tokens import lower, match_case, next_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc


def _places(kind: str) -> frozenset[str]:
    return frozenset(row["place"] for row in lexicon.table("places") if row["kind"] == kind)


_FEMININE_COUNTRIES = _places("feminine_country")
_MASCULINE_COUNTRIES = _places("masculine_country")
_PLURAL_COUNTRIES = _places("plural_country")
_CITIES = _places("city")
_INSTRUMENTS = lexicon.words("instrument")
_SPORTS = lexicon.words("sport")
_DEPENDRE_FORMS = lexicon.words("dependre_form")
_PLACE_NOUNS = lexicon.words("place_noun")


def rule_place_preposition(doc: Doc) -> Iterator[GrammarError]:
    """ "en Berlin" -> "à Berlin", "en Portugal" -> "au Portugal", "à Autriche" -> "en"."""
    for token in doc[:-1]:
        place = next_token(token)
        word, name = lower(token), lower(place)
        if not place.text[:1].isupper() or word not in ("en", "à", "au"):
            continue
        fixed = _place_preposition(name)
        if fixed is None or fixed == word or (word == "en" and fixed == "en"):
            continue
        if name == "québec" and word in ("à", "au"):
            continue  # the city and the province
        yield grammar_error(token, token, "preposition",
                            "preposition_before_place",
                            [match_case(token.text, fixed)], place=place.text, fixed=fixed)


def _place_preposition(name: str) -> str | None:
    if name in _CITIES:
        return "à"
    if name in _PLURAL_COUNTRIES:
        return "aux"
    if name in _FEMININE_COUNTRIES:
        return "en"
    if name in _MASCULINE_COUNTRIES:
        return "en" if starts_with_vowel_sound(name) else "au"
    return None


@functools.cache
def _jouer_forms() -> frozenset[str]:
    """ "jouer" and its forms in the tenses a learner uses with it."""
    tenses = paradigm("jouer")
    return frozenset(tenses["present"] + tenses["imperfect"]) | {"jouer", "joué"}


def rule_jouer_preposition(doc: Doc) -> Iterator[GrammarError]:
    """ "jouer au piano" -> "du piano"; "jouer du football" -> "au football"."""
    for token in doc[:-2]:
        if lower(token) not in _jouer_forms():
            continue
        prep, thing = next_token(token), next_token(token, 2)
        word, name = lower(prep), lower(thing)
        if word == "au" and name in _INSTRUMENTS:
            fixed = "du"
        elif word == "du" and name in _SPORTS:
            fixed = "au"
        else:
            continue
        yield grammar_error(prep, prep, "preposition",
                            "jouer_preposition", [fixed],
                            fixed=fixed, thing=thing.text)


def rule_dependre_de(doc: Doc) -> Iterator[GrammarError]:
    """ "ça dépend sur la météo" -> "dépend de"."""
    for token in doc[:-1]:
        prep = next_token(token)
        if lower(token) not in _DEPENDRE_FORMS or lower(prep) != "sur":
            continue
        article = next_token(prep)
        contracted = {"le": "du", "les": "des"}.get(lower(article)) if article else None
        if contracted:
            yield grammar_error(prep, article, "preposition", "dependre_de", [contracted])
        else:
            yield grammar_error(prep, prep, "preposition", "dependre_de", ["de"])


def rule_chez_place(doc: Doc) -> Iterator[GrammarError]:
    """ "chez la boulangerie" -> "à la boulangerie" ("chez" is for people)."""
    for token in doc[:-2]:
        article, place = next_token(token), next_token(token, 2)
        if lower(token) != "chez" or lower(place) not in _PLACE_NOUNS:
            continue
        word = lower(article)
        if word in ("la", "l'"):
            yield grammar_error(token, token, "preposition", "chez_is_for_people",
                                [match_case(token.text, "à")])
        elif word in ("le", "les"):
            fixed = match_case(token.text, "au" if word == "le" else "aux")
            yield grammar_error(token, article, "preposition", "chez_is_for_people",
                                [fixed])
