"""Rule: the preposition a verb governs ("décider de partir", "commencer à lire",
"participer à un projet"), from `lexicon/verb_prepositions.tsv`, the verb's lemma from
the DELA lexicon (`domain.language.lexicon.dela`) or spaCy."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.lexicon import dela
from domain.language.result import GrammarError
from domain.language.rules.common import OBJECT_CLITICS, grammar_error, is_infinitive
from domain.language.tokens import lower, match_case, next_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


# The prepositions a learner puts in place of the governed one.
_WRONG = {"à": frozenset({"de", "d'", "pour"}), "de": frozenset({"à", "pour"})}
_WRONG_BEFORE_NOUN = {"à": frozenset({"de", "pour", "dans", "contre", "sur"}),
                      "de": frozenset({"à", "pour", "sur"})}


# Object pronouns read past, to the infinitive after them ("décider de le faire"); not
# "nous"/"vous", which are read as the complement itself.
_CLITICS_BEFORE_INFINITIVE = OBJECT_CLITICS - {"nous", "vous"}
_CONTRACTED = {("à", "le"): "au", ("à", "les"): "aux", ("de", "le"): "du", ("de", "les"): "des"}


@functools.cache
def _government() -> dict[str, tuple[str, str]]:
    return {row["head"]: (row["preposition"], row["complement"]) for row in lexicon.table("verb_prepositions")}


def _heads(token: Token) -> set[str]:
    word = lower(token)
    heads = {a.lemma for a in dela.analyses(word) if a.pos in ("V", "N")} | {token.lemma_.lower(), word}
    return heads & set(_government())


def rule_governed_preposition(doc: Doc) -> Iterator[GrammarError]:
    """Fires on a verb (any form) or a noun listed in verb_prepositions.tsv directly followed
    by a preposition that is not the one it governs: for an `infinitive` row only when an
    infinitive comes next (optionally after an object pronoun), for an `any` row also
    before a noun phrase. The wrong prepositions considered are the ones learners
    substitute (à/de/pour, and dans/contre/sur before a noun); "avec" never, since "avec"
    may open an adverbial ("participer avec enthousiasme"). Suggests the governed one,
    elided before a vowel ("d'aller") and contracted with "le"/"les" ("au", "du")."""
    for token in doc:
        prep = next_token(token)
        if prep is None or token.pos_ not in ("VERB", "NOUN", "AUX", "ADJ"):
            continue
        heads = _heads(token)
        if not heads:
            continue
        head = sorted(heads)[0]
        governed, complement = _government()[head]
        word = lower(prep)
        after = next_token(prep)
        if after is None:
            continue
        target = after
        if lower(target) in _CLITICS_BEFORE_INFINITIVE:
            target = next_token(target) or target
        before_infinitive = is_infinitive(target)
        if before_infinitive and word in _WRONG[governed]:
            pass
        elif complement == "any" and not before_infinitive and word in _WRONG_BEFORE_NOUN[governed] \
                and after.pos_ in ("DET", "NOUN", "PROPN", "PRON"):
            pass
        else:
            continue
        contracted = _CONTRACTED.get((governed, lower(after)))
        if contracted:  # "participer dans le" -> "au"
            yield grammar_error(prep, after, "preposition", "governed_preposition",
                                [match_case(prep.text, contracted)], head=head, fixed=governed)
            continue
        fixed = "d'" if governed == "de" and starts_with_vowel_sound(after.text) else governed
        if word == "d'" or fixed == "d'":
            suggestion = match_case(prep.text, fixed) + ("" if fixed.endswith("'") else " ") + after.text
            yield grammar_error(prep, after, "preposition", "governed_preposition", [suggestion],
                                head=head, fixed=fixed)
        else:
            yield grammar_error(prep, prep, "preposition", "governed_preposition", [match_case(prep.text, fixed)],
                                head=head, fixed=fixed)
