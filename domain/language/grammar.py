"""French grammar feedback for learners' chat messages.

One spaCy call per message gives tokens, part-of-speech tags and lemmas; everything that
decides whether something is wrong is ours: small hand-written rules backed by a compact
lexicon (noun genders, adjective and verb inflection) and pyspellchecker's French word list.

The rules live in `domain.language.rules` (a module per category), the inflection they rely
on in `domain.language.inflection`, and the words in `domain.language.lexicon` (data files).
This module runs them: it loads spaCy, parses the message, and assembles the result.

spaCy's small model is unreliable exactly where learners make mistakes (it copies the
plural of "mes" onto "amie", tags "joue" as an adjective...), so the rules look at the words
themselves and use the tagger only to break ties.  Precision comes first: every rule fires
only in contexts where the correct-French reading is ruled out, and says nothing otherwise.
"""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Iterable

from domain.language import lexicon
from domain.language.inflection.adjectives import adjective_forms, as_adjective
from domain.language.inflection.nouns import NounInfo, noun_forms, noun_info, pluralize
from domain.language.inflection.verbs import agreement_fix, paradigm, past_participle, verb_form_index, verb_readings
from domain.language.lexicon import dela, dictionary
from domain.language.result import GrammarError, GrammarResult
from domain.language.rules.agreement import rule_noun_phrase_agreement, rule_predicate_agreement
from domain.language.rules.antecedents import (
    rule_pronoun_antecedent, rule_relative_lequel, rule_relative_without_antecedent)
from domain.language.rules.auxiliary import (
    rule_auxiliary, rule_avoir_with_object, rule_participle_or_infinitive, rule_regularized_participle)
from domain.language.rules.common import Rule
from domain.language.rules.elision import rule_contraction, rule_elision
from domain.language.rules.imperatives import rule_imperative_pronouns
from domain.language.rules.negation import (
    rule_definite_after_liking, rule_double_negation, rule_negation_placement, rule_partitive_after_negation)
from domain.language.rules.prepositions import (
    rule_chez_place, rule_dependre_de, rule_duration_preposition, rule_jouer_preposition, rule_penser_a,
    rule_place_preposition)
from domain.language.rules.governed_prepositions import rule_governed_preposition
from domain.language.rules.participles import (
    rule_infinitive_after_avoir, rule_participle_with_avoir, rule_pronominal_with_object)
from domain.language.rules.preceding_object import rule_preceding_object_participle
from domain.language.rules.pronouns import rule_pronouns
from domain.language.rules.relative_subject import rule_relative_subject
from domain.language.rules.spelling import rule_spelling
from domain.language.rules.subject_verb import (
    rule_coordinated_subject_verb, rule_noun_subject_verb, rule_pronoun_subject_verb)
from domain.language.rules.tense_mood import (
    rule_indicative_after_opinion, rule_polite_conditional, rule_si_clause, rule_subjunctive, rule_tense_of_time_marker,
    rule_present_with_depuis)
from domain.language.rules.word_order import rule_word_order
from domain.language.rules.y_and_en import rule_y_and_en

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.language import Language
    from spacy.tokens import Doc


# What other modules use; the inflection helpers are re-exported from where they now live.
__all__ = [
    "CATEGORIES", "GrammarError", "GrammarResult", "NounInfo", "adjective_forms", "agreement_fix", "apply_corrections",
    "as_adjective", "check_grammar", "noun_info", "paradigm", "parse", "past_participle", "pluralize", "verb_readings",
    "warm_up", "without_overlaps",
]

MODEL_NAME = "fr_core_news_sm"

CATEGORIES = (
    "gender_agreement", "number_agreement", "subject_verb", "past_participle", "auxiliary",
    "tense_mood", "preposition", "contraction_elision", "spelling", "negation", "pronoun",
    "word_order",
)


# Hyphenated words stay one token ("grands-parents", "week-end") unless the last part is
# a clitic of an inversion or imperative ("a-t-il", "est-ce", "appelle-moi").
_COMPOUND_WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)+$")
_HYPHEN_CLITICS = lexicon.words("hyphen_clitic")


