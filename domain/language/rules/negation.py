"""Rules: negation ("pas jamais", "pas des")."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import ETRE_FORMS, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import OBJECT_CLITICS, grammar_error, span_text
from domain.language.tokens import lower, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_NEGATIVE_WORDS = lexicon.words("negative_word")
_PARTITIVE_VERB_LEMMAS = lexicon.words("partitive_verb")


def rule_double_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "pas jamais" -> "jamais" ("ce n'est pas rien" is idiomatic and left alone)."""
    for token in doc[:-1]:
        negative = next_token(token)
        if lower(token) != "pas" or lower(negative) not in _NEGATIVE_WORDS:
            continue
        if any(lower(t) in ("est", "était") for t in doc[max(0, token.i - 2): token.i]):
            continue
        yield grammar_error(token, negative, "negation",
                            "pas_with_negative", [negative.text],
                            negative=negative.text)


def rule_partitive_after_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "je n'ai pas des frères" -> "pas de frères"."""
    for token in doc[:-1]:
        if lower(token) not in ("pas", "plus", "jamais") or not _negated_verb_takes_de(token):
            continue
        article = next_token(token)
        word = lower(article)
        if word in ("du", "des"):
            last = article
        elif word == "de" and next_token(article) is not None and lower(next_token(article)) in ("la", "l'"):
            last = next_token(article)
        else:
            continue
        following = next_token(last)
        fixed = "d'" if following is not None and starts_with_vowel_sound(following.text) \
            else "de"
        yield grammar_error(article, last, "negation",
                            "article_after_negation", [fixed],
                            words=span_text(article, last), fixed=fixed)


def _negated_verb_takes_de(negation: Token) -> bool:
    verb = previous_token(negation)
    ne = previous_token(verb) if verb is not None else None
    while ne is not None and lower(ne) in OBJECT_CLITICS:
        ne = previous_token(ne)
    if ne is None or lower(ne) not in ("ne", "n'"):
        return False
    if lower(verb) in ETRE_FORMS:
        return False  # "ce ne sont pas des pommes"
    lemmas = {r.infinitive for r in verb_readings(lower(verb))} | {verb.lemma_.lower()}
    return bool(lemmas & _PARTITIVE_VERB_LEMMAS)
