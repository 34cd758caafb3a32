"""Rules: tense and mood (subjunctive after que, si clauses, the polite conditional)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import NUMBER_WORDS
from domain.language.inflection.verbs import (
    PERSONS, SUBJECT_PERSON, VerbReading, best_reading, paradigm, participle_infinitives, past_participle,
    verb_readings)
from domain.language.result import GrammarError
from domain.language.rules.common import (
    ETRE_VERBS, SUBJECT_PRONOUNS, TIME_NOUNS, grammar_error, is_negated, skip_clitics, verb_lemmas)
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_SUBJUNCTIVE_TRIGGERS = lexicon.words("subjunctive_trigger")  # the word before "que"
_WHETHER_VERBS = lexicon.words("whether_verb")
_INDEFINITE_SUBJECTS = {word: "3s" for word in lexicon.ordered_words("indefinite_subject")}
_INDICATIVE_TRIGGERS = lexicon.words("indicative_trigger")
_PAST_MARKERS = lexicon.words("past_time_marker")
_FUTURE_MARKERS = lexicon.words("future_time_marker")
_STATIVE_VERBS = lexicon.words("stative_verb")
_WEEKDAYS = lexicon.words("weekday")
# Verbs whose passé composé with "depuis" should be a present ("j'ai habité ici depuis deux ans").
_DEPUIS_VERBS = lexicon.words("duration_verb") | lexicon.words("depuis_verb")
# "la semaine dernière", "lundi prochain": the adjective says which way the marker points.
_MARKER_ADJECTIVES = {"dernier": "past", "dernière": "past", "passé": "past", "passée": "past",
                      "prochain": "future", "prochaine": "future"}
_AVOIR = paradigm("avoir")
_ETRE = paradigm("être")


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
        to_imperfect = _mood_fix(verb, person, "conditional", "imperfect")
        fix = to_imperfect or _mood_fix(verb, person, "future", "present")
        if fix:
            yield _with_elided_subject(verb, fix, "tense_after_si")
        # Only "si" + imperfect calls for a conditional: "si tu viens, on ira" is right.
        if to_imperfect or any(r.tense == "imperfect" for r in verb_readings(lower(verb))):
            yield from _main_clause_after_si(verb)


def _with_elided_subject(verb: Token, fix: str, message_key: str) -> GrammarError:
    """ "j'aurais" -> "j'avais": an elided subject is part of the word it leans on."""
    subject = previous_token(verb)
    if subject is not None and lower(subject) == "j'" and starts_with_vowel_sound(fix):
        fixed = subject.text + fix
        return grammar_error(subject, verb, "tense_mood", message_key, [fixed], fixed=fixed)
    return grammar_error(verb, verb, "tense_mood", message_key, [fix], fixed=fix)


def _main_clause_after_si(si_verb: Token) -> Iterator[GrammarError]:
    """ "si j'avais le temps, je voyagerai" -> "voyagerais": after "si" + imperfect the
    main clause is in the conditional. Conditions: a comma after the "si" clause, then a
    subject pronoun and a verb in the future (and not also a conditional)."""
    token = next_token(si_verb)
    while token is not None and lower(token) not in (",", ".", "?", "!", ";"):
        token = next_token(token)
    if token is None or lower(token) != ",":
        return
    person, verb = _clause_after(token)
    if verb is None:
        return
    fix = _mood_fix(verb, person, "future", "conditional")
    if fix:
        yield grammar_error(verb, verb, "tense_mood", "conditional_after_si", [fix], fixed=fix)


def _follows_whether_verb(si: Token) -> bool:
    """ "je ne sais pas si tu viendras": here "si" means "whether"."""
    for token in reversed(si.doc[max(0, si.i - 4): si.i]):
        if token.is_punct:
            return False
        if verb_lemmas(token) & _WHETHER_VERBS:
            return True
    return False


def rule_polite_conditional(doc: Doc) -> Iterator[GrammarError]:
    """ "je voudrai un café" -> "je voudrais" (the polite request is a conditional)."""
    for token in doc[1:]:
        if lower(token) == "voudrai" and lower(previous_token(token)) in ("je", "j'"):
            fixed = match_case(token.text, "voudrais")
            yield grammar_error(token, token, "tense_mood",
                                "polite_conditional", [fixed], fixed=fixed)


def rule_indicative_after_opinion(doc: Doc) -> Iterator[GrammarError]:
    """ "je pense qu'il soit malade" -> "est": an affirmed opinion or certainty ("penser",
    "croire", "espérer", "savoir que", "après que") takes the indicative.
    Conditions: the trigger right before "que", not negated ("je ne pense pas qu'il
    soit" is right), a subject and a verb that is a subjunctive and not an indicative."""
    for token in doc:
        if lower(token) not in ("que", "qu'"):
            continue
        trigger = previous_token(token)
        if trigger is None or lower(trigger) not in _INDICATIVE_TRIGGERS or is_negated(trigger, across_clitics=False):
            continue
        person, verb = _clause_after(token)
        if verb is None:
            continue
        fix = _mood_fix(verb, person, "subjunctive", "present")
        if fix:
            yield grammar_error(verb, verb, "tense_mood", "indicative_after_opinion", [fix], fixed=fix)


def rule_tense_of_time_marker(doc: Doc) -> Iterator[GrammarError]:
    """ "hier, je regarde un film" -> "j'ai regardé"; "demain, je suis allé" -> "je vais".
    Conditions: the sentence opens with a time marker (below) and its first clause is a
    subject pronoun and a verb in the present (after a past marker; not a verb of state,
    whose past may be an imperfect) or in the passé composé (after a future one)."""
    opening = _opening_time_marker(doc)
    if opening is None:
        return
    when, last = opening
    token = next_token(last)
    while token is not None and lower(token) not in SUBJECT_PRONOUNS:
        if lower(token) in (".", "?", "!", ";"):
            return
        token = next_token(token)
    verb = next_token(token) if token is not None else None
    if verb is None:
        return
    person = SUBJECT_PERSON.get("je" if lower(token) == "j'" else lower(token))
    if when == "past":
        yield from _present_for_past(token, verb, person)
    else:
        yield from _past_for_future(token, verb, person)


def rule_present_with_depuis(doc: Doc) -> Iterator[GrammarError]:
    """ "j'ai habité ici depuis trois ans" -> "j'habite": what is still going on since a
    moment is in the present. Conditions: "depuis" in the clause of a subject pronoun, the
    present of "avoir" (not negated: "je n'ai pas mangé depuis hier" is right) and the
    participle of a verb of lasting activity or state (the `duration_verb` and `depuis_verb` lists)."""
    for depuis in doc:
        if lower(depuis) != "depuis":
            continue
        for aux in reversed(doc[max(0, depuis.i - 6): depuis.i]):
            if aux.is_punct:
                break
            subject, participle = previous_token(aux), next_token(aux)
            if subject is None or lower(subject) not in SUBJECT_PRONOUNS or lower(aux) not in _AVOIR["present"]:
                continue
            infinitives = participle_infinitives(lower(participle)) & _DEPUIS_VERBS
            if infinitives and not is_negated(aux):
                yield from _in_simple_tenses(subject, aux, participle, min(infinitives), ("present",),
                                             "present_with_depuis")
            break


def _opening_time_marker(doc: Doc) -> tuple[str, Token] | None:
    """"past" or "future", and the marker's last word, when the text opens with one:
    "hier", "demain"...; a time noun or a weekday with "dernier"/"passé" or "prochain"
    ("la semaine dernière", "lundi prochain"); "il y a" and a duration ("il y a deux ans")."""
    if not doc:
        return None
    first = lower(doc[0])
    if first in _PAST_MARKERS or first in _FUTURE_MARKERS:
        return ("past" if first in _PAST_MARKERS else "future"), doc[0]
    words = [lower(t) for t in doc[:5]]
    if words[:3] == ["il", "y", "a"] and len(words) == 5 and (words[3] in NUMBER_WORDS or doc[3].like_num) \
            and words[4] in TIME_NOUNS:
        return "past", doc[4]
    for token in doc[1:4]:
        noun = lower(previous_token(token))
        if noun in TIME_NOUNS or noun in _WEEKDAYS:
            when = _MARKER_ADJECTIVES.get(lower(token))
            if when:
                return when, token
    return None


def _present_for_past(subject: Token, verb: Token, person: str) -> Iterator[GrammarError]:
    wanted = PERSONS.index(person)
    readings = [r for r in verb_readings(lower(verb)) if r.person == wanted]
    if not any(r.tense == "present" for r in readings) or \
            any(r.tense not in ("present", "subjunctive") for r in readings):
        return
    infinitive = best_reading(readings, verb.lemma_.lower()).infinitive
    participle = past_participle(infinitive)
    if infinitive in _STATIVE_VERBS or participle is None:
        return
    if infinitive in ETRE_VERBS:
        agreement = {"elle": "e", "elles": "es"}.get(lower(subject), "s" if person.endswith("p") else "")
        auxiliary, participle = _ETRE["present"][wanted], participle + agreement
    else:
        auxiliary = _AVOIR["present"][wanted]
    subject_word = "j'" if person == "1s" and starts_with_vowel_sound(auxiliary) else lower(subject)
    fixed = match_case(subject.text, subject_word) + ("" if subject_word.endswith("'") else " ") + \
        f"{auxiliary} {participle}"
    yield grammar_error(subject, verb, "tense_mood", "past_after_marker", [fixed], fixed=fixed)


def _past_for_future(subject: Token, auxiliary: Token, person: str) -> Iterator[GrammarError]:
    wanted = PERSONS.index(person)
    participle = next_token(auxiliary)
    if participle is None or lower(auxiliary) not in (_AVOIR["present"][wanted], _ETRE["present"][wanted]):
        return
    infinitive = next((i for i in sorted(participle_infinitives(lower(participle))) if paradigm(i)), None)
    if infinitive is not None:
        yield from _in_simple_tenses(subject, auxiliary, participle, infinitive, ("present", "future"),
                                     "present_after_future_marker")


def _in_simple_tenses(subject: Token, auxiliary: Token, participle: Token, infinitive: str,
                      tenses: tuple[str, ...], message_key: str) -> Iterator[GrammarError]:
    """A compound tense ("j'ai fini") rewritten in these simple tenses of `infinitive`
    ("je finis", "je finirai"), from the auxiliary (or the elided subject) to the participle."""
    wanted = PERSONS.index(SUBJECT_PERSON[lower(subject)])
    forms = [form for form in (paradigm(infinitive)[tense][wanted] for tense in tenses) if form != "-"]
    first = auxiliary
    if lower(subject) == "j'":  # "j'ai fini" -> "je finis": the subject is no longer elided
        first = subject
        forms = [("j'" if starts_with_vowel_sound(form) else "je ") + form for form in forms]
    fixes = [match_case(first.text, form) for form in forms]
    if fixes:
        yield grammar_error(first, participle, "tense_mood", message_key, fixes, fixed=fixes[0])
