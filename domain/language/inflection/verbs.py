"""Verbs: paradigms of regular and irregular verbs, the readings of a conjugated form, participles."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

from domain.language import lexicon
from domain.language.inflection import CACHE_SIZE
from domain.language.lexicon import dela, is_word
from domain.language.tokens import lower, match_case

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Token


SUBJECT_PERSON = lexicon.column("subject_pronouns", "pronoun", "person")
_IRREGULAR_PRESENT = lexicon.column("verbs", "infinitive", "present")
_IRREGULAR_FUTURE_STEMS = lexicon.column("verbs", "infinitive", "future_stem")
_IRREGULAR_IMPERFECT_STEMS = lexicon.column("verbs", "infinitive", "imperfect_stem")
_IRREGULAR_SUBJUNCTIVE = lexicon.column("verbs", "infinitive", "subjunctive")
_PAST_PARTICIPLES = lexicon.column("verbs", "infinitive", "participle")
_VERB_FAMILIES = lexicon.verb_families()
_FINIR_VERBS = lexicon.words("finir_verb")
_VENDRE_VERBS = lexicon.words("vendre_verb")
_DOUBLING_VERBS = lexicon.words("doubling_verb")

PERSONS = ("1s", "2s", "3s", "1p", "2p", "3p")


TENSES = ("present", "imperfect", "future", "conditional", "subjunctive")


Paradigm = dict  # tense -> tuple of six forms ("-" = none)


def _six(forms: str) -> tuple[str, ...]:
    return tuple(forms.split())


def _from_stem(stem: str, endings: str) -> tuple[str, ...]:
    return tuple(stem + e for e in endings.split())


_IMPERFECT_ENDINGS = "ais ais ait ions iez aient"


_FUTURE_ENDINGS = "ai as a ons ez ont"


def _derived_tenses(infinitive: str, present: tuple[str, ...], fut_stem: str) -> Paradigm:
    """Imperfect, future, conditional and subjunctive from the present and future stem."""
    imp_stem = _IRREGULAR_IMPERFECT_STEMS.get(infinitive, present[3][:-3])
    if infinitive in _IRREGULAR_SUBJUNCTIVE:
        subjunctive = _six(_IRREGULAR_SUBJUNCTIVE[infinitive])
    else:
        stem3 = present[5][:-3]
        subjunctive = (stem3 + "e", stem3 + "es", stem3 + "e", imp_stem + "ions",
                       imp_stem + "iez", stem3 + "ent")
    return {
        "present": present,
        "imperfect": _from_stem(imp_stem, _IMPERFECT_ENDINGS),
        "future": _from_stem(fut_stem, _FUTURE_ENDINGS),
        "conditional": _from_stem(fut_stem, _IMPERFECT_ENDINGS),
        "subjunctive": subjunctive,
    }


def _irregular_paradigm(infinitive: str) -> Paradigm:
    present = _six(_IRREGULAR_PRESENT[infinitive])
    default_fut = infinitive[:-1] if infinitive.endswith("re") else infinitive
    fut_stem = _IRREGULAR_FUTURE_STEMS.get(infinitive, default_fut)
    if infinitive in ("falloir", "pleuvoir"):  # impersonal: third person singular only
        present = ("-", "-", present[2], "-", "-", "-")
        imp = _IRREGULAR_IMPERFECT_STEMS[infinitive]
        fut = _IRREGULAR_FUTURE_STEMS[infinitive]
        subj = _six(_IRREGULAR_SUBJUNCTIVE[infinitive])
        return {"present": present, "imperfect": ("-", "-", imp + "ait", "-", "-", "-"),
                "future": ("-", "-", fut + "a", "-", "-", "-"),
                "conditional": ("-", "-", fut + "ait", "-", "-", "-"), "subjunctive": subj}
    return _derived_tenses(infinitive, present, fut_stem)


def _er_stems(infinitive: str) -> tuple[str, str, str]:
    """(plain stem, stem before a/o, stem before a silent e) of an -er verb."""
    stem = infinitive[:-2]
    soft = stem + "e" if stem.endswith("g") else stem[:-1] + "ç" if stem.endswith("c") else stem
    mute = stem
    if re.search(r"é[^aeiouyéèê]+$", stem):
        mute = re.sub(r"é([^aeiouyéèê]+)$", r"è\1", stem)
    elif re.search(r"e[^aeiouyéèê]$", stem) and not stem.endswith(("ey", "eill")):
        mute = stem + stem[-1] if infinitive in _DOUBLING_VERBS else stem[:-2] + "è" + stem[-1]
    elif stem.endswith(("oy", "uy")):
        mute = stem[:-1] + "i"
    return stem, soft, mute


def _er_paradigm(infinitive: str) -> Paradigm:
    stem, soft, mute = _er_stems(infinitive)
    # "préférer" keeps its é in the future; "acheter" and "appeler" keep the changed stem.
    fut_stem = _IRREGULAR_FUTURE_STEMS.get(infinitive) or \
        (stem if "é" in stem and mute != stem else mute) + "er"
    return {
        "present": (mute + "e", mute + "es", mute + "e", soft + "ons", stem + "ez", mute + "ent"),
        "imperfect": (soft + "ais", soft + "ais", soft + "ait", stem + "ions", stem + "iez",
                      soft + "aient"),
        "future": _from_stem(fut_stem, _FUTURE_ENDINGS),
        "conditional": _from_stem(fut_stem, _IMPERFECT_ENDINGS),
        "subjunctive": (mute + "e", mute + "es", mute + "e", stem + "ions", stem + "iez",
                        mute + "ent"),
    }


def _finir_paradigm(infinitive: str) -> Paradigm:
    stem = infinitive[:-2]
    present = _from_stem(stem, "is is it issons issez issent")
    return _derived_tenses(infinitive, present, infinitive)


def _vendre_paradigm(infinitive: str) -> Paradigm:
    stem = infinitive[:-2]
    present = (stem + "s", stem + "s", stem, stem + "ons", stem + "ez", stem + "ent")
    return _derived_tenses(infinitive, present, stem + "r")


@functools.cache
def irregular_lemmas() -> dict[str, Paradigm]:
    """Paradigms of every irregular verb and of the verbs of their families."""
    paradigms = {inf: _irregular_paradigm(inf) for inf in _IRREGULAR_PRESENT}
    for base, (old, news) in _VERB_FAMILIES.items():
        for new in news.split():
            infinitive = new + base[len(old):]
            paradigms[infinitive] = {
                tense: tuple(f if f == "-" else new + f[len(old):] for f in forms)
                for tense, forms in paradigms[base].items()}
    return paradigms


def past_participle(infinitive: str) -> str | None:
    if infinitive in _PAST_PARTICIPLES:
        return _PAST_PARTICIPLES[infinitive]
    for base, (old, news) in _VERB_FAMILIES.items():
        for new in news.split():
            if infinitive == new + base[len(old):]:
                return new + _PAST_PARTICIPLES[base][len(old):]
    if infinitive.endswith("er"):
        return infinitive[:-2] + "é"
    if infinitive in _FINIR_VERBS:
        return infinitive[:-1]
    if infinitive in _VENDRE_VERBS:
        return infinitive[:-2] + "u"
    return None


@functools.lru_cache(maxsize=CACHE_SIZE)
def paradigm(infinitive: str) -> Paradigm | None:
    irregular = irregular_lemmas()
    if infinitive in irregular:
        return irregular[infinitive]
    if infinitive in _FINIR_VERBS:
        return _finir_paradigm(infinitive)
    if infinitive in _VENDRE_VERBS:
        return _vendre_paradigm(infinitive)
    if infinitive.endswith("er") and is_word(infinitive):
        return _er_paradigm(infinitive)
    return None


@functools.cache
def verb_form_index() -> dict[str, list[tuple[str, str, int]]]:
    """Conjugated form -> (infinitive, tense, person index) for the irregular verbs."""
    index: dict[str, list[tuple[str, str, int]]] = {}
    for infinitive, tenses in irregular_lemmas().items():
        for tense, forms in tenses.items():
            for person, form in enumerate(forms):
                if form != "-":
                    index.setdefault(form, []).append((infinitive, tense, person))
    return index


_ER_ENDINGS = sorted("""
    e es ent ons ez ais ait ions iez aient erai eras era erons erez eront erais erait
    erions eriez eraient
