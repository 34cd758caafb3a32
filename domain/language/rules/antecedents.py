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
from domain.language.rules.common import grammar_error, span_text
from domain.language.rules.noun_phrases import NounPhrase, noun_phrases, phrase_gender, phrase_number
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
# The relative "lequel" after a preposition, and its contractions with "à" and "de".
_RELATIVE = {("m", "s"): "lequel", ("f", "s"): "laquelle", ("m", "p"): "lesquels", ("f", "p"): "lesquelles"}
_RELATIVE_AFTER = {
    "à": {("m", "s"): "auquel", ("f", "s"): "à laquelle", ("m", "p"): "auxquels", ("f", "p"): "auxquelles"},
    "de": {("m", "s"): "duquel", ("f", "s"): "de laquelle", ("m", "p"): "desquels", ("f", "p"): "desquelles"},
}
_CONTRACTED_RELATIVE = {form: preposition for preposition, forms in _RELATIVE_AFTER.items()
                        for form in forms.values() if " " not in form}


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


def rule_relative_lequel(doc: Doc) -> Iterator[GrammarError]:
    """ "la raison pour lequel" -> "pour laquelle"; "les amis avec lequel" -> "avec
    lesquels"; "la réunion auquel" -> "à laquelle": the relative "lequel" takes the
    gender and number of its antecedent, the noun right before its preposition.
    Conditions: that noun's gender and number are known, and it is not itself a "de"
    complement ("la fille de mon voisin avec laquelle": either noun may be meant)."""
    ends = {phrase.noun.i: phrase for phrase in noun_phrases(doc)}
    for token in doc:
        word = lower(token)
        if word in _CONTRACTED_RELATIVE:
            first, preposition = token, _CONTRACTED_RELATIVE[word]
        elif word in _RELATIVE.values() and (before := previous_token(token)) is not None:
            first, preposition = before, lower(before)
        else:
            continue
        phrase = ends.get(first.i - 1)
        if phrase is None or _is_complement(phrase):
            continue
        gender, number = phrase_gender(phrase), phrase_number(phrase)
        if not gender or not number:
            continue
        if preposition in _RELATIVE_AFTER:
            fixed = _RELATIVE_AFTER[preposition][gender, number]
        else:
            fixed = _RELATIVE[gender, number] if first is not token else None
            first = token
        if fixed and fixed != span_text(first, token).lower():
            yield grammar_error(first, token, "pronoun", "relative_pronoun_agreement", [fixed], fixed=fixed)


def rule_relative_without_antecedent(doc: Doc) -> Iterator[GrammarError]:
    """ "tout que je veux" -> "tout ce que": after "tout" a relative pronoun needs "ce"
    to stand for the thing meant (also "tout qui" -> "tout ce qui")."""
    for token in doc[:-1]:
        relative, before = next_token(token), previous_token(token)
        if lower(token) != "tout" or lower(relative) not in ("que", "qu'", "qui"):
            continue
        if before is None or lower(before) != "du":  # "pas du tout que..."
            fixed = f"{token.text} ce {relative.text}"
            yield grammar_error(token, relative, "pronoun", "tout_ce_que", [fixed], fixed=fixed)


def _is_complement(phrase: NounPhrase) -> bool:
    first = phrase.determiner if phrase.determiner is not None else phrase.noun
    before = previous_token(first)
    if before is None:
        return False
    # "la maison des voisins": "des" after a noun is "de" + "les", not an article.
    return lower(before) in ("de", "d'") or (lower(first) in ("du", "des") and before.pos_ in ("NOUN", "PROPN"))


def _antecedent_gender(phrases: list[NounPhrase], pronoun: Token) -> str | None:
    for phrase in reversed([p for p in phrases if p.noun.i < pronoun.i]):
        if any(t.is_punct and t.text in ".?!;" for t in pronoun.doc[phrase.noun.i: pronoun.i]):
            return None  # another sentence
        before = previous_token(phrase.determiner) if phrase.determiner is not None else None
        if before is not None and lower(before) in ("de", "d'"):
            continue  # "la voiture de mon frère": the complement is not the antecedent
        return phrase_gender(phrase)
    return None
