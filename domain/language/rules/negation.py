"""Rules: negation ("pas jamais", "pas des")."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import AVOIR_TO_ETRE, ETRE_FORMS, participle_infinitives
from domain.language.result import GrammarError
from domain.language.rules.common import NEGATION_ENDS, grammar_error, has_ne_before, span_text, verb_lemmas
from domain.language.rules.noun_phrases import noun_candidate
from domain.language.tokens import lower, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_NEGATIVE_WORDS = lexicon.words("negative_word")
_PARTITIVE_VERB_LEMMAS = lexicon.words("partitive_verb")
_APPRECIATION_VERBS = lexicon.words("appreciation_verb")


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
    """ "je n'ai pas des frères" -> "pas de frères"; in a compound tense the article
    follows the participle ("je n'ai pas mangé de la viande" -> "de")."""
    for token in doc[:-1]:
        if lower(token) not in NEGATION_ENDS:
            continue
        article = next_token(token)
        if article is not None and _negated_verb_takes_de(token, participle=article):
            article = next_token(article)
        elif not _negated_verb_takes_de(token):
            continue
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


def _negated_verb_takes_de(negation: Token, participle: Token | None = None) -> bool:
    """The negated verb before `negation` (or, when given, the participle after it, with
    "avoir" before the negation) is one whose object takes "de" once negated."""
    verb = previous_token(negation)
    if participle is not None:
        if verb is None or lower(verb) not in AVOIR_TO_ETRE:
            return False
        lemmas = set(participle_infinitives(lower(participle))) | {participle.lemma_.lower()}
        return bool(lemmas & _PARTITIVE_VERB_LEMMAS) and has_ne_before(verb)
    if verb is None or not has_ne_before(verb):
        return False
    if lower(verb) in ETRE_FORMS:
        return False  # "ce ne sont pas des pommes"
    lemmas = verb_lemmas(verb)
    return bool(lemmas & _PARTITIVE_VERB_LEMMAS)


def rule_definite_after_liking(doc: Doc) -> Iterator[GrammarError]:
    """ "je n'aime pas de poisson" -> "le poisson": a verb of liking speaks of the thing in
    general, so its object keeps the definite article, negated or not.
    Conditions: "ne" + a form of aimer/adorer/détester/préférer + pas/plus/jamais, then
    "de"/"d'" and a noun whose gender and number the lexicon knows."""
    for token in doc[:-2]:
        if lower(token) not in NEGATION_ENDS:
            continue
        verb, article, noun = previous_token(token), next_token(token), next_token(token, 2)
        if verb is None or noun is None or lower(article) not in ("de", "d'") or not has_ne_before(verb):
            continue
        lemmas = verb_lemmas(verb)
        if not lemmas & _APPRECIATION_VERBS:
            continue
        info = noun_candidate(noun)
        if info is None or info.gender is None or info.number is None:
            continue
        if info.number == "p":
            fixed = "les"
        elif starts_with_vowel_sound(noun.text):
            fixed = "l'"
        else:
            fixed = "le" if info.gender == "m" else "la"
        if fixed == "l'":
            yield grammar_error(article, noun, "negation", "definite_after_liking", [fixed + noun.text], fixed=fixed)
        else:
            yield grammar_error(article, article, "negation", "definite_after_liking", [fixed], fixed=fixed)
