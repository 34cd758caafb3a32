"""Word feedback: for each vocabulary word a message involves, whether the learner used
it, used it correctly, or used it with an error (and which). The spaced-repetition
reviews that come from conversations are made from this.

A word is "used" when a token of the message can be read as one of its forms: the
token itself, spaCy's lemma, or what the lexicon says it inflects from (noun plural,
adjective agreement, verb conjugation). A token inside a spelling error is also read
as the correction, so "tres" for "très" counts as "très" used with an error.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Protocol

from domain.language import grammar, lexicon

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

NOT_USED, USED_CORRECTLY, USED_WITH_ERROR = "not_used", "used_correctly", "used_with_error"


class VocabularyWord(Protocol):
    id: int
    lemma: str
    suggested: bool
    known: bool


def readings(token: Token) -> set[str]:
    """Every lemma the token can be a form of (lower case)."""
    word, lemma = token.text.lower(), token.lemma_.lower()
    found = {word, lemma}
    noun = grammar.noun_info(token)
    if noun is not None:
        found.add(noun.singular)
        found.update(_masculine(noun.singular))  # "amies" is a form of "ami"
    verbs = {reading.infinitive for reading in grammar.verb_readings(word)}
    found.update({lemma} if lemma in verbs else verbs)  # "suis": être, not suivre, when spaCy says so
    adjective = grammar.as_adjective(token)
    if adjective is not None:
        found.add(adjective.base)
    return {reading for reading in found if reading}


def _masculine(noun: str) -> list[str]:
    """Masculine forms a feminine noun may come from (a guess: only vocabulary matches count)."""
    return [noun[: -len(ending)] + masculine for ending, masculine in lexicon.feminine_noun_endings()
            if noun.endswith(ending) and len(noun) > len(ending) + 1]


def _is_word(token: Token) -> bool:
    return token.text.replace("-", "").isalpha()


def _corrections(doc: Doc, errors: Iterable[Any]) -> dict[int, set[str]]:
    """Token index -> what the learner meant there, for tokens a spelling error covers."""
    meant: dict[int, set[str]] = {}
    for error in errors:
        start, end, category, suggestions = _fields(error)
        if category != "spelling" or not suggestions:
            continue
        for token in doc:
            if start <= token.idx < end:
                meant.setdefault(token.i, set()).add(suggestions[0].lower())
    return meant


def lemma_candidates(doc: Doc, errors: Iterable[Any] = ()) -> set[str]:
    """The lemmas to look the message's words up by (one vocabulary query per message)."""
    candidates: set[str] = set()
    for token in doc:
        if _is_word(token):
            candidates |= readings(token)
    for meant in _corrections(doc, errors).values():
        candidates |= meant
    candidates |= _phrases(doc)
    return candidates


def _phrases(doc: Doc) -> set[str]:
    """Two- and three-word sequences, for multi-word entries ("pomme de terre")."""
    words = [token.text.lower() if _is_word(token) else None for token in doc]
    return {" ".join(words[i:i + n]) for n in (2, 3) for i in range(len(words) - n + 1)
            if None not in words[i:i + n]}


def word_feedback(doc: Doc, words: Iterable[VocabularyWord], errors: Iterable[Any]) -> list[dict[str, Any]]:
    """One entry per involved word: where it was used (character spans) and how."""
    errors = list(errors)
    meant = _corrections(doc, errors)
    token_lemmas = [readings(token) | meant.get(token.i, set()) if _is_word(token) else set() for token in doc]
    feedback = []
    for word in words:
        spans = _spans_of(word.lemma.lower(), doc, token_lemmas)
        feedback.append({"word_id": word.id, "lemma": word.lemma, "suggested": word.suggested, "known": word.known,
                         "spans": spans})
    return reassess(feedback, errors)


def _spans_of(lemma: str, doc: Doc, token_lemmas: list[set[str]]) -> list[list[int]]:
    if " " in lemma:
        size = lemma.count(" ") + 1
        return [[doc[i].idx, doc[i + size - 1].idx + len(doc[i + size - 1].text)]
                for i in range(len(doc) - size + 1)
                if " ".join(t.text.lower() for t in doc[i:i + size]) == lemma]
    return [[token.idx, token.idx + len(token.text)] for token in doc if lemma in token_lemmas[token.i]]


def reassess(feedback: Iterable[dict[str, Any]], errors: Iterable[Any]) -> list[dict[str, Any]]:
    """Recompute each word's usage against `errors` (after a model's corrections were
    merged in, say): a use is wrong when an error's span overlaps it."""
    errors = list(errors)
    assessed = []
    for entry in feedback:
        wrong = [_brief(error) for error in errors
                 if any(_overlaps(_fields(error)[:2], span) for span in entry["spans"])]
        usage = NOT_USED if not entry["spans"] else USED_WITH_ERROR if wrong else USED_CORRECTLY
        assessed.append({**entry, "usage": usage, "errors": wrong})
    return assessed


def _overlaps(error_span: tuple[int, int], span: list[int]) -> bool:
    return error_span[0] < span[1] and span[0] < error_span[1]


def _fields(error: Any) -> tuple[int, int, str, list[str]]:
    """(start, end, category, suggestions) of a GrammarError or of its dict form."""
    if isinstance(error, dict):
        return error["start"], error["end"], error["category"], list(error["suggestions"])
    return error.start, error.end, error.category, list(error.suggestions)


def _brief(error: Any) -> dict[str, Any]:
    start, end, category, suggestions = _fields(error)
    message = error["message"] if isinstance(error, dict) else error.message
    return {"start": start, "end": end, "category": category, "message": message, "suggestions": suggestions}
