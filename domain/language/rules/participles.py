"""Rules: the form of a past participle that does not agree.

Grammar: with "avoir" the participle agrees only with a direct object placed before it
(rules/preceding_object.py); with nothing before it, it stays masculine singular, whatever
the subject ("elle a mangé"). A pronominal verb whose direct object follows it ("elle
s'est lavé les mains") does not agree either: "se" is then the indirect object. After
"avoir" a participle, not an infinitive, makes the compound tense ("j'ai pris").
The participle's readings and forms come from the DELA lexicon.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language.inflection.verbs import ETRE_FORMS, ETRE_PRESENT, past_participle
from domain.language.lexicon import dela
from domain.language.result import GrammarError
from domain.language.rules.auxiliary import is_avoir_auxiliary
from domain.language.rules.common import (
    ETRE_VERBS, FINITE_TENSES, NEGATION_AND_CLITICS, REFLEXIVE_PRONOUNS, SUBJECT_PRONOUNS, grammar_error, object_after)
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


# A subject before a present of "être": not the elided "j'", which only a misspelt "j'est" puts there.
_ETRE_SUBJECTS = SUBJECT_PRONOUNS - {"j'"}


def _agreed_readings(word: str) -> list[tuple[str, str]]:
    """(infinitive, feature) of `word` read as a feminine or plural participle."""
    return [(a.lemma, f) for a in dela.analyses(word) if a.pos == "V"
            for f in a.features if f in ("Kfs", "Kmp", "Kfp")]


def _masculine_singular(token: Token) -> str | None:
    """The masculine singular of an agreed participle, when the word is nothing else
    (not also the masculine singular of another verb, nor a noun or adverb here: "une
    prise", "plus"), and its verb takes "avoir" (with "être" the auxiliary is the error)."""
    word = lower(token)
    readings = _agreed_readings(word)
    analyses = dela.analyses(word)
    if not readings or any("Kms" in a.features for a in analyses if a.pos == "V"):
        return None
    if token.pos_ != "VERB" and any(a.pos not in ("V", "A") for a in analyses):
        return None  # read as a noun or an adverb here
    if any(infinitive in ETRE_VERBS for infinitive, _ in readings):
        return None
    fixed = {dela.inflect(infinitive, "V", "Kms") for infinitive, _ in readings} - {None}
    return match_case(token.text, fixed.pop()) if len(fixed) == 1 else None


def rule_participle_with_avoir(doc: Doc) -> Iterator[GrammarError]:
    """ "elle a mangée une pomme" -> "mangé".
    Conditions: a subject (pronoun or noun) right before a form of "avoir", the participle
    right after it in a feminine or plural form; no object pronoun before "avoir" and no
    "que" opening the clause (then an object comes first and agreement may be right)."""
    if not dela.available():
        return
    for aux in doc:
        participle = next_token(aux)
        if participle is None or not is_avoir_auxiliary(aux):
            continue
        subject = previous_token(aux)
        if lower(subject) in NEGATION_AND_CLITICS or _in_relative_clause(subject):
            continue
        fixed = _masculine_singular(participle)
        if fixed:
            yield grammar_error(participle, participle, "past_participle",
                                "participle_with_avoir", [fixed], fixed=fixed)


def _in_relative_clause(subject: Token) -> bool:
    """A relative pronoun within the four words before the subject: its antecedent may
    be the object ("qui" too, which learners write for "que")."""
    return any(lower(t) in ("que", "qu'", "qui") for t in subject.doc[max(0, subject.i - 4): subject.i])


def rule_pronominal_with_object(doc: Doc) -> Iterator[GrammarError]:
    """ "elle s'est lavée les mains" -> "lavé".
    Conditions: a reflexive pronoun, a form of "être", an agreed participle, then a
    determiner and a noun that is not a time ("la veille")."""
    if not dela.available():
        return
    for reflexive in doc:
        etre, participle = next_token(reflexive), next_token(reflexive, 2)
        if lower(reflexive) not in REFLEXIVE_PRONOUNS or participle is None or lower(etre) not in ETRE_FORMS:
            continue
        if not object_after(participle):
            continue
        fixed = _masculine_singular(participle)
        if fixed:
            yield grammar_error(participle, participle, "past_participle",
                                "pronominal_with_object", [fixed], fixed=fixed)


def rule_infinitive_after_avoir(doc: Doc) -> Iterator[GrammarError]:
    """ "j'ai prendre le train" -> "pris", "j'ai mangez" -> "mangé", "je suis aller" ->
    "allé": a compound tense is an auxiliary and a participle, not an infinitive or a
    conjugated form.
    Conditions: a form of "avoir" after its subject (or a form of "être" after a subject
    pronoun, for the verbs that take "être"), then a word that the lexicon knows only as
    an infinitive or only as finite forms of one verb, never as a participle (the -er
    infinitive after "avoir" is rules/auxiliary.py's)."""
    if not dela.available():
        return
    for aux in doc:
        word = next_token(aux)
        if word is None or not word.is_alpha:
            continue
        with_avoir = is_avoir_auxiliary(aux)
        with_etre = lower(aux) in ETRE_PRESENT and lower(previous_token(aux) or aux) in _ETRE_SUBJECTS
        if not (with_avoir or with_etre):
            continue
        verbs = [a for a in dela.analyses(lower(word)) if a.pos == "V"]
        if not verbs or len({a.lemma for a in verbs}) != 1:
            continue
        if word.pos_ != "VERB" and any(a.pos != "V" for a in dela.analyses(lower(word))):
            continue  # also a noun, and read as one here ("un aller")
        features = [f for a in verbs for f in a.features]
        infinitive_only = all(f == "W" for f in features)
        finite_only = all(f[:1] in FINITE_TENSES for f in features)
        lemma = verbs[0].lemma
        if not (infinitive_only or finite_only) or (with_avoir and infinitive_only and lemma.endswith("er")):
            continue
        if finite_only and (lemma in ("être", "avoir") or _in_relative_clause(previous_token(aux))
                            or any(a.pos != "V" for a in dela.analyses(lower(word)))):
            continue  # "ce qu'il a est à toi", "nous avons cours": not a compound tense
        if with_etre and (lemma not in ETRE_VERBS or not infinitive_only):
            continue
        participle = past_participle(lemma) or dela.inflect(lemma, "V", "Kms")
        if not participle:
            continue
        if with_etre:
            participle += {"elle": "e", "elles": "es", "ils": "s", "nous": "s", "vous": "s"}.get(
                lower(previous_token(aux)), "")
        fixed = match_case(word.text, participle)
        yield grammar_error(word, word, "past_participle",
                            "participle_after_auxiliary", [fixed], auxiliary=aux.text, fixed=fixed)
