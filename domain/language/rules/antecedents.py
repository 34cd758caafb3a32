"""Rule: a possessive pronoun ("le mien") or a demonstrative one ("celui") takes the
gender of the noun it stands for.

Grammar: "ta maison est grande, la mienne est petite"; "cette robe est plus belle que
celle de ma sœur". The noun it stands for is the nearest noun phrase before it in the
sentence that is not a "de" complement ("la voiture de mon frère ... celle de ma sœur":
"voiture"). Its number is the pronoun's own ("j'aime tes livres, le mien est vieux"), so
only the gender is checked. The forms are the closed paradigms below, built from their
stems; the noun's gender comes from the lexicon (`noun_phrases`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language.result import GrammarError
from domain.language.rules.common import grammar_error
from domain.language.rules.noun_phrases import NounPhrase, noun_phrases, phrase_gender
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


# (gender, number) -> form, for each stem: "mien" -> mien, mienne, miens, miennes.
_POSSESSIVE = {stem: {("m", "s"): stem, ("f", "s"): stem + "ne", ("m", "p"): stem + "s", ("f", "p"): stem + "nes"}
               for stem in ("mien", "tien", "sien")}
_POSSESSIVE_CELL = {form: (stem, cell) for stem, forms in _POSSESSIVE.items() for cell, form in forms.items()}
_ARTICLE = {("m", "s"): "le", ("f", "s"): "la", ("m", "p"): "les", ("f", "p"): "les"}
_DEMONSTRATIVE = {("m", "s"): "celui", ("f", "s"): "celle", ("m", "p"): "ceux", ("f", "p"): "celles"}
_DEMONSTRATIVE_CELL = {form: cell for cell, form in _DEMONSTRATIVE.items()}


def rule_pronoun_antecedent(doc: Doc) -> Iterator[GrammarError]:
    """Fires on le/la/les + mien/tien/sien (any form), and on celui/celle/ceux/celles
    followed by "de", "-ci"/"-là" or punctuation (not by "qui"/"que": "ceux qui" may
    stand for no noun), when the antecedent's gender is known and differs."""
    phrases = list(noun_phrases(doc))
    for token in doc:
        word = lower(token)
        if word in _POSSESSIVE_CELL:
            article = previous_token(token)
            if article is None or lower(article) not in ("le", "la", "les"):
                continue
            gender = _antecedent_gender(phrases, article)
            stem, (own_gender, number) = _POSSESSIVE_CELL[word]
            if gender and gender != own_gender:
                fixed = f"{match_case(article.text, _ARTICLE[gender, number])} {_POSSESSIVE[stem][gender, number]}"
                yield grammar_error(article, token, "pronoun", "pronoun_gender", [fixed], fixed=fixed)
        else:
            base, _, suffix = word.partition("-")
            if base not in _DEMONSTRATIVE_CELL or suffix not in ("", "ci", "là"):
                continue
            after = next_token(token)
            if not suffix and not (after is None or after.is_punct or lower(after) in ("de", "d'", "du", "des")):
                continue
            gender = _antecedent_gender(phrases, token)
            own_gender, number = _DEMONSTRATIVE_CELL[base]
            if gender and gender != own_gender:
                fixed = match_case(token.text, _DEMONSTRATIVE[gender, number] + (f"-{suffix}" if suffix else ""))
                yield grammar_error(token, token, "pronoun", "pronoun_gender", [fixed], fixed=fixed)


def _antecedent_gender(phrases: list[NounPhrase], pronoun: Token) -> str | None:
    for phrase in reversed([p for p in phrases if p.noun.i < pronoun.i]):
        if any(t.is_punct and t.text in ".?!;" for t in pronoun.doc[phrase.noun.i: pronoun.i]):
            return None  # another sentence
        before = previous_token(phrase.determiner) if phrase.determiner is not None else None
        if before is not None and lower(before) in ("de", "d'"):
            continue  # "la voiture de mon frère": the complement is not the antecedent
        return phrase_gender(phrase)
    return None
