"""Rules: negation ("pas jamais", "pas des", where "pas" goes)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import (
    AVOIR_TO_ETRE, ETRE_FORMS, is_finite_verb, is_participle, participle_infinitives)
from domain.language.result import GrammarError
from domain.language.rules.common import (
    NE, NEGATION_ENDS, OBJECT_CLITICS, grammar_error, has_ne_before, looks_like_infinitive, span_text, verb_lemmas)
from domain.language.rules.noun_phrases import noun_candidate
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_NEGATIVE_WORDS = lexicon.words("negative_word")
# The words that follow the conjugated verb (or stand before an infinitive) with "ne".
_AFTER_NE = NEGATION_ENDS | {"rien"}
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


def rule_negation_placement(doc: Doc) -> Iterator[GrammarError]:
    """Where "pas" (or jamais, plus, rien) goes:
    - around a conjugated verb: "je ne pas mange" -> "je ne mange pas" (its object
      pronouns stay with it: "je ne pas le vois" -> "je ne le vois pas");
    - before an infinitive, both together: "ne manger pas" -> "ne pas manger";
    - around the auxiliary of a compound tense: "je n'ai mangé pas" -> "je n'ai pas mangé"
      ("personne" and "aucun" rightly follow the participle: not these);
    - after a verb followed by its infinitive: "je ne veux voir pas" -> "je ne veux pas voir".
    Conditions: "ne"/"n'" first, and the words in the order each case names."""
    for ne in doc[:-2]:
        if lower(ne) not in NE:
            continue
        first = next_token(ne)
        if lower(first) in _AFTER_NE:
            yield from _negative_before_verb(ne, first)
            continue
        second = next_token(first)
        third = next_token(second) if second is not None else None
        if second is None:
            continue
        if lower(second) in _AFTER_NE and looks_like_infinitive(first) \
                and not is_finite_verb(lower(first)):
            fixed = f"{ne.text} {second.text} {first.text}"  # "ne manger pas" -> "ne pas manger"
            yield grammar_error(ne, second, "negation", "negation_placement", [fixed], fixed=fixed)
        elif third is not None and lower(third) in _AFTER_NE and is_finite_verb(lower(first)) and (
                ((lower(first) in AVOIR_TO_ETRE or lower(first) in ETRE_FORMS) and is_participle(second))
                or (looks_like_infinitive(second) and not is_finite_verb(lower(second)))):
            fixed = f"{first.text} {third.text} {second.text}"  # "n'ai mangé pas" -> "n'ai pas mangé"
            yield grammar_error(first, third, "negation", "negation_placement", [fixed], fixed=fixed)


def _negative_before_verb(ne: Token, negative: Token) -> Iterator[GrammarError]:
    """ "ne pas mange" -> "ne mange pas" (not "ne pas manger", which is right)."""
    verb = next_token(negative)
    clitics = []
    while verb is not None and lower(verb) in OBJECT_CLITICS:
        clitics.append(verb)
        verb = next_token(verb)
    if verb is None or not is_finite_verb(lower(verb)) or looks_like_infinitive(verb) or is_participle(verb):
        return
    words = [t.text for t in clitics] + [verb.text]
    head = "n'" if lower(ne) == "n'" or starts_with_vowel_sound(words[0]) else "ne "
    fixed = match_case(ne.text, head) + " ".join(words) + f" {negative.text}"
    yield grammar_error(ne, verb, "negation", "negation_placement", [fixed.replace("' ", "'")], fixed=fixed)


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
