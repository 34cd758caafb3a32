"""Rules: agreement inside the noun phrase, and of a predicate or participle after "être"."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.adjectives import Adjective, as_adjective
from domain.language.inflection.nouns import (
    NounInfo, DETERMINERS, OTHER_GENDER, PLURAL_DETERMINER, noun_forms, pluralize)
from domain.language.inflection.verbs import (
    AVOIR_FORMS, ETRE_FORMS, is_participle, participle_by_cell, participle_infinitives, is_finite_verb,
    past_participle)
from domain.language.lexicon import is_word
from domain.language.result import GrammarError
from domain.language.rules.common import (
    NE, OBJECT_CLITICS, REFLEXIVE_PRONOUNS, grammar_error, may_be_subject)
from domain.language.rules.noun_phrases import (
    NounPhrase, clause_initial_phrase_ending_at, noun_phrases, phrase_gender, phrase_number)
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_PREDICATE_ADVERBS = lexicon.words("predicate_adverb")
_ADVERBS_AFTER_ETRE = lexicon.words("adverb_after_etre")
# Subject pronoun -> (gender, number) a predicate agrees with (None: either).
_PRONOUN_AGREEMENT = {pronoun: tuple(None if cell == "-" else cell for cell in agreement)
                      for pronoun, agreement in lexicon.column("subject_pronouns", "pronoun", "agreement").items()}
# Pronominal verbs whose "se" is indirect ("ils se sont parlé": to each other), so that
# their participle agrees with nothing.
_INDIRECT_REFLEXIVE_VERBS = lexicon.words("indirect_only_verb") | lexicon.words("indirect_reflexive_verb")


def rule_noun_phrase_agreement(doc: Doc) -> Iterator[GrammarError]:
    """Determiner, adjectives and noun agree in gender and number."""
    for phrase in noun_phrases(doc):
        number_error = _number_error(phrase)
        if number_error:
            yield number_error
        else:
            yield from _gender_error(phrase)
        yield from _adjective_errors(phrase)


def _number_error(phrase: NounPhrase) -> GrammarError | None:
    det_number, noun_number = phrase_number(phrase), phrase.info.number
    if not det_number or not noun_number or det_number == noun_number:
        return None
    det, noun = phrase.determiner, phrase.noun
    if det_number == "p":
        plural = _plural_noun(phrase.info, lower(noun))
        if plural is None:
            return None
        fixed = match_case(noun.text, plural)
        return grammar_error(noun, noun, "number_agreement",
                             "plural_noun", [fixed],
                             determiner=det.text, fixed=fixed)
    plural_det = PLURAL_DETERMINER.get(lower(det))
    if plural_det is None:
        return None
    fixed = match_case(det.text, plural_det)
    return grammar_error(det, det, "number_agreement",
                         "plural_determiner", [fixed],
                         noun=noun.text, fixed=fixed)


def _plural_noun(info: NounInfo, word: str) -> str | None:
    plural = pluralize(info.singular if info.singular else word)
    return plural if plural != word and (is_word(plural) or plural in noun_forms()) else None


def _gender_error(phrase: NounPhrase) -> Iterator[GrammarError]:
    det = phrase.determiner
    word = lower(det)
    determiner = DETERMINERS.get(word)
    gender = phrase.info.gender
    if determiner is None or determiner.gender is None or gender is None:
        return
    if determiner.gender == gender or word not in OTHER_GENDER:
        return
    first_after = phrase.adjectives[0] if phrase.adjectives else phrase.noun
    vowel = starts_with_vowel_sound(first_after.text)
    if word in ("le", "la") and vowel:
        return  # "le/la" before a vowel is an elision problem, not a gender one
    if word in ("mon", "ton", "son") and vowel:
        return  # "mon amie" is correct
    fixed = match_case(det.text, OTHER_GENDER[word][1 if vowel else 0])
    message = "noun_masculine" if gender == "m" else "noun_feminine"
    yield grammar_error(det, det, "gender_agreement", message, [fixed], noun=phrase.noun.text, fixed=fixed)


def _adjective_errors(phrase: NounPhrase) -> Iterator[GrammarError]:
    gender, number = phrase_gender(phrase), phrase_number(phrase)
    adjectives = list(phrase.adjectives)
    after = _postnominal_adjective(phrase.noun)
    if after is not None:
        adjectives.append(after)
    for token in adjectives:
        error = _adjective_agreement_error(token, phrase.noun, gender, number)
        if error:
            yield error


def _postnominal_adjective(noun: Token) -> Token | None:
    """The adjective right after the noun, when it belongs to that noun."""
    token = next_token(noun)
    if token is None or not token.text.isalpha() or token.text[:1].isupper():
        return None
    related = token.head.i == noun.i or noun.head.i == token.i
    if not related or is_finite_verb(lower(token)):
        return None
    if lower(token) in noun_forms():
        return None
    after = next_token(token)
    if after is not None and lower(after) in ("et", "ou", ","):
        return None  # "une robe et une veste blanches": agreement with several nouns
    return token


def _adjective_agreement_error(token: Token, noun: Token, gender: str | None,
                               number: str | None) -> GrammarError | None:
    adjective = as_adjective(token)
    if adjective is None or number is None:
        return None
    word = lower(token)
    cells = adjective.cells_of(word)
    wanted = {g + number for g in ((gender,) if gender else ("m", "f"))}
    if cells & wanted:
        return None
    cells_in_order = [g + number for g in ("m", "f") if g + number in wanted]
    fixes = [_adjective_form(adjective, cell, token, noun) for cell in cells_in_order]
    fixes = [match_case(token.text, f) for f in fixes if f and f != word]
    if not fixes or not all(is_word(f.lower()) for f in fixes):
        return None
    category = "number_agreement" if any(c[0] == w[0] for c in cells for w in wanted) \
        else "gender_agreement"
    return grammar_error(token, token, category,
                         "adjective_agreement", fixes,
                         adjective=token.text, noun=noun.text, fixed=fixes[0])


def _adjective_form(adjective: Adjective, cell: str, token: Token, noun: Token) -> str:
    """Best spelling for `cell`; "bel", "nouvel", "vieil" right before a vowel."""
    spellings = adjective.forms[cell]
    if len(spellings) > 1 and token.i == noun.i - 1 and starts_with_vowel_sound(noun.text):
        return spellings[1]
    return spellings[0]


def rule_predicate_agreement(doc: Doc) -> Iterator[GrammarError]:
    """ "Ma voiture est vieux" -> "vieille"; "Elle est tombé" -> "tombée"; "elle s'est
    levé" -> "levée"; "la maison a été construit" -> "construite".
    A pronominal verb's participle agrees with the subject too, unless its "se" is
    indirect ("ils se sont parlé") or an object follows ("elle s'est lavé les mains")."""
    for verb in doc:
        word = lower(verb)
        before = previous_token(verb)
        if word == "été" and before is not None and lower(before) in AVOIR_FORMS:
            subject = _subject_before(before)  # the passive: "a été construite"
        elif word in ETRE_FORMS:
            subject = _subject_before(verb)
        else:
            continue
        if subject is None:
            continue
        gender, number, subject_token = subject
        predicate = _predicate_after(verb)
        if predicate is None or number is None:
            continue
        if lower(before) in REFLEXIVE_PRONOUNS and not _agrees_as_pronominal(predicate):
            continue
        error = _participle_agreement_error(predicate, subject_token, gender, number) \
            if is_participle(predicate) else \
            _predicative_adjective_error(predicate, subject_token, gender, number)
        if error:
            yield error


def _subject_before(verb: Token, reflexive: bool = False) -> tuple[str | None, str | None, Token] | None:
    """Gender and number of the subject written just before a form of "être" (or before
    its reflexive pronoun, when `reflexive`)."""
    token = previous_token(verb)
    if token is not None and lower(token) in NE:
        token = previous_token(token)
    if token is None:
        return None
    word = lower(token)
    if word in REFLEXIVE_PRONOUNS and not reflexive and not may_be_subject(token):
        return _subject_before(token, reflexive=True)  # "elle s'est levée": the subject is before "se"
    if word in _PRONOUN_AGREEMENT:
        if not may_be_subject(token):
            return None
        gender, number = _PRONOUN_AGREEMENT[word]
        return gender, number, token
    if word in OBJECT_CLITICS:
        return None  # "elle l'est"
    phrase = clause_initial_phrase_ending_at(token)
    if phrase is None:
        return None
    return phrase_gender(phrase), phrase_number(phrase), phrase.noun


def _agrees_as_pronominal(participle: Token) -> bool:
    """A pronominal verb's participle agrees with its subject: not when its "se" is
    indirect, nor when a determiner or noun follows it (its object, "s'est lavé les mains";
    "se sont rendu compte")."""
    infinitives = participle_infinitives(lower(participle)) | {participle.lemma_.lower()}
    if not is_participle(participle) or infinitives & _INDIRECT_REFLEXIVE_VERBS:
        return False
    after = next_token(participle)
    return after is None or after.pos_ not in ("DET", "NOUN", "PROPN", "NUM")


def _predicate_after(verb: Token) -> Token | None:
    token = next_token(verb)
    while token is not None and lower(token) in _PREDICATE_ADVERBS:
        token = next_token(token)
    if token is None or not token.text.isalpha() or token.text[:1].isupper():
        return None
    return token


def _participle_agreement_error(token: Token, subject: Token, gender: str | None,
                                number: str) -> GrammarError | None:
    by_cell = participle_by_cell(past_participle(token.lemma_.lower()))
    genders = (gender,) if gender else ("m", "f")
    wanted = [g + number for g in genders]
    if lower(token) in {by_cell[c] for c in wanted}:  # "pris" is both "ms" and "mp"
        return None
    fixes = [match_case(token.text, by_cell[c]) for c in wanted]
    return grammar_error(token, token, "past_participle",
                         "participle_agreement", fixes,
                         subject=subject.text, fixed=fixes[0])


def _predicative_adjective_error(token: Token, subject: Token, gender: str | None,
                                 number: str) -> GrammarError | None:
    word = lower(token)
    if word in noun_forms() or token.pos_ in ("NOUN", "PROPN", "DET", "ADP", "PRON"):
        return None  # "elle est professeur", "il est à Paris"
    if word in _ADVERBS_AFTER_ETRE:
        return None  # "ils sont ensemble"
    if "Fin" in token.morph.get("VerbForm"):
        return None
    return _adjective_agreement_error(token, subject, gender, number)