@functools.cache
def _nlp() -> Language:
    import spacy

    nlp = spacy.load(MODEL_NAME, exclude=["ner"])
    default_match = nlp.tokenizer.token_match

    def token_match(text: str):
        match = _COMPOUND_WORD.match(text)
        if match and text.rsplit("-", 1)[1].lower() not in _HYPHEN_CLITICS:
            return match
        return default_match(text) if default_match else None

    nlp.tokenizer.token_match = token_match
    return nlp


def warm_up() -> None:
    """Load the spaCy model, the word list, the lexicon tables and the DELA index now."""
    _nlp()("Bonjour, je vais bien.")
    dictionary()
    noun_forms()
    verb_form_index()
    dela.warm_up()  # builds the lexicon's index once per machine, opens it before the pool forks


# Earlier rules win when two errors overlap: the specific before the general.
RULES: tuple[Rule, ...] = (
    rule_elision,
    rule_contraction,
    rule_auxiliary,
    rule_avoir_with_object,
    rule_regularized_participle,
    rule_word_order,
    rule_double_negation,
    rule_negation_placement,
    rule_partitive_after_negation,
    rule_definite_after_liking,
    rule_pronouns,
    rule_pronoun_antecedent,
    rule_relative_lequel,
    rule_relative_without_antecedent,
    rule_imperative_pronouns,
    rule_y_and_en,
    rule_relative_subject,
    rule_place_preposition,
    rule_jouer_preposition,
    rule_dependre_de,
    rule_chez_place,
    rule_duration_preposition,
    rule_penser_a,
    rule_governed_preposition,
    rule_subjunctive,
    rule_si_clause,
    rule_polite_conditional,
    rule_indicative_after_opinion,
    rule_tense_of_time_marker,
    rule_present_with_depuis,
    rule_pronoun_subject_verb,
    rule_noun_subject_verb,
    rule_coordinated_subject_verb,
    rule_participle_or_infinitive,
    rule_preceding_object_participle,
    rule_participle_with_avoir,
    rule_pronominal_with_object,
    rule_infinitive_after_avoir,
    rule_noun_phrase_agreement,
    rule_predicate_agreement,
    rule_spelling,
)


# The typographic apostrophe and no-break spaces have one-character plain equivalents, so
# offsets in the normalised text are offsets in the original.
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u00a0": " ", "\u202f": " "})


def parse(text: str) -> Doc:
    """The message as spaCy reads it (tokens, tags, lemmas, dependencies)."""
    return _nlp()(text.translate(_TYPOGRAPHY))


def check_grammar(text: str, language: str = "fr", *, doc: Doc | None = None) -> GrammarResult:
    """Find learner errors in a French message; other languages get no feedback yet.
    Pass `doc` when the message is parsed already (`parse(text)`)."""
    if not text or not text.strip() or language.lower().split("-")[0] != "fr":
        return GrammarResult([], text)
    doc = doc if doc is not None else parse(text)
    errors = without_overlaps(error for rule in RULES for error in rule(doc))
    return GrammarResult(errors, apply_corrections(text, errors))


def without_overlaps(errors: Iterable[GrammarError]) -> list[GrammarError]:
    """The errors with a suggestion, minus any overlapping one listed before it, by start."""
    kept: list[GrammarError] = []
    for error in errors:
        if not error.suggestions:
            continue
        if all(error.end <= k.start or error.start >= k.end for k in kept):
            kept.append(error)
    return sorted(kept, key=lambda e: e.start)


def apply_corrections(text: str, errors: Iterable[GrammarError]) -> str:
    """Replace each error's span with its first suggestion, right to left."""
    corrected = text
    for error in sorted(errors, key=lambda e: e.start, reverse=True):
        if error.suggestions:
            corrected = corrected[: error.start] + error.suggestions[0] + corrected[error.end:]
    return corrected