""".split(), key=len, reverse=True)


def _candidate_infinitives(word: str) -> Iterator[str]:
    """Infinitives that could have produced `word` as a regular conjugated form."""
    for ending in _ER_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            yield from (s + "er" for s in _er_stem_guesses(word[: -len(ending)]))
    for ending in _IR_ENDINGS:
        if word.endswith(ending):
            yield word[: -len(ending)] + "ir"
    for ending in _RE_ENDINGS:
        if word.endswith(ending):
            yield word[: len(word) - len(ending)] + "re"


_IR_ENDINGS = """
    issons issez issent issais issait issions issiez issaient isse isses is it irai iras
    ira irons irez iront irais irait irions iriez iraient
""".split()


_RE_ENDINGS = """
    ons ez ent ais ait ions iez aient e es rai ras ra rons rez ront rais rait rions riez
    raient s
""".split() + [""]


def _er_stem_guesses(stem: str) -> Iterator[str]:
    yield stem
    if stem.endswith("ge"):
        yield stem[:-1]
    if stem.endswith("ç"):
        yield stem[:-1] + "c"
    if "è" in stem:
        yield stem[::-1].replace("è", "e", 1)[::-1]
        yield stem[::-1].replace("è", "é", 1)[::-1]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "lt":
        yield stem[:-1]
    if stem.endswith("i"):
        yield stem[:-1] + "y"


@dataclass(frozen=True)
class VerbReading:
    infinitive: str
    tense: str
    person: int  # index into PERSONS

    def form_for(self, person: int) -> str | None:
        forms = paradigm(self.infinitive)
        form = forms[self.tense][person] if forms else "-"
        return None if form == "-" else form


@functools.lru_cache(maxsize=CACHE_SIZE)
def verb_readings(word: str) -> tuple[VerbReading, ...]:
    """Every (infinitive, tense, person) whose conjugated form is `word`."""
    readings = [VerbReading(*r) for r in verb_form_index().get(word, ())]
    seen = {r.infinitive for r in readings}
    for infinitive in _candidate_infinitives(word):
        if infinitive in seen:
            continue
        seen.add(infinitive)
        forms = paradigm(infinitive)
        if not forms:
            continue
        for tense, cells in forms.items():
            readings.extend(VerbReading(infinitive, tense, p)
                            for p, form in enumerate(cells) if form == word)
    return tuple(readings)


def is_finite_verb(word: str) -> bool:
    return bool(verb_readings(word))


def best_reading(readings: Iterable[VerbReading], lemma: str) -> VerbReading:
    """Prefer spaCy's lemma, then the present tense, then the first (most common) verb."""
    readings = list(readings)
    return min(readings, key=lambda r: (r.infinitive != lemma, r.tense != "present"))


