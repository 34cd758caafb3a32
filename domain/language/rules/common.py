"""What every rule uses: clause boundaries, object pronouns, and building an error."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from domain.language import lexicon
from domain.language import messages
from domain.language.inflection.nouns import _noun_forms
from domain.language.inflection.verbs import paradigm
from domain.language.result import GrammarError
from domain.language.tokens import _lower, _next, _prev

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


CLAUSE_LINKS = lexicon.words("clause_link")
_OBJECT_CLITICS = frozenset(row["pronoun"] for row in lexicon.table("object_pronouns"))
# A preposition that is also a pronoun ("en") says nothing about the word after it.
_PREPOSITIONS = lexicon.words("preposition") - _OBJECT_CLITICS


def _is_clause_start(token: Token) -> bool:
    """Nothing before `token` in its clause (start, punctuation or a linking word)."""
    before = _prev(token)
    return before is None or before.is_punct or _lower(before) in CLAUSE_LINKS


def _error(first: Token, last: Token, category: str, message_key: str,
           suggestions: Iterable[str], **message_params: str) -> GrammarError:
    """An error from `first` to `last`; its message is `messages.MESSAGES[message_key]`
    with the quoted words in `message_params`."""
    unique = list(dict.fromkeys(s for s in suggestions if s))
    return GrammarError(first.idx, last.idx + len(last.text), category,
                        messages.render(message_key, message_params), unique,
                        message_key, tuple(message_params.items()))


def _span_text(first: Token, last: Token) -> str:
    return first.doc.text[first.idx: last.idx + len(last.text)]


Rule = Callable[["Doc"], Iterator[GrammarError]]


_NEGATION_AND_CLITICS = _OBJECT_CLITICS | {"ne", "n'"}


def _skip_clitics(token: Token, limit: int = 4) -> Token | None:
    """The first token after `token` that is not "ne" or an object pronoun."""
    current = _next(token)
    while current is not None and limit and _lower(current) in _NEGATION_AND_CLITICS:
        current = _next(current)
        limit -= 1
    return current


def _looks_like_infinitive(token: Token) -> bool:
    word = _lower(token)
    if word in _noun_forms():
        return False
    return word.endswith(("er", "ir", "re", "oir")) and (
        token.pos_ in ("VERB", "AUX") or paradigm(word) is not None)
