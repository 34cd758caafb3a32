"""Rules: tense and mood (subjunctive after que, si clauses, the polite conditional)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.verbs import PERSONS, SUBJECT_PERSON, VerbReading, best_reading, verb_readings
from domain.language.result import GrammarError
from domain.language.rules.common import grammar_error, skip_clitics
from domain.language.tokens import lower, match_case, next_token, previous_token

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_SUBJUNCTIVE_TRIGGERS = lexicon.words("subjunctive_trigger")  # the word before "que"
_WHETHER_VERBS = lexicon.words("whether_verb")
_INDEFINITE_SUBJECTS = {word: "3s" for word in lexicon.ordered_words("indefinite_subject")}


def rule_subjunctive(doc: Doc) -> Iterator[GrammarError]:
    """ "il faut que tu viens" -> "viennes"."""
    for token in doc:
        if not _is_subjunctive_trigger(token):
            continue
        person, verb = _clause_after(token)
        if verb is None:
            continue
        fix = _mood_fix(verb, person, "present", "subjunctive")
        if fix:
            yield grammar_error(verb, verb, "tense_mood",
                                "subjunctive_after_conjunction", [fix], fixed=fix)


def _is_subjunctive_trigger(token: Token) -> bool:
    if lower(token) not in ("que", "qu'"):
        return False
    before = previous_token(token)
    return before is not None and lower(before) in _SUBJUNCTIVE_TRIGGERS


def _clause_after(conjunction: Token) -> tuple[str | None, Token | None]:
    """The person and the verb of the clause a conjunction opens ("que tu viens": 2s,
    "viens"); no verb when its subject is not one we read."""
    subject = next_token(conjunction)
    person = _clause_subject_person(subject)
    return person, skip_clitics(subject) if person else None


def _clause_subject_person(token: Token | None) -> str | None:
    if token is None:
        return None
    word = lower(token)
    if word in SUBJECT_PERSON:
        return SUBJECT_PERSON[word]
    return _INDEFINITE_SUBJECTS.get(word)


def _mood_fix(verb: Token, person: str, wrong_tense: str, right_tense: str) -> str | None:
    """The `right_tense` form when `verb` is in `wrong_tense` and not also in `right_tense`."""
    wanted = PERSONS.index(person)
    readings = [r for r in verb_readings(lower(verb)) if r.person == wanted]
    if not readings or any(r.tense == right_tense for r in readings):
        return None
    wrong = [r for r in readings if r.tense == wrong_tense]
    if not wrong:
        return None
    reading = best_reading(wrong, verb.lemma_.lower())
    fixed = VerbReading(reading.infinitive, right_tense, wanted).form_for(wanted)
    return match_case(verb.text, fixed) if fixed and fixed != lower(verb) else None


def rule_si_clause(doc: Doc) -> Iterator[GrammarError]:
    """ "Si tu aurais su" -> "avais"; "si tu viendras" -> "viens"."""
    for token in doc:
        if lower(token) not in ("si", "s'") or _follows_whether_verb(token):
            continue
        person, verb = _clause_after(token)
        if verb is None:
            continue
        fix = _mood_fix(verb, person, "conditional", "imperfect") or \
            _mood_fix(verb, person, "future", "present")
        if fix:
            yield grammar_error(verb, verb, "tense_mood",
                                "tense_after_si", [fix], fixed=fix)


def _follows_whether_verb(si: Token) -> bool:
    """ "je ne sais pas si tu viendras": here "si" means "whether"."""
    for token in reversed(si.doc[max(0, si.i - 4): si.i]):
        if token.is_punct:
            return False
        lemmas = {r.infinitive for r in verb_readings(lower(token))} | {token.lemma_.lower()}
        if lemmas & _WHETHER_VERBS:
            return True
    return False


def rule_polite_conditional(doc: Doc) -> Iterator[GrammarError]:
    """ "je voudrai un café" -> "je voudrais" (the polite request is a conditional)."""
    for token in doc[1:]:
        if lower(token) == "voudrai" and lower(previous_token(token)) in ("je", "j'"):
            fixed = match_case(token.text, "voudrais")
            yield grammar_error(token, token, "tense_mood",
                                "polite_conditional", [fixed], fixed=fixed)
