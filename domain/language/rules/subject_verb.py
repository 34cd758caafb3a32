"""Rules: a verb agrees with its subject pronoun or noun."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.adjectives import as_adjective
from domain.language.inflection.nouns import DETERMINERS, noun_forms
from domain.language.inflection.verbs import SUBJECT_PERSON, agreement_fix, paradigm
from domain.language.lexicon import is_word
from domain.language.result import GrammarError
from domain.language.rules.common import (
    NEGATION_AND_CLITICS, PREPOSITIONS, SUBJECT_PRONOUNS, grammar_error, is_clause_start, may_be_subject, skip_clitics,
    span_text)
from domain.language.rules.noun_phrases import (
    NounPhrase, coordinated, noun_candidate, noun_phrases, phrase_gender, phrase_number)
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_COLLECTIVE_NOUNS = lexicon.words("collective_noun")


def rule_pronoun_subject_verb(doc: Doc) -> Iterator[GrammarError]:
    """ "je vont" -> "je vais", "nous mange" -> "nous mangeons"."""
    for token in doc:
        person = _subject_pronoun_person(token)
        if person is None:
            continue
        verb = skip_clitics(token)
        if verb is None or not verb.text.isalpha():
            continue
        fix = agreement_fix(verb, person) or _overregularized_fix(verb, person)
        if fix:
            yield grammar_error(verb, verb, "subject_verb",
                                "verb_after_pronoun", [fix],
                                subject=token.text, fixed=fix)


def _subject_pronoun_person(token: Token) -> str | None:
    word = lower(token)
    if word not in SUBJECT_PERSON:
        return None
    before = previous_token(token)
    if before is not None and (lower(before) in PREPOSITIONS or before.text.endswith("-")):
        return None
    if not may_be_subject(token):
        return None  # object or stressed pronoun: "il nous parle", "c'est elle"
    return SUBJECT_PERSON[word]


def _overregularized_fix(verb: Token, person: str) -> str | None:
    """ "vous faisez" -> "faites", "vous disez" -> "dites"."""
    word = lower(verb)
    if person != "2p" or not word.endswith("ez") or is_word(word):
        return None
    for infinitive in ("faire", "dire"):
        forms = paradigm(infinitive)["present"]
        if word == forms[3][:-3] + "ez":
            return match_case(verb.text, forms[4])
    return None


def rule_noun_subject_verb(doc: Doc) -> Iterator[GrammarError]:
    """ "Mes enfants aime" -> "aiment"; "Les réunions qui commence" -> "commencent"."""
    for phrase in noun_phrases(doc):
        number = _subject_number(phrase)
        if number is None:
            continue
        verb = _verb_after_subject(phrase)
        if verb is None or _agrees_as_adjective(verb, phrase):
            continue
        person = "3s" if number == "s" else "3p"
        fix = agreement_fix(verb, person)
        if fix:
            yield grammar_error(verb, verb, "subject_verb",
                                "verb_after_noun", [fix],
                                subject=span_text(phrase.determiner, phrase.noun), fixed=fix)


def _subject_number(phrase: NounPhrase) -> str | None:
    det_number = phrase_number(phrase)
    noun_number = phrase.info.number
    if lower(phrase.noun) in _COLLECTIVE_NOUNS or coordinated(phrase.noun):
        return None
    if noun_number and det_number and noun_number != det_number:
        return None  # the phrase itself is wrong; its number is unclear
    return det_number or noun_number


def _verb_after_subject(phrase: NounPhrase) -> Token | None:
    after = next_token(phrase.noun)
    if after is None:
        return None
    if lower(after) == "qui":
        before = previous_token(phrase.determiner)
        if before is not None and lower(before) in ("de", "d'", "des", "du", "un", "une"):
            return None  # "le frère de mes amis qui ...", "un des amis qui m'a aidé"
        return skip_clitics(after)
    if not is_clause_start(phrase.determiner):
        return None
    if lower(after) in NEGATION_AND_CLITICS:
        return skip_clitics(phrase.noun)
    return after


def _agrees_as_adjective(token: Token, phrase: NounPhrase) -> bool:
    """ "Les enfants calmes jouent": "calmes" is an adjective, not the verb "calmer"."""
    is_noun = lower(token) in noun_forms() and token.pos_ not in ("VERB", "AUX")
    adjective = as_adjective(token)
    if adjective is None:
        return is_noun
    gender, number = phrase_gender(phrase), phrase_number(phrase)
    wanted = {g + (number or "s") for g in ((gender,) if gender else ("m", "f"))}
    return bool(adjective.cells_of(lower(token)) & wanted) or is_noun


_STRESSED_PERSON = {"moi": "1p", "toi": "2p", "lui": "3p", "elle": "3p", "eux": "3p", "elles": "3p"}


def rule_coordinated_subject_verb(doc: Doc) -> Iterator[GrammarError]:
    """ "Mon copain et moi va" -> "allons": two subjects joined by "et" make a plural, in
    the first person with "moi", the second with "toi", else the third.
    Conditions: the clause opens with a noun phrase, a name or a stressed pronoun, then
    "et", then a stressed pronoun, a name or a noun phrase of at most three words, then a
    finite verb (after "ne" and object pronouns)."""
    for conjunction in doc:
        if lower(conjunction) != "et":
            continue
        first = _first_conjunct(conjunction)
        last = _second_conjunct_end(conjunction)
        if first is None or last is None:
            continue
        verb = skip_clitics(last) if lower(next_token(last) or last) in NEGATION_AND_CLITICS else next_token(last)
        if verb is None or not verb.text.isalpha():
            continue
        words = {lower(t) for t in doc[first.i: last.i + 1]}
        person = "1p" if "moi" in words else "2p" if "toi" in words else "3p"
        fix = agreement_fix(verb, person)
        if fix:
            yield grammar_error(verb, verb, "subject_verb", "verb_after_noun", [fix],
                                subject=span_text(first, last), fixed=fix)


def _first_conjunct(conjunction: Token) -> Token | None:
    """The clause-opening start of the subject before "et" (a stressed pronoun, a name, or
    a determiner and its noun), or None."""
    before = previous_token(conjunction)
    if before is None:
        return None
    if lower(before) in _STRESSED_PERSON or _is_name(before):
        return before if is_clause_start(before) else None
    for size in (1, 2, 3):
        start = previous_token(conjunction, size + 1)
        if start is not None and lower(start) in DETERMINERS and is_clause_start(start) and _is_noun(before):
            return start
    return None


def _is_name(token: Token) -> bool:
    return token.is_alpha and token.text[:1].isupper() and lower(token) not in SUBJECT_PRONOUNS and (
        token.pos_ == "PROPN" or noun_candidate(token) is None)


def _is_noun(token: Token) -> bool:
    return token.pos_ == "NOUN" or lower(token) in noun_forms()


def _second_conjunct_end(conjunction: Token) -> Token | None:
    after = next_token(conjunction)
    if after is None:
        return None
    if lower(after) in _STRESSED_PERSON or _is_name(after):
        return after
    if lower(after) in DETERMINERS:
        for size in (1, 2):
            end = next_token(after, size)
            if end is not None and _is_noun(end):
                following = next_token(end)
                if following is None or not _is_noun(following) or following.pos_ in ("VERB", "AUX"):
                    return end
    return None
