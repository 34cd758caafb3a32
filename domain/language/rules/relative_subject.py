"""Rule: the relative pronoun that is the subject of its clause is "qui", not "que"
("l'homme que parle" -> "qui parle"); finite verb forms come from the DELA lexicon."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language.lexicon import dela
from domain.language.result import GrammarError
from domain.language.rules.common import (
    DEMONSTRATIVE_PRONOUNS, FINITE_TENSES, OBJECT_CLITICS, SUBJECT_PRONOUNS, grammar_error)
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token

# Not the imperative: a form the lexicon knows only as one ("sachons") is not read as the verb after "que".
_FINITE = FINITE_TENSES - {"Y"}
# Object pronouns between "que" and its verb: not nous/vous, subjects too, nor le/la/les/l', articles too.
_CLITICS = OBJECT_CLITICS - SUBJECT_PRONOUNS - {"le", "la", "les", "l'"}


def _only_finite_verb(token: Token) -> bool:
    readings = dela.analyses(lower(token))
    return bool(readings) and all(a.pos == "V" for a in readings) and any(
        f[:1] in _FINITE for a in readings for f in a.features)


def rule_relative_subject(doc: Doc) -> Iterator[GrammarError]:
    """Fires on a noun (or "ce", "celui"...) + `que` + [one object pronoun] + a word the
    lexicon knows only as a finite verb, when what
    follows that verb cannot be its subject (not a determiner, noun, name or pronoun, so
    the stylistic inversion "le livre que lit Paul" is left alone). Then `que` has no
    subject after it and is itself the subject: suggests "qui"."""
    if not dela.available():
        return
    for token in doc:
        if lower(token) != "que":
            continue
        before, verb = previous_token(token), next_token(token)
        if verb is not None and lower(verb) in _CLITICS:
            verb = next_token(verb)  # "ce que se passe" -> "ce qui se passe"
        if before is None or verb is None or not (before.pos_ == "NOUN" or lower(before) in DEMONSTRATIVE_PRONOUNS):
            continue
        if not _only_finite_verb(verb):
            continue
        after = next_token(verb)
        if after is not None and after.pos_ in ("DET", "NOUN", "PROPN", "PRON"):
            continue
        yield grammar_error(token, token, "pronoun", "relative_qui", [match_case(token.text, "qui")])
