"""Rules: "être" or "avoir" as the auxiliary, and a participle or an infinitive after a verb."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import noun_forms
from domain.language.inflection.verbs import (
    PERSONS, SUBJECT_PERSON, AVOIR_TO_ETRE, ETRE_PRESENT, MODAL_FORMS, irregular_lemmas, participle_forms,
    paradigm, participle_infinitives, past_participle)
from domain.language.lexicon import is_word
from domain.language.result import GrammarError
from domain.language.rules.common import (
    ETRE_VERBS, NEGATION_AND_CLITICS, REFLEXIVE_PRONOUNS, SUBJECT_PRONOUNS, grammar_error, may_be_subject,
    object_after)
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_ADVERBS_IN_COMPOUND_TENSES = lexicon.words("compound_tense_adverb")
_DUAL_AUXILIARY_VERBS = lexicon.words("dual_auxiliary_verb")
_NAMING_VERBS = lexicon.words("naming_verb")
ETRE_TO_AVOIR = {etre: avoir for avoir, etre in AVOIR_TO_ETRE.items()}


def is_avoir_auxiliary(token: Token) -> bool:
    """A form of "avoir" after its subject (so not "a" written for "à")."""
    if lower(token) not in AVOIR_TO_ETRE:
        return False
    before = previous_token(token)
    if before is None:
        return False
    word = lower(before)
    if word == "y":
        return False  # "il y a"
    return word in SUBJECT_PRONOUNS or word in NEGATION_AND_CLITICS or (
        before.pos_ in ("NOUN", "PROPN") and lower(token) in ("a", "ont", "avait"))


def _participle_after(token: Token) -> Token | None:
    current = next_token(token)
    while current is not None and lower(current) in _ADVERBS_IN_COMPOUND_TENSES:
        current = next_token(current)
    return current


def rule_auxiliary(doc: Doc) -> Iterator[GrammarError]:
    """ "Nous avons arrivés" -> "sommes"; "Je m'ai couché" -> "me suis"."""
    for token in doc:
        if not is_avoir_auxiliary(token):
            continue
        reflexive = _reflexive_with_avoir(token)
        if reflexive:
            yield reflexive
            continue
        participle = _participle_after(token)
        if participle is None:
            continue
        verbs = _participle_verbs(participle)
        if verbs & ETRE_VERBS or (verbs & _DUAL_AUXILIARY_VERBS and not _has_direct_object(participle)):
            yield _auxiliary_error(token)


def _participle_verbs(participle: Token) -> set[str]:
    """The verbs `participle` is a past participle of (by spaCy's lemma or the lexicon)."""
    verbs = set(participle_infinitives(lower(participle)))
    lemma = participle.lemma_.lower()
    participle_of_lemma = past_participle(lemma)
    if participle_of_lemma and lower(participle) in participle_forms(participle_of_lemma):
        verbs.add(lemma)
    return verbs


def _has_direct_object(participle: Token) -> bool:
    """A noun phrase or a name right after the participle ("sorti le chien", "passé une
    semaine")."""
    after = next_token(participle)
    return after is not None and after.pos_ in ("DET", "NOUN", "PROPN", "NUM")


def rule_avoir_with_object(doc: Doc) -> Iterator[GrammarError]:
    """ "il est reçu mon message" -> "il a reçu": a participle with "être" is a passive or
    a verb of motion, neither of which has a direct object after it.
    Conditions: a subject pronoun or noun, a present or imperfect form of "être", the
    participle of a verb that takes "avoir" (not a pronominal verb, not a verb that names:
    "il est appelé le roi"), then a determiner and a noun that is not a time."""
    for etre in doc:
        avoir = ETRE_TO_AVOIR.get(lower(etre))
        participle = next_token(etre)
        subject = previous_token(etre)
        if avoir is None or participle is None or subject is None:
            continue
        if lower(subject) in REFLEXIVE_PRONOUNS and not may_be_subject(subject):
            continue  # "nous nous sommes": a pronominal verb
        if not (lower(subject) in SUBJECT_PRONOUNS or subject.pos_ in ("NOUN", "PROPN")):
            continue
        verbs = _participle_verbs(participle)
        # (monter, sortir, passer... take "avoir" too when they have an object: "j'ai monté les valises")
        if not verbs or verbs & (ETRE_VERBS - _DUAL_AUXILIARY_VERBS | _NAMING_VERBS):
            continue
        if not object_after(participle):
            continue
        if lower(subject) == "je" and starts_with_vowel_sound(avoir):  # "je suis" -> "j'ai"
            fixed = match_case(subject.text, "j'") + avoir
            yield grammar_error(subject, etre, "auxiliary", "verb_takes_avoir", [fixed], fixed=fixed)
        else:
            fixed = match_case(etre.text, avoir)
            yield grammar_error(etre, etre, "auxiliary", "verb_takes_avoir", [fixed], fixed=fixed)


def _reflexive_with_avoir(aux: Token) -> GrammarError | None:
    """ "je m'ai couché" -> "me suis", "ils s'ont mariés" -> "se sont"."""
    pronoun = previous_token(aux)
    word = lower(pronoun)
    first_person = word in ("m'", "me") and lower(aux) == "ai"
    if not first_person and word not in ("s'", "se"):
        return None
    subject = previous_token(pronoun)
    person = SUBJECT_PERSON.get(lower(subject)) if subject is not None else None
    etre = ETRE_PRESENT[PERSONS.index(person)] if person else AVOIR_TO_ETRE[lower(aux)]
    reflexive = word[0] + ("'" if starts_with_vowel_sound(etre) else "e ")
    fixed = match_case(pronoun.text, reflexive) + etre
    return grammar_error(pronoun, aux, "auxiliary",
                         "reflexive_takes_etre", [fixed])


def _auxiliary_error(aux: Token) -> GrammarError:
    etre = AVOIR_TO_ETRE[lower(aux)]
    before = previous_token(aux)
    if lower(before) == "j'":  # "j'ai" -> "je suis"
        fixed = match_case(before.text, "je") + " " + etre
        return grammar_error(before, aux, "auxiliary", "verb_takes_etre", [fixed], fixed="je suis")
    return grammar_error(aux, aux, "auxiliary", "verb_takes_etre", [match_case(aux.text, etre)], fixed=etre)


def rule_participle_or_infinitive(doc: Doc) -> Iterator[GrammarError]:
    """ "j'ai visiter" -> "visité"; "je vais préparé" -> "préparer"."""
    for token in doc:
        target = _participle_after(token)
        if target is None or not target.text.isalpha() or lower(target) in noun_forms():
            continue
        word = lower(target)
        if is_avoir_auxiliary(token) and word.endswith("er") and _is_er_verb(word):
            fixed = match_case(target.text, word[:-2] + "é")
            yield grammar_error(target, target, "past_participle",
                                "participle_after_auxiliary", [fixed],
                                auxiliary=token.text, fixed=fixed)
        elif lower(token) in MODAL_FORMS and word.endswith("é") and \
                word != "été" and _is_er_verb(word[:-1] + "er"):
            fixed = match_case(target.text, word[:-1] + "er")
            yield grammar_error(target, target, "past_participle",
                                "infinitive_after_verb", [fixed],
                                verb=token.text, fixed=fixed)


def _is_er_verb(infinitive: str) -> bool:
    return infinitive.endswith("er") and infinitive != "aller" and is_word(infinitive) \
        and paradigm(infinitive) is not None


@functools.cache
def _regularized_participles() -> dict[str, str]:
    """Participles a learner builds by analogy ("prendu", "metté") -> the real one."""
    wrong: dict[str, str] = {}
    for infinitive, forms in irregular_lemmas().items():
        real = past_participle(infinitive)
        stems = {infinitive[:-2] if infinitive.endswith(("re", "ir")) else infinitive[:-3],
                 forms["present"][3][:-3], forms["present"][0].rstrip("sx")}
        for stem in stems - {"-", ""}:
            for ending in ("é", "i", "u"):
                guess = stem + ending
                if guess != real and len(guess) > 3:
                    wrong.setdefault(guess, real)
    return wrong


def rule_regularized_participle(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        word = lower(token)
        real = _regularized_participles().get(word)
        if real and not is_word(word):
            fixed = match_case(token.text, real)
            yield grammar_error(token, token, "past_participle",
                                "irregular_participle", [fixed], fixed=fixed)
