"""Rule: the past participle with "avoir" agrees with a direct object placed before it.

Grammar: with the auxiliary "avoir" the participle agrees in gender and number with the
direct object when that object comes before the verb: the relative "que" standing for a
noun ("les lettres que j'ai écrites"), or the object pronoun "la" / "les" ("je les ai
vues"). Gender, number and the participle's forms come from the DELA lexicon
(`domain.language.lexicon.dela`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import DETERMINERS
from domain.language.inflection.verbs import AVOIR_FORMS
from domain.language.lexicon import dela
from domain.language.result import GrammarError
from domain.language.rules.common import NE, SUBJECT_PRONOUNS, grammar_error, is_infinitive
from domain.language.rules.pronouns import is_indirect_object
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


# What may stand between "avoir" and the participle: the lexicon's compound-tense adverbs
# less five this rule does not skip (a participle after them is left unchecked), with
# "tous"/"toutes" ("ils les ont toutes lues") and "ne".
_BETWEEN = (lexicon.words("compound_tense_adverb") - {"plus", "beaucoup", "trop", "rien", "aussi"}
            | {"tous", "toutes"} | NE)
# A noun phrase opened by an article or a possessive after the participle is its direct
# object (not "au"/"aux", which hold a preposition, nor "ce matin", a time).
_OBJECT_DETERMINERS = frozenset(word for word, determiner in DETERMINERS.items()
                                if determiner.kind in ("article", "possessive")) - {"au", "aux"} | {"l'"}
# Participles that never agree ("les efforts qu'il a fallu").
_IMPERSONAL_VERBS = lexicon.words("impersonal_verb")


def rule_preceding_object_participle(doc: Doc) -> Iterator[GrammarError]:
    """Fires on `que|qu'` + subject (pronoun or short noun phrase) + [ne] + form of avoir + [adverbs] + participle,
    when the word before `que` is a noun (optionally followed by one adjective) whose gender
    and number the lexicon knows unambiguously, or on subject pronoun + `la|les` + avoir +
    participle; and only when the participle is not already in the expected form, is not
    followed by an infinitive ("la maison qu'il a fait construire") or by an
    article or possessive (then the object is that noun phrase, and "les" was an indirect object), its verb is not
    impersonal, and the lexicon has the agreed form. Suggests the agreed form(s)."""
    if not dela.available():
        return
    for token in doc:
        word = lower(token)
        if word in ("que", "qu'"):
            target = _noun_before(token)
            if target is None:
                continue
            noun, wanted = target
            subject = _subject_end(token)
            if subject is None:
                continue
            error = _check_after(subject, noun, [wanted])
        elif word in ("la", "les"):
            subject = previous_token(token)
            if subject is None or lower(subject) not in SUBJECT_PRONOUNS or is_indirect_object(token):
                continue  # "je les ai téléphoné": "les" (for "leur") is not a direct object
            wanted = ["fs"] if word == "la" else ["mp", "fp"]
            error = _check_after(token, token, wanted)
        else:
            continue
        if error is not None:
            yield error


def _subject_end(que: Token) -> Token | None:
    """The last word of the subject right after `que`: a subject pronoun, or a short noun
    phrase (determiner, optional adjective, noun or name)."""
    first = next_token(que)
    if first is None:
        return None
    if lower(first) in SUBJECT_PRONOUNS:
        return first
    current, words = first, 0
    while current is not None and words < 3 and current.pos_ in ("DET", "ADJ", "NOUN", "PROPN"):
        if current.pos_ in ("NOUN", "PROPN"):
            return current
        current, words = next_token(current), words + 1
    return None


def _noun_before(que: Token) -> tuple[Token, str] | None:
    """The noun `que` stands for and its gender+number ("fp"), when unambiguous."""
    candidate = previous_token(que)
    if candidate is not None and candidate.pos_ == "ADJ":
        candidate = previous_token(candidate)
    if candidate is None or candidate.pos_ != "NOUN":
        return None
    cells = {feature[:2] for a in dela.analyses(lower(candidate)) if a.pos == "N"
             for feature in a.features if len(feature) == 2 and feature[0] in "mf" and feature[1] in "sp"}
    return (candidate, cells.pop()) if len(cells) == 1 else None


def _check_after(before_aux: Token, antecedent: Token, wanted: list[str]) -> GrammarError | None:
    current = next_token(before_aux)
    if current is not None and lower(current) in NE:
        current = next_token(current)
    if current is None or lower(current) not in AVOIR_FORMS:
        return None
    participle = next_token(current)
    while participle is not None and lower(participle) in _BETWEEN:
        participle = next_token(participle)
    if participle is None:
        return None
    after = next_token(participle)
    if after is not None and after.pos_ in ("VERB", "AUX") and is_infinitive(after):
        return None
    if after is not None and lower(after) in _OBJECT_DETERMINERS:
        return None  # another direct object follows: "je les ai écrit une lettre" (les = leur)
    readings = [a for a in dela.analyses(lower(participle)) if a.pos == "V"
                and any(f.startswith("K") for f in a.features)]
    if not readings or any(a.lemma in _IMPERSONAL_VERBS for a in readings):
        return None
    if any("K" + cell in a.features for a in readings for cell in wanted):
        return None
    lemma = readings[0].lemma
    fixes = [dela.inflect(lemma, "V", "K" + cell) for cell in wanted]
    fixes = [match_case(participle.text, fix) for fix in fixes if fix and fix != lower(participle)]
    if not fixes:
        return None
    return grammar_error(participle, participle, "past_participle", "participle_preceding_object", fixes,
                         object=antecedent.text, fixed=fixes[0])
