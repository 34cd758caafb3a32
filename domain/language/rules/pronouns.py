"""Rules: pronouns (stressed, reflexive, relative, indirect object, y/en, indirect questions)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import _NUMBER_WORDS
from domain.language.inflection.verbs import SUBJECT_PERSON, is_finite_verb, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import _error, _is_clause_start
from domain.language.rules.noun_phrases import _noun_candidate
from domain.language.tokens import _lower, _next, _prev, _starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_STRESSED = lexicon.column("subject_pronouns", "pronoun", "stressed")
_STRESS_PREPOSITIONS = lexicon.words("stress_preposition")
# Subjects whose reflexive pronoun is not "se" ("nous se levons" -> "nous nous levons").
_REFLEXIVE_FOR = {pronoun: reflexive for pronoun, reflexive
                  in lexicon.column("subject_pronouns", "pronoun", "reflexive").items() if reflexive != "se"}
_INDIRECT_ONLY_VERBS = lexicon.words("indirect_only_verb")


def rule_pronouns(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        yield from _stressed_pronoun_error(token)
        yield from _reflexive_person_error(token)
        yield from _relative_que_error(token)
        yield from _indirect_object_error(token)
        yield from _y_instead_of_en_error(token)
        yield from _indirect_question_error(token)


def _stressed_pronoun_error(token: Token) -> Iterator[GrammarError]:
    """ "avec il" -> "avec lui"; "plus grand que je." -> "que moi"."""
    word = _lower(token)
    before, after = _prev(token), _next(token)
    if word not in _STRESSED or before is None:
        return
    after_preposition = _lower(before) in _STRESS_PREPOSITIONS
    comparison_end = _lower(before) == "que" and word in ("je", "tu") and (
        after is None or after.is_punct)
    if after_preposition or comparison_end:
        fixed = _STRESSED[word]
        yield _error(token, token, "pronoun",
                     "stressed_pronoun", [fixed],
                     word=before.text, fixed=fixed)


def _reflexive_person_error(token: Token) -> Iterator[GrammarError]:
    """ "nous se levons" -> "nous nous levons"."""
    subject = _prev(token)
    if _lower(token) != "se" or subject is None:
        return
    word = _lower(subject)
    if word not in _REFLEXIVE_FOR or not _is_clause_start(subject):
        return
    fixed = _REFLEXIVE_FOR[word]
    yield _error(token, token, "pronoun",
                 "reflexive_person", [fixed],
                 subject=subject.text, fixed=fixed)


def _relative_que_error(token: Token) -> Iterator[GrammarError]:
    """ "la fille qui j'ai rencontrée" -> "que": "qui" cannot have another subject."""
    before, after = _prev(token), _next(token)
    if _lower(token) != "qui" or before is None or after is None:
        return
    if _lower(after) not in ("je", "j'", "tu", "il", "elle", "on", "ils", "elles"):
        return
    if _noun_candidate(before) is None or _lower(before) in _NUMBER_WORDS:
        return
    fixed = "qu'" if _starts_with_vowel_sound(after.text) else "que"
    if fixed == "qu'":
        yield _error(token, after, "pronoun", "relative_que", [fixed + after.text])
    else:
        yield _error(token, token, "pronoun",
                     "relative_que", [fixed])


def _indirect_object_error(token: Token) -> Iterator[GrammarError]:
    """ "je la téléphone" -> "je lui téléphone"."""
    word = _lower(token)
    before, verb = _prev(token), _next(token)
    if word not in ("le", "la", "les") or before is None or verb is None:
        return
    if _lower(before) not in SUBJECT_PERSON and _lower(before) not in ("ne", "n'"):
        return
    lemmas = {r.infinitive for r in verb_readings(_lower(verb))}
    if lemmas & _INDIRECT_ONLY_VERBS:
        fixed = "leur" if word == "les" else "lui"
        yield _error(token, token, "pronoun",
                     "indirect_object", [fixed], fixed=fixed)


def _y_instead_of_en_error(token: Token) -> Iterator[GrammarError]:
    """ "j'en vais" -> "j'y vais" ("je m'en vais" is fine)."""
    before, verb = _prev(token), _next(token)
    if _lower(token) != "en" or before is None or verb is None:
        return
    if _lower(before) not in SUBJECT_PERSON or _lower(before) in ("nous", "vous"):
        return
    after = _next(verb)
    if after is not None and _lower(after) in ("de", "ainsi"):
        return  # "il en va de même"
    if any(r.infinitive == "aller" and r.tense == "present" for r in verb_readings(_lower(verb))):
        yield _error(token, token, "pronoun", "place_is_y", ["y"])


def _indirect_question_error(token: Token) -> Iterator[GrammarError]:
    """ "je ne sais pas qu'est-ce qu'il veut" -> "ce qu'il veut"."""
    if _lower(token) != "qu'":
        return
    est, ce = _next(token), _next(token, 2)
    before = _prev(token)
    if est is None or ce is None or _lower(est) != "est" or _lower(ce) != "-ce":
        return
    if before is None or not (before.pos_ in ("VERB", "AUX") or _lower(before) == "pas"
                              or is_finite_verb(_lower(before))):
        return
    yield _error(token, ce, "pronoun", "indirect_question", ["ce"])
