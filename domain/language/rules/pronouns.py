"""Rules: pronouns (stressed, reflexive, relative, indirect object, y/en, indirect questions)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import NUMBER_WORDS
from domain.language.inflection.verbs import SUBJECT_PERSON, is_finite_verb, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import grammar_error, is_clause_start
from domain.language.rules.noun_phrases import noun_candidate
from domain.language.tokens import lower, next_token, previous_token, starts_with_vowel_sound

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
    word = lower(token)
    before, after = previous_token(token), next_token(token)
    if word not in _STRESSED or before is None:
        return
    after_preposition = lower(before) in _STRESS_PREPOSITIONS
    comparison_end = lower(before) == "que" and word in ("je", "tu") and (
        after is None or after.is_punct)
    if after_preposition or comparison_end:
        fixed = _STRESSED[word]
        yield grammar_error(token, token, "pronoun",
                            "stressed_pronoun", [fixed],
                            word=before.text, fixed=fixed)


def _reflexive_person_error(token: Token) -> Iterator[GrammarError]:
    """ "nous se levons" -> "nous nous levons"."""
    subject = previous_token(token)
    if lower(token) != "se" or subject is None:
        return
    word = lower(subject)
    if word not in _REFLEXIVE_FOR or not is_clause_start(subject):
        return
    fixed = _REFLEXIVE_FOR[word]
    yield grammar_error(token, token, "pronoun",
                        "reflexive_person", [fixed],
                        subject=subject.text, fixed=fixed)


def _relative_que_error(token: Token) -> Iterator[GrammarError]:
    """ "la fille qui j'ai rencontrée" -> "que": "qui" cannot have another subject."""
    before, after = previous_token(token), next_token(token)
    if lower(token) != "qui" or before is None or after is None:
        return
    if lower(after) not in ("je", "j'", "tu", "il", "elle", "on", "ils", "elles"):
        return
    if noun_candidate(before) is None or lower(before) in NUMBER_WORDS:
        return
    fixed = "qu'" if starts_with_vowel_sound(after.text) else "que"
    if fixed == "qu'":
        yield grammar_error(token, after, "pronoun", "relative_que", [fixed + after.text])
    else:
        yield grammar_error(token, token, "pronoun",
                            "relative_que", [fixed])


def _indirect_object_error(token: Token) -> Iterator[GrammarError]:
    """ "je la téléphone" -> "je lui téléphone"."""
    word = lower(token)
    before, verb = previous_token(token), next_token(token)
    if word not in ("le", "la", "les") or before is None or verb is None:
        return
    if lower(before) not in SUBJECT_PERSON and lower(before) not in ("ne", "n'"):
        return
    lemmas = {r.infinitive for r in verb_readings(lower(verb))}
    if lemmas & _INDIRECT_ONLY_VERBS:
        fixed = "leur" if word == "les" else "lui"
        yield grammar_error(token, token, "pronoun",
                            "indirect_object", [fixed], fixed=fixed)


def _y_instead_of_en_error(token: Token) -> Iterator[GrammarError]:
    """ "j'en vais" -> "j'y vais" ("je m'en vais" is fine)."""
    before, verb = previous_token(token), next_token(token)
    if lower(token) != "en" or before is None or verb is None:
        return
    if lower(before) not in SUBJECT_PERSON or lower(before) in ("nous", "vous"):
        return
    after = next_token(verb)
    if after is not None and lower(after) in ("de", "ainsi"):
        return  # "il en va de même"
    if any(r.infinitive == "aller" and r.tense == "present" for r in verb_readings(lower(verb))):
        yield grammar_error(token, token, "pronoun", "place_is_y", ["y"])


def _indirect_question_error(token: Token) -> Iterator[GrammarError]:
    """ "je ne sais pas qu'est-ce qu'il veut" -> "ce qu'il veut"."""
    if lower(token) != "qu'":
        return
    est, ce = next_token(token), next_token(token, 2)
    before = previous_token(token)
    if est is None or ce is None or lower(est) != "est" or lower(ce) != "-ce":
        return
    if before is None or not (before.pos_ in ("VERB", "AUX") or lower(before) == "pas"
                              or is_finite_verb(lower(before))):
        return
    yield grammar_error(token, ce, "pronoun", "indirect_question", ["ce"])
