"""What the rules share: the closed sets of pronouns and words several of them read, clause
boundaries, negation, infinitives, a verb's possible lemmas, and building an error."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from domain.language import lexicon, messages
from domain.language.inflection.nouns import noun_forms
from domain.language.inflection.verbs import SUBJECT_PERSON, paradigm, verb_readings
from domain.language.lexicon import dela
from domain.language.result import GrammarError
from domain.language.tokens import lower, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


CLAUSE_LINKS = lexicon.words("clause_link")

# --- pronouns ----------------------------------------------------------------------------
# je, j', tu, il, elle, on, nous, vous, ils, elles (lexicon/subject_pronouns.tsv).
SUBJECT_PRONOUNS = frozenset(SUBJECT_PERSON)
# Subject pronouns that are also object or stressed pronouns ("il nous parle", "c'est elle").
_ALSO_OBJECTS = frozenset({"nous", "vous", "elle", "elles"})
OBJECT_CLITICS = frozenset(row["pronoun"] for row in lexicon.table("object_pronouns"))
# A word elided before a vowel sound -> its elided form ("je" -> "j'").
ELISIONS = lexicon.column("elisions", "word", "elided")
# me, te, se, nous, vous (the subject pronouns' reflexives) and the elided m', t', s'.
_REFLEXIVES = frozenset(lexicon.column("subject_pronouns", "pronoun", "reflexive").values())
REFLEXIVE_PRONOUNS = _REFLEXIVES | {ELISIONS[word] for word in _REFLEXIVES if word in ELISIONS}
# "ce", "celui"...: what stands for a noun before a relative pronoun ("ce qui", "celui que").
DEMONSTRATIVE_PRONOUNS = lexicon.words("demonstrative_pronoun")

# --- other closed sets -------------------------------------------------------------------
# A preposition that is also a pronoun ("en") says nothing about the word after it.
PREPOSITIONS = lexicon.words("preposition") - OBJECT_CLITICS
NE = frozenset({"ne", "n'"})
NEGATION_AND_CLITICS = OBJECT_CLITICS | NE
# The word after the verb that completes "ne" ("je ne sais pas").
NEGATION_ENDS = frozenset({"pas", "plus", "jamais"})
TIME_NOUNS = lexicon.words("time_noun")
# Verbs that only ever take "être" (the transitive ones, like "sortir", are left out).
ETRE_VERBS = lexicon.words("etre_verb")
# DELA tense letters of finite forms (lexicon/dela.py), the imperative (Y) included.
FINITE_TENSES = frozenset("PIJFCSTY")

Rule = Callable[["Doc"], Iterator[GrammarError]]


def is_clause_start(token: Token) -> bool:
    """Nothing before `token` in its clause (start, punctuation or a linking word)."""
    before = previous_token(token)
    return before is None or before.is_punct or lower(before) in CLAUSE_LINKS


def grammar_error(first: Token, last: Token, category: str, message_key: str,
                  suggestions: Iterable[str], **message_params: str) -> GrammarError:
    """An error from `first` to `last`; its message is `messages.MESSAGES[message_key]`
    with the quoted words in `message_params`."""
    unique = list(dict.fromkeys(s for s in suggestions if s))
    return GrammarError(first.idx, last.idx + len(last.text), category,
                        messages.render(message_key, message_params), unique,
                        message_key, tuple(message_params.items()))


def span_text(first: Token, last: Token) -> str:
    return first.doc.text[first.idx: last.idx + len(last.text)]


def skip_clitics(token: Token, limit: int = 4) -> Token | None:
    """The first token after `token` that is not "ne" or an object pronoun."""
    current = next_token(token)
    while current is not None and limit and lower(current) in NEGATION_AND_CLITICS:
        current = next_token(current)
        limit -= 1
    return current


def after_subject(pronoun: Token) -> bool:
    """An object pronoun in its place: right after a subject pronoun or "ne"."""
    before = previous_token(pronoun)
    return before is not None and (lower(before) in SUBJECT_PRONOUNS or lower(before) in NE)


def may_be_subject(pronoun: Token) -> bool:
    """A subject pronoun that can be the subject here: "nous", "vous", "elle" and "elles"
    only at the start of their clause (after it they are objects or stressed)."""
    word = lower(pronoun)
    return word in SUBJECT_PRONOUNS and (word not in _ALSO_OBJECTS or is_clause_start(pronoun))


def has_ne_before(verb: Token, *, across_clitics: bool = True) -> bool:
    """ "ne" before `verb`, across its object pronouns ("je ne le vois"); with
    `across_clitics` False, only right before it."""
    ne = previous_token(verb)
    while across_clitics and ne is not None and lower(ne) in OBJECT_CLITICS:
        ne = previous_token(ne)
    return ne is not None and lower(ne) in NE


def is_negated(verb: Token, *, across_clitics: bool = True) -> bool:
    """ "ne" before `verb` (`has_ne_before`) or pas/plus/jamais right after it."""
    after = next_token(verb)
    return has_ne_before(verb, across_clitics=across_clitics) or (after is not None and lower(after) in NEGATION_ENDS)


def object_after(token: Token) -> bool:
    """A determiner and a noun right after `token`, not a time ("la semaine dernière"):
    its direct object."""
    determiner, noun = next_token(token), next_token(token, 2)
    return determiner is not None and noun is not None and determiner.pos_ == "DET" and lower(noun) not in TIME_NOUNS


def is_infinitive(token: Token, *, every_verb_reading: bool = False) -> bool:
    """The lexicon reads `token` as an infinitive, and so does spaCy unless the lexicon
    knows the word only as a verb. With `every_verb_reading`, instead: the lexicon knows
    the word as a verb, and only as an infinitive ("lever" yes, "sortie" no), whatever
    else it may be and whatever spaCy says."""
    readings = dela.analyses(lower(token))
    if every_verb_reading:
        verbs = [a for a in readings if a.pos == "V"]
        return bool(verbs) and all("W" in a.features for a in verbs)
    if not any(a.pos == "V" and "W" in a.features for a in readings):
        return False
    return token.pos_ in ("VERB", "AUX") or all(a.pos == "V" for a in readings)


def verb_lemmas(token: Token) -> set[str]:
    """The infinitives `token` may be a form of: its readings as a conjugated verb, and spaCy's lemma."""
    return {r.infinitive for r in verb_readings(lower(token))} | {token.lemma_.lower()}


def looks_like_infinitive(token: Token) -> bool:
    """An infinitive by its ending, when it is not a noun and spaCy or the verb paradigms
    take it for a verb (no DELA lookup: `is_infinitive` asks the lexicon)."""
    word = lower(token)
    if word in noun_forms():
        return False
    return word.endswith(("er", "ir", "re", "oir")) and (
        token.pos_ in ("VERB", "AUX") or paradigm(word) is not None)
