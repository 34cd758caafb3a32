"""Rules: word order (pronouns, adjectives after the noun, adverbs in compound tenses)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.adjectives import _postnominal_forms
from domain.language.inflection.nouns import _DETERMINERS, _noun_forms
from domain.language.inflection.verbs import SUBJECT_PERSON, _ETRE_FORMS, _is_participle, is_finite_verb
from domain.language.result import GrammarError
from domain.language.rules.auxiliary import _is_avoir_auxiliary
from domain.language.rules.common import _error
from domain.language.tokens import _lower, _next, _prev

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
    return _error(first, second, "word_order", message_key, [f"{second.text} {first.text}"])


def _clitic_before_ne(token: Token) -> Iterator[GrammarError]:
    """ "je le ne comprends pas" -> "je ne le comprends pas"."""
    ne, before = _next(token), _prev(token)
    if _lower(token) not in _CLITIC_RANK or _lower(ne) != "ne" or before is None:
        return
    if _lower(before) in SUBJECT_PERSON:
        yield _swap(token, ne, "ne_before_pronoun")


def _clitic_pair_order(token: Token) -> Iterator[GrammarError]:
    """ "tu le me rends" -> "tu me le rends"."""
    second, before = _next(token), _prev(token)
    if before is None or _lower(before) not in {*SUBJECT_PERSON, "ne", "n'"}:
        return
    first_rank = _CLITIC_RANK.get(_lower(token))
    second_rank = _CLITIC_RANK.get(_lower(second))
    if not first_rank or not second_rank or first_rank <= second_rank:
        return
    verb = _next(second)
    if verb is not None and is_finite_verb(_lower(verb)):
        yield _swap(token, second, "pronoun_order")


def _postnominal_adjective_before_noun(token: Token) -> Iterator[GrammarError]:
    """ "une rouge robe" -> "une robe rouge"."""
    noun, det = _next(token), _prev(token)
    word = _lower(token)
    if det is None or _lower(det) not in _DETERMINERS or word not in _postnominal_forms():
        return
    if _lower(noun) not in _noun_forms() or token.text[:1].isupper():
        return
    fixed = f"{noun.text} {token.text}"
    yield _error(token, noun, "word_order",
                 "adjective_after_noun", [fixed],
                 adjective=token.text, fixed=fixed)


def _object_pronoun_after_verb(token: Token) -> Iterator[GrammarError]:
    """ "je vois le souvent" -> "je le vois souvent"."""
    pronoun, subject = _next(token), _prev(token)
    after = _next(token, 2)
    if subject is None or _lower(subject) not in SUBJECT_PERSON or pronoun is None:
        return
    if _lower(pronoun) not in ("le", "la", "les") or not is_finite_verb(_lower(token)):
        return
    if _lower(token) in _ETRE_FORMS:
        return
    if after is None or after.is_punct or _lower(after) in _STANDALONE_ADVERBS:
        fixed = f"{pronoun.text} {token.text}"
        yield _error(token, pronoun, "word_order",
                     "pronoun_before_verb", [fixed], fixed=fixed)


def _adverb_after_participle(token: Token) -> Iterator[GrammarError]:
    """ "j'ai lu déjà" -> "j'ai déjà lu"."""
    participle, adverb = _next(token), _next(token, 2)
    if adverb is None or _lower(adverb) not in _MOVABLE_ADVERBS:
        return
    if not (_is_avoir_auxiliary(token) or (_lower(token) in _ETRE_FORMS)):
        return
    if not _is_participle(participle):
        return
    after = _next(adverb)
    if after is not None and _lower(after) in ("de", "des", "du", "que", "qu'", "d'"):
        return  # "il a fait bien des erreurs"
    fixed = f"{adverb.text} {participle.text}"
    yield _error(participle, adverb, "word_order",
                 "adverb_before_participle", [fixed], fixed=fixed)
