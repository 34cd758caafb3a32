"""Rules: negation ("pas jamais", "pas des")."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import _ETRE_FORMS, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import _OBJECT_CLITICS, _error, _span_text
from domain.language.tokens import _lower, _next, _prev, _starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_NEGATIVE_WORDS = lexicon.words("negative_word")
_PARTITIVE_VERB_LEMMAS = lexicon.words("partitive_verb")


def rule_double_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "pas jamais" -> "jamais" ("ce n'est pas rien" is idiomatic and left alone)."""
    for token in doc[:-1]:
        negative = _next(token)
        if _lower(token) != "pas" or _lower(negative) not in _NEGATIVE_WORDS:
            continue
        if any(_lower(t) in ("est", "était") for t in doc[max(0, token.i - 2): token.i]):
            continue
        yield _error(token, negative, "negation",
                     "pas_with_negative", [negative.text],
                     negative=negative.text)


def rule_partitive_after_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "je n'ai pas des frères" -> "pas de frères"."""
    for token in doc[:-1]:
        if _lower(token) not in ("pas", "plus", "jamais") or not _negated_verb_takes_de(token):
            continue
        article = _next(token)
        word = _lower(article)
        if word in ("du", "des"):
            last = article
        elif word == "de" and _next(article) is not None and _lower(_next(article)) in ("la", "l'"):
            last = _next(article)
        else:
            continue
        following = _next(last)
        fixed = "d'" if following is not None and _starts_with_vowel_sound(following.text) \
            else "de"
        yield _error(article, last, "negation",
                     "article_after_negation", [fixed],
                     words=_span_text(article, last), fixed=fixed)


def _negated_verb_takes_de(negation: Token) -> bool:
    verb = _prev(negation)
    ne = _prev(verb) if verb is not None else None
    while ne is not None and _lower(ne) in _OBJECT_CLITICS:
        ne = _prev(ne)
    if ne is None or _lower(ne) not in ("ne", "n'"):
        return False
    if _lower(verb) in _ETRE_FORMS:
        return False  # "ce ne sont pas des pommes"
    lemmas = {r.infinitive for r in verb_readings(_lower(verb))} | {verb.lemma_.lower()}
    return bool(lemmas & _PARTITIVE_VERB_LEMMAS)
