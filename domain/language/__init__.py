"""Language analysis: French grammar feedback, word feedback and message moderation."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from domain.language import grammar, words
from domain.language.grammar import GrammarError, GrammarResult, check_grammar, warm_up
from domain.language.moderation import ModerationResult, moderate

if TYPE_CHECKING:
    from spacy.tokens import Doc

FindWords = Callable[[set[str]], Iterable[words.VocabularyWord]]


def analyse_message(text: str, language: str, *, native_language: str | None = None,
                    find_words: FindWords | None = None, doc: Doc | None = None) -> dict:
    """The grammar stage's result: `errors` (messages in the learner's native language
    where we have it), `corrected_text`, and `word_feedback` for the vocabulary words the
    message involves. `find_words(lemmas)` returns those words (the suggested ones, and
    the learner's known ones among `lemmas`); the learner's known words are never
    reported as misspelt.

    The analyzer knows French only: another language's message gets no corrections (a
    character in another language is for the models, which correct by recasting anyway)
    rather than French rules applied to it. Pass `doc` when the text is parsed already."""
    if language != "fr" or not text.strip():
        return {"errors": [], "corrected_text": None if language != "fr" else text, "word_feedback": []}
    doc = doc or grammar.parse(text)
    found = check_grammar(text, doc=doc).errors
    involved = list(find_words(words.lemma_candidates(doc, found))) if find_words else []
    known = {word.lemma.lower() for word in involved if word.known}
    errors = [error for error in found
              if not (error.category == "spelling" and text[error.start:error.end].lower() in known)]
    shown = [error.to_dict(native_language) for error in errors]
    return {"errors": shown,
            "corrected_text": grammar.apply_corrections(text, errors),
            "word_feedback": words.word_feedback(doc, involved, shown)}


def analyse_answer(text: str, language: str, native_language: str | None = None) -> dict:
    """Errors and corrected text, plus what scoring an answer needs: its word count and
    every lemma its words can be a form of (a journey answer's offline score)."""
    doc = grammar.parse(text)
    result = analyse_message(text, language, native_language=native_language, doc=doc)
    tokens = [token for token in doc if token.text.replace("-", "").replace("'", "").isalpha()]
    lemmas = set().union(*(words.readings(token) for token in tokens)) if tokens else set()
    return {"errors": result["errors"], "corrected_text": result["corrected_text"], "word_count": len(tokens),
            "lemmas": sorted(lemmas)}


def analyse_grammar(text: str, language: str, native_language: str | None = None) -> dict:
    """Errors and corrected text only (POST /language/check)."""
    result = analyse_message(text, language, native_language=native_language)
    return {"errors": result["errors"], "corrected_text": result["corrected_text"]}


__all__ = [
    "analyse_answer",
    "analyse_grammar",
    "analyse_message",
    "GrammarError",
    "GrammarResult",
    "ModerationResult",
    "check_grammar",
    "moderate",
    "warm_up",
]
