"""Rules: word order (pronouns, adjectives after the noun, adverbs in compound tenses)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.adjectives import postnominal_forms
from domain.language.inflection.nouns import DETERMINERS, noun_forms
from domain.language.inflection.verbs import SUBJECT_PERSON, ETRE_FORMS, is_participle, is_finite_verb
from domain.language.result import GrammarError
from domain.language.rules.auxiliary import is_avoir_auxiliary
from domain.language.rules.common import grammar_error
from domain.language.tokens import lower, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_CLITIC_RANK = {pronoun: int(rank) for pronoun, rank in lexicon.column("object_pronouns", "pronoun", "rank").items()}
_STANDALONE_ADVERBS = lexicon.words("standalone_adverb")
_MOVABLE_ADVERBS = lexicon.words("movable_adverb")


def rule_word_order(doc: Doc) -> Iterator[GrammarError]:
    for token in doc[:-1]:
        yield from _clitic_before_ne(token)
        yield from _clitic_pair_order(token)
        yield from _postnominal_adjective_before_noun(token)
        yield from _object_pronoun_after_verb(token)
        yield from _adverb_after_participle(token)


def _swap(first: Token, second: Token, message_key: str) -> GrammarError:
    """Both words are clitics after their subject, so never capitalised."""
    return grammar_error(first, second, "word_order", message_key, [f"{second.text} {first.text}"])


def _clitic_before_ne(token: Token) -> Iterator[GrammarError]:
    """ "je le ne comprends pas" -> "je ne le comprends pas"."""
    ne, before = next_token(token), previous_token(token)
    if lower(token) not in _CLITIC_RANK or lower(ne) != "ne" or before is None:
        return
    if lower(before) in SUBJECT_PERSON:
        yield _swap(token, ne, "ne_before_pronoun")


def _clitic_pair_order(token: Token) -> Iterator[GrammarError]:
    """ "tu le me rends" -> "tu me le rends"."""
    second, before = next_token(token), previous_token(token)
    if before is None or lower(before) not in {*SUBJECT_PERSON, "ne", "n'"}:
        return
    first_rank = _CLITIC_RANK.get(lower(token))
    second_rank = _CLITIC_RANK.get(lower(second))
    if not first_rank or not second_rank or first_rank <= second_rank:
        return
    verb = next_token(second)
    if verb is not None and is_finite_verb(lower(verb)):
        yield _swap(token, second, "pronoun_order")


def _postnominal_adjective_before_noun(token: Token) -> Iterator[GrammarError]:
    """ "une rouge robe" -> "une robe rouge"."""
    noun, det = next_token(token), previous_token(token)
    word = lower(token)
    if det is None or lower(det) not in DETERMINERS or word not in postnominal_forms():
        return
    if lower(noun) not in noun_forms() or token.text[:1].isupper():
        return
    fixed = f"{noun.text} {token.text}"
    yield grammar_error(token, noun, "word_order",
                        "adjective_after_noun", [fixed],
                        adjective=token.text, fixed=fixed)


def _object_pronoun_after_verb(token: Token) -> Iterator[GrammarError]:
    """ "je vois le souvent" -> "je le vois souvent"."""
    pronoun, subject = next_token(token), previous_token(token)
    after = next_token(token, 2)
    if subject is None or lower(subject) not in SUBJECT_PERSON or pronoun is None:
        return
    if lower(pronoun) not in ("le", "la", "les") or not is_finite_verb(lower(token)):
        return
    if lower(token) in ETRE_FORMS:
        return
    if after is None or after.is_punct or lower(after) in _STANDALONE_ADVERBS:
        fixed = f"{pronoun.text} {token.text}"
        yield grammar_error(token, pronoun, "word_order",
                            "pronoun_before_verb", [fixed], fixed=fixed)


def _adverb_after_participle(token: Token) -> Iterator[GrammarError]:
    """ "j'ai lu déjà" -> "j'ai déjà lu"."""
    participle, adverb = next_token(token), next_token(token, 2)
    if adverb is None or lower(adverb) not in _MOVABLE_ADVERBS:
        return
    if not (is_avoir_auxiliary(token) or (lower(token) in ETRE_FORMS)):
        return
    if not is_participle(participle):
        return
    after = next_token(adverb)
    if after is not None and lower(after) in ("de", "des", "du", "que", "qu'", "d'"):
        return  # "il a fait bien des erreurs"
    fixed = f"{adverb.text} {participle.text}"
    yield grammar_error(participle, adverb, "word_order",
                        "adverb_before_participle", [fixed], fixed=fixed)
