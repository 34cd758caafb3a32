"""Rules: "y" and "en" stand for what the verb governs.

Grammar: "y" takes up "à" + a thing ("je pense à mon examen" -> "j'y pense"), "en" takes
up "de" + a thing ("j'ai besoin de ce livre" -> "j'en ai besoin", "je me souviens de ce
jour" -> "je m'en souviens") and a quantity without its noun ("j'en ai beaucoup"). The
government comes from the lexicon (verb_prepositions.tsv: the verbs and "avoir" nouns
built with "à" or "de" before a noun phrase; the thought verbs).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import NUMBER_WORDS
from domain.language.inflection.verbs import AVOIR_TO_ETRE, ETRE_FORMS, participle_infinitives, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import (
    NE, NEGATION_ENDS, REFLEXIVE_PRONOUNS, SUBJECT_PRONOUNS, grammar_error, may_be_subject)
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


def _governing(preposition: str) -> frozenset[str]:
    return frozenset(row["head"] for row in lexicon.table("verb_prepositions")
                     if row["preposition"] == preposition and row["complement"] == "any")


_A_HEADS = (_governing("à") | lexicon.words("thought_verb")) - _governing("de")
_DE_HEADS = _governing("de") - _governing("à")
# Verbs whose object may be a number standing for its noun: "j'en veux deux".
_QUANTITY_VERBS = lexicon.words("quantity_verb")
# Adverbs of quantity standing for their noun ("j'en ai beaucoup"), and the verbs that
# need "en" then: not "je mange beaucoup", where "beaucoup" says how much one eats.
_QUANTITIES = frozenset({"beaucoup", "trop", "plusieurs", "assez"})
_HAVING_VERBS = frozenset({"avoir", "vouloir", "acheter"})


def rule_y_and_en(doc: Doc) -> Iterator[GrammarError]:
    for token in doc[:-1]:
        yield from _y_or_en_error(token)
        yield from _quantity_without_en_error(token)


def _y_or_en_error(token: Token) -> Iterator[GrammarError]:
    """ "j'y ai besoin" -> "j'en ai besoin"; "je m'y souviens" -> "je m'en souviens";
    "j'en pense souvent" -> "j'y pense".
    Conditions: "y"/"en" after a subject pronoun (then "ne" and a reflexive pronoun may
    come between), before a verb (or an auxiliary and its participle, or "avoir" and its
    noun) governing only the other preposition; for "en" -> "y", nothing but adverbs or
    the end of the clause after the verb ("j'en pense du bien" speaks of an opinion)."""
    word = lower(token)
    if word not in ("y", "en") or not _in_object_place(token):
        return
    verb = next_token(token)
    heads, after = _heads(verb)
    if word == "y" and heads & _DE_HEADS:
        yield grammar_error(token, token, "pronoun", "de_takes_en", ["en"])
    elif word == "en" and heads & _A_HEADS and (after is None or after.is_punct or after.pos_ == "ADV"):
        if after is not None and lower(next_token(after)) in ("de", "d'", "du", "des"):
            return
        yield grammar_error(token, token, "pronoun", "a_takes_y", ["y"])


def _quantity_without_en_error(token: Token) -> Iterator[GrammarError]:
    """ "Des frères ? J'ai deux." -> "J'en ai deux"; "Des amis ? J'ai beaucoup." -> "J'en
    ai beaucoup": a quantity standing for a noun needs "en" before the verb.
    Conditions: a subject pronoun, then a verb and a quantity that ends the clause: a
    number after a present form of avoir/vouloir/prendre/acheter/... (not when the text
    speaks of age: "âge", "ans"), or beaucoup/trop/plusieurs/assez after avoir/vouloir/acheter."""
    subject, quantity = previous_token(token), next_token(token)
    if subject is None or quantity is None or lower(subject) not in SUBJECT_PRONOUNS:
        return
    end = next_token(quantity)
    if not (end is None or end.is_punct):
        return
    readings = verb_readings(lower(token))
    if lower(quantity) in NUMBER_WORDS or quantity.like_num:
        if any(lower(t) in ("âge", "ans", "an") for t in token.doc):
            return
        if not any(r.infinitive in _QUANTITY_VERBS and r.tense == "present" for r in readings):
            return
    elif lower(quantity) not in _QUANTITIES or not {r.infinitive for r in readings} & _HAVING_VERBS:
        return
    elided = lower(subject) in ("je", "j'")
    fixed = (match_case(subject.text, "j'en ") if elided else f"{subject.text} en ") + token.text
    yield grammar_error(subject, token, "pronoun", "quantity_is_en", [fixed])


def _in_object_place(token: Token) -> bool:
    """Right after the subject pronoun, with "ne" and a reflexive pronoun between them or
    not ("j'y pense", "je ne m'en souviens pas")."""
    before = previous_token(token)
    if before is not None and lower(before) in REFLEXIVE_PRONOUNS and not may_be_subject(before):
        before = previous_token(before)  # "je m'en souviens" (but "nous en avons": "nous" is the subject)
    if before is not None and lower(before) in NE:
        before = previous_token(before)
    return before is not None and lower(before) in SUBJECT_PRONOUNS


def _heads(verb: Token | None) -> tuple[set[str], Token | None]:
    """The infinitives (or "avoir" noun) a verb stands for, and the token after it all:
    "ai besoin" -> {"besoin"}; "suis souvenu" -> {"souvenir"}; "pense" -> {"penser"}."""
    if verb is None:
        return set(), None
    following = next_token(verb)
    if following is not None and lower(following) in NEGATION_ENDS:  # "je n'en ai pas besoin"
        following = next_token(following)
    if following is not None and (lower(verb) in AVOIR_TO_ETRE or lower(verb) in ETRE_FORMS):
        if lower(following) in _DE_HEADS:  # "j'en ai besoin"
            return {lower(following)}, next_token(following)
        infinitives = participle_infinitives(lower(following))
        if infinitives:
            return set(infinitives), next_token(following)
    return {r.infinitive for r in verb_readings(lower(verb))}, following