def agreement_fix(verb: Token, person: str) -> str | None:
    """The form `verb` should take for `person`, or None when it already agrees."""
    word = lower(verb)
    readings = verb_readings(word)
    if not readings:
        return None
    wanted = PERSONS.index(person)
    if any(r.person == wanted for r in readings):
        return None
    fixed = best_reading(readings, verb.lemma_.lower()).form_for(wanted)
    return match_case(verb.text, fixed) if fixed else None


def is_participle(token: Token) -> bool:
    participle = past_participle(token.lemma_.lower())
    return participle is not None and lower(token) in participle_forms(participle)


def participle_infinitives(word: str) -> frozenset[str]:
    """The verbs `word` is a past participle of, by the DELA lexicon ("répondu": répondre),
    whatever spaCy took it for."""
    return frozenset(a.lemma for a in dela.analyses(word)
                     if a.pos == "V" and any(f.startswith("K") for f in a.features))


def participle_by_cell(participle: str) -> dict[str, str]:
    """The participle's four forms by gender and number ("ms", "fs", "mp", "fp")."""
    plural = participle if participle.endswith("s") else participle + "s"
    return {"ms": participle, "fs": participle + "e", "mp": plural, "fp": participle + "es"}


def participle_forms(participle: str) -> dict[str, str]:
    """Form -> cell; a participle in -s ("pris") has one form for "ms" and "mp", read as "mp"."""
    return {form: cell for cell, form in participle_by_cell(participle).items()}


_ETRE = paradigm("être")
ETRE_PRESENT = _ETRE["present"]
ETRE_FORMS = frozenset(_ETRE["present"] + _ETRE["imperfect"] + _ETRE["future"] + _ETRE["conditional"])
_AVOIR = paradigm("avoir")
AVOIR_FORMS = frozenset(_AVOIR["present"] + _AVOIR["imperfect"] + _AVOIR["future"] + _AVOIR["conditional"])
# "avoir" -> "être" in the same tense and person (the auxiliary a verb of motion takes).
AVOIR_TO_ETRE = {avoir: etre for tense in ("present", "imperfect")
                 for avoir, etre in zip(_AVOIR[tense], _ETRE[tense])}
# Present forms of the verbs followed by an infinitive ("je vais manger").
MODAL_FORMS = frozenset(form for verb in ("aller", "pouvoir", "vouloir", "devoir", "savoir")
                        for form in paradigm(verb)["present"])
