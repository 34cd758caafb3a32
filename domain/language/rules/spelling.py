"""Rules: spelling (accents on à and où, words the French word list does not know)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import DETERMINERS, is_plural_number
from domain.language.inflection.verbs import ETRE_FORMS, is_participle, is_finite_verb, verb_readings
from domain.language.lexicon import dictionary, is_word
from domain.language.result import GrammarError
from domain.language.rules.common import NEGATION_AND_CLITICS, SUBJECT_PRONOUNS, grammar_error, looks_like_infinitive
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_INFORMAL_WORDS = lexicon.words("informal_word")
_PLACE_QUESTION_WORDS = lexicon.words("place_question_word")


def rule_spelling(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        error = _accent_confusion(token) or _misspelling(token)
        if error:
            yield error


def _accent_confusion(token: Token) -> GrammarError | None:
    """ "je vais a la piscine" -> "à"; "tu sais ou est la gare" -> "où"."""
    word = lower(token)
    before, after = previous_token(token), next_token(token)
    if word == "a" and before is not None and after is not None and _a_means_a_grave(before, after):
        return grammar_error(token, token, "spelling", "preposition_a_accent",
                             [match_case(token.text, "à")])
    if word == "ou" and after is not None and lower(after) in _PLACE_QUESTION_WORDS and (
            before is None or before.pos_ in ("VERB", "AUX") or is_finite_verb(lower(before))):
        return grammar_error(token, token, "spelling", "ou_accent",
                             [match_case(token.text, "où")])
    return None


def _a_means_a_grave(before: Token, after: Token) -> bool:
    """ "a" right after a verb (not after its subject) is the preposition "à"."""
    word = lower(before)
    if word in SUBJECT_PRONOUNS or word in NEGATION_AND_CLITICS or word in ETRE_FORMS:
        return False
    if before.pos_ not in ("VERB", "AUX") or not is_finite_verb(word) and \
            not looks_like_infinitive(before):
        return False
    two_before = previous_token(before)
    if two_before is not None and lower(two_before) in DETERMINERS:
        return False  # "le livre a ...": "livre" is the subject noun
    if is_participle(after):
        return False  # "ce que je veux a changé"
    return lower(after) in DETERMINERS or after.text[:1].isupper() or \
        is_plural_number(after.text) or \
        lower(after) in ("l'", "pied", "vélo", "midi", "minuit", "demain", "bientôt") or \
        looks_like_infinitive(after)


def _misspelling(token: Token) -> GrammarError | None:
    text = token.text
    word = text.lower()
    if not _spellable(token) or _known(word):
        return None
    sentence_start = token.is_sent_start or token.i == 0
    if text[:1].isupper() and not sentence_start:
        return None  # proper nouns
    candidates = _spelling_candidates(word)
    if (sentence_start and text[:1].isupper()) or len(word) <= _SHORT_WORD:
        # Capitalised first words may be names and short unknown words are often slang
        # ("ordi", "nems"): only a missing accent is certain enough to report.
        candidates = [c for c in candidates if _strip_accents(c) == _strip_accents(word)]
    if not candidates:
        return None
    fixes = [match_case(text, c) for c in candidates[:3]]
    return grammar_error(token, token, "spelling", "spelling", fixes, fixed=fixes[0])


def _spellable(token: Token) -> bool:
    text = token.text
    if len(text) < 2 or token.like_num or text.isupper() and len(text) > 1:
        return False
    if "'" in text or "’" in text:
        return False
    parts = text.split("-")
    return all(p.isalpha() for p in parts)


def _known(word: str) -> bool:
    if word in _INFORMAL_WORDS or is_word(word):
        return True
    if "oe" in word and is_word(word.replace("oe", "œ")):
        return True
    if "-" in word:
        parts = [p for p in word.split("-") if p]
        if all(is_word(p) or p in _INFORMAL_WORDS for p in parts):
            return True
    return bool(verb_readings(word)) or _is_participle_of_known_verb(word)


def _is_participle_of_known_verb(word: str) -> bool:
    """The word list lacks some participles ("pique-niqué"): accept them via the infinitive."""
    masculine = re.sub(r"(e|s|es)$", "", word) if word.endswith(("ée", "és", "ées")) else word
    if masculine.endswith("é"):
        return is_word(masculine[:-1] + "er")
    return False


def _strip_accents(word: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SHORT_WORD = 4


# Corrections must be common words: a rare neighbour ("ourdi" for "ordi") is more likely
# a coincidence than the word the learner meant.
_MIN_CANDIDATE_COUNT = 1000


def _spelling_candidates(word: str) -> list[str]:
    checker = dictionary()
    found = {c for c in checker.candidates(word) or ()
             if c != word and (c.isalpha() or "-" in c)
             and checker[c] >= _MIN_CANDIDATE_COUNT and not _drops_an_accent(word, c)}
    same_letters = _strip_accents(word)
    return sorted(found, key=lambda c: (_strip_accents(c) != same_letters, -checker[c], c))


def _drops_an_accent(word: str, candidate: str) -> bool:
    """ "eût" -> "eut": learners forget accents; an extra one is a rare literary form."""
    return _strip_accents(word) == _strip_accents(candidate) and \
        len([c for c in word if c != _strip_accents(c)]) > \
        len([c for c in candidate if c != _strip_accents(c)])
