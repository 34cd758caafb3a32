"""Rules: prepositions (places, jouer à/de, dépendre de, chez)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import DETERMINERS, NUMBER_WORDS
from domain.language.inflection.verbs import paradigm, participle_infinitives, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import TIME_NOUNS, grammar_error
from domain.language.tokens import lower, match_case, next_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


def _places(kind: str) -> frozenset[str]:
    return frozenset(row["place"] for row in lexicon.table("places") if row["kind"] == kind)


_FEMININE_COUNTRIES = _places("feminine_country")
_MASCULINE_COUNTRIES = _places("masculine_country")
_PLURAL_COUNTRIES = _places("plural_country")
_CITIES = _places("city")
_INSTRUMENTS = lexicon.words("instrument")
_SPORTS = lexicon.words("sport")
_DEPENDRE_FORMS = lexicon.words("dependre_form")
# "jouer" + à/de + the article: (preposition, article) -> what is written.
_PLAYED_FORMS = {("de", "le"): "du", ("de", "la"): "de la", ("de", "l'"): "de l'", ("de", "les"): "des",
                 ("à", "le"): "au", ("à", "la"): "à la", ("à", "l'"): "à l'", ("à", "les"): "aux"}
_PLAYED_ARTICLES = ("le", "la", "l'", "les")
_CONTRACTED_PLAYED = {"du": ("de", "le"), "des": ("de", "les"), "au": ("à", "le"), "aux": ("à", "les")}
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
    """ "jouer au piano" -> "du piano"; "jouer du football" -> "au football"; "jouer le
    piano" -> "du piano": "jouer de" an instrument, "jouer à" a game or sport.
    Conditions: a form of "jouer", then "à"/"de" (contracted or not) or a bare article,
    then an instrument or a sport from the lexicon, with the other preposition or none."""
    for token in doc[:-2]:
        if lower(token) not in _jouer_forms():
            continue
        first, second = next_token(token), next_token(token, 2)
        third = next_token(token, 3)
        if lower(first) in ("à", "de") and lower(second) in _PLAYED_ARTICLES and third is not None:
            article, thing, last = lower(second), third, second  # "à la guitare"
            said = lower(first)
        elif lower(first) in _CONTRACTED_PLAYED:
            said, article = _CONTRACTED_PLAYED[lower(first)]
            thing, last = second, first
        elif lower(first) in _PLAYED_ARTICLES:
            said, article, thing, last = None, lower(first), second, first  # "jouer le piano"
        else:
            continue
        name = lower(thing)
        wanted = "de" if name in _INSTRUMENTS else "à" if name in _SPORTS else None
        if wanted is None or wanted == said:
            continue
        fixed = _PLAYED_FORMS[wanted, article]
        yield grammar_error(first, last, "preposition", "jouer_preposition", [fixed], fixed=fixed, thing=thing.text)


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


_DURATION_VERBS = lexicon.words("duration_verb")
_TO_A = {"de": "à", "d'": "à l'", "du": "au", "des": "aux"}


def rule_duration_preposition(doc: Doc) -> Iterator[GrammarError]:
    """ "j'habite ici pour deux ans" -> "depuis"; "j'ai travaillé pour trois mois" ->
    "pendant": "pour" + a duration only says what is planned ("je pars pour deux
    semaines"); a state lasting until now takes "depuis", one that lasted, "pendant".
    Conditions: "pour", a number, a unit of time; the clause's verb (within five words
    before) is a verb of state (habiter, travailler...) in the present, or its participle
    after "avoir"."""
    for token in doc[:-2]:
        number, unit = next_token(token), next_token(token, 2)
        if lower(token) != "pour" or not (number.like_num or lower(number) in NUMBER_WORDS or
                                          lower(number) in ("un", "une", "quelques", "plusieurs")):
            continue
        if lower(unit) not in TIME_NOUNS:
            continue
        fixed = _duration_preposition(token)
        if fixed:
            yield grammar_error(token, token, "preposition", "duration_preposition",
                                [match_case(token.text, fixed)], fixed=fixed)


def _duration_preposition(pour: Token) -> str | None:
    for verb in reversed(pour.doc[max(0, pour.i - 5): pour.i]):
        if verb.is_punct:
            return None
        readings = verb_readings(lower(verb))
        participle_of = participle_infinitives(lower(verb))
        if participle_of & _DURATION_VERBS:
            return "pendant"
        if any(r.infinitive in _DURATION_VERBS and r.tense == "present" for r in readings):
            return "depuis"
    return None


def rule_penser_a(doc: Doc) -> Iterator[GrammarError]:
    """ "je pense souvent de mes grands-parents" -> "à": "penser à" someone or something;
    "penser de" asks for an opinion ("qu'est-ce que tu penses de ce film ?").
    Conditions: a form of "penser", at most one adverb, then de/du/des/d' and a noun
    phrase; no "que"/"qu'"/"quoi" before the verb in the sentence."""
    for verb in doc[:-2]:
        if not any(r.infinitive == "penser" for r in verb_readings(lower(verb))):
            continue
        if any(lower(t) in ("que", "qu'", "quoi", "qu'est-ce") for t in doc[:verb.i]):
            continue
        prep = next_token(verb)
        if prep is not None and prep.pos_ == "ADV" and lower(prep) not in _TO_A:
            prep = next_token(prep)
        after = next_token(prep) if prep is not None else None
        if prep is None or after is None or lower(prep) not in _TO_A or after.pos_ in ("VERB", "AUX"):
            continue
        if lower(after) in ("bien", "mal"):
            continue  # "penser du bien de quelqu'un"
        fixed = _TO_A[lower(prep)]
        if lower(prep) == "de" and lower(after) in ("la", "l'"):
            yield grammar_error(prep, prep, "preposition", "governed_preposition", [match_case(prep.text, "à")],
                                head="penser", fixed="à")
        elif lower(prep) == "d'":
            yield grammar_error(prep, after, "preposition", "governed_preposition",
                                [match_case(prep.text, fixed) + after.text], head="penser", fixed="à")
        elif lower(prep) != "de" or after.pos_ == "PROPN" or lower(after) in DETERMINERS or \
                lower(after) in ("moi", "toi", "lui", "elle", "nous", "vous", "eux", "elles"):
            yield grammar_error(prep, prep, "preposition", "governed_preposition", [match_case(prep.text, fixed)],
                                head="penser", fixed=fixed)
