"""Rules: the object pronouns of an affirmative imperative, joined to the verb by hyphens.

Grammar: after the verb, "me" and "te" become "moi" and "toi" ("lève-toi", "donne-moi
le livre"), and the direct object comes first ("donne-le-moi", "rends-les-lui").
spaCy splits hyphenated imperatives unevenly ("Donne-me" stays one token, "Donne-moi-le"
becomes five), so these rules read the text and check the verb through the lexicon.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from domain.language.inflection.verbs import is_finite_verb
from domain.language.result import GrammarError
from domain.language.rules.common import grammar_error, looks_like_infinitive
from domain.language.tokens import next_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Span

_WORD = r"(?<![\w'’-])([^\W\d_]+)"
# "lève-te", "donne-me": "me"/"te" at the end of the word (not "-m'en", "-même").
_UNSTRESSED_AFTER = re.compile(_WORD + r"-(me|te)(?![\w'’-])", re.IGNORECASE)
# "donne-moi-le", "donne-moi le." (the pronoun ends the clause): the object goes first.
_INDIRECT_FIRST = re.compile(_WORD + r"-(moi|toi|lui|nous|vous|leur)(?:-| )(le|la|les)(?=\s*(?:[.!?,;:]|$))",
                             re.IGNORECASE)
_STRESSED = {"me": "moi", "te": "toi"}


def rule_imperative_pronouns(doc: Doc) -> Iterator[GrammarError]:
    text = doc.text
    for match in _UNSTRESSED_AFTER.finditer(text):
        verb, pronoun = match.group(1), match.group(2)
        span = _span(doc, match)
        after = next_token(span[-1]) if span is not None else None
        if span is None or not is_finite_verb(verb.lower()) or (after is not None and looks_like_infinitive(after)):
            continue  # "va-te coucher": the pronoun belongs to the infinitive ("va te coucher")
        fixed = f"{verb}-{_STRESSED[pronoun.lower()]}"
        yield grammar_error(span[0], span[-1], "pronoun", "imperative_stressed_pronoun", [fixed], fixed=fixed)
    for match in _INDIRECT_FIRST.finditer(text):
        verb, indirect, direct = match.group(1), match.group(2), match.group(3)
        span = _span(doc, match)
        if span is None or not is_finite_verb(verb.lower()):
            continue
        fixed = f"{verb}-{direct}-{indirect}"
        yield grammar_error(span[0], span[-1], "word_order", "imperative_pronoun_order", [fixed], fixed=fixed)


def _span(doc: Doc, match: re.Match) -> Span | None:
    """The tokens of exactly the matched text (None if they spill over it)."""
    return doc.char_span(match.start(), match.end())
