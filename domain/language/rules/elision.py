"""Rules: elision ("je ai" -> "j'ai") and contraction ("à le" -> "au")."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import PERSONS, AVOIR_TO_ETRE, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import ELISIONS, grammar_error, looks_like_infinitive, span_text
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_NO_ELISION_BEFORE = lexicon.words("no_elision_before")
_CONTRACTIONS = lexicon.contractions()

_NUMBER_ONE = {"un", "une"}  # "le un" (the number), but "d'un", "qu'une"


def rule_elision(doc: Doc) -> Iterator[GrammarError]:
    """ "je ai" -> "j'ai", "que il" -> "qu'il", "si il" -> "s'il", "ce est" -> "c'est"."""
    for token in doc[:-1]:
        following = next_token(token)
        elided = _elided_form(token, following)
        if elided:
            fixed = match_case(token.text, elided) + following.text
            yield grammar_error(token, following, "contraction_elision",
                                "elision", [fixed], word=token.text, fixed=fixed)


def _elided_form(token: Token, following: Token) -> str | None:
    word, nxt = lower(token), lower(following)
    if token.whitespace_ == "" or not following.text[:1].isalpha():
        return None
    if word == "si" and nxt in ("il", "ils"):
        return "s'"
    if word == "ce" and nxt in ("est", "était", "étaient"):
        return "c'"
    if word not in ELISIONS or nxt in _NO_ELISION_BEFORE:
        return None
    if word in ("le", "la") and nxt in _NUMBER_ONE:
        return None
    if following.text.isupper() and len(following.text) > 1:  # acronyms
        return None
    if word == "je" and nxt == "y":
        return "j'"
    if word == "je" and _is_verb_of_other_person(nxt, "1s"):
        return None  # "je es" is a subject-verb error: "je suis"
    if word in ("me", "te", "se") and nxt in AVOIR_TO_ETRE:
        return None  # "ils se a lavés" is an auxiliary error: "se sont"
    if word in ("le", "la") and previous_token(token) is not None and previous_token(token).text.endswith("-"):
        return None
    return ELISIONS[word] if starts_with_vowel_sound(nxt) else None


def _is_verb_of_other_person(word: str, person: str) -> bool:
    readings = verb_readings(word)
    return bool(readings) and all(r.person != PERSONS.index(person) for r in readings)


def rule_contraction(doc: Doc) -> Iterator[GrammarError]:
    """ "à le" -> "au", "de les" -> "des" when "le/les" is an article."""
    for token in doc[:-2]:
        article = next_token(token)
        pair = (lower(token), lower(article))
        if pair not in _CONTRACTIONS or article.pos_ == "PRON":
            continue
        noun = next_token(article)
        if starts_with_vowel_sound(noun.text) or noun.is_punct or looks_like_infinitive(noun):
            continue
        fixed = match_case(token.text, _CONTRACTIONS[pair])
        yield grammar_error(token, article, "contraction_elision",
                            "contraction", [fixed],
                            words=span_text(token, article), fixed=fixed)
