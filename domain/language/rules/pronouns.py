"""Rules: pronouns (stressed, reflexive, relative, indirect object, y/en, indirect questions)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.inflection.nouns import NUMBER_WORDS
from domain.language.inflection.verbs import (
    AVOIR_TO_ETRE, ETRE_FORMS, ETRE_PRESENT, PERSONS, SUBJECT_PERSON, is_finite_verb, participle_infinitives,
    verb_readings)
from domain.language.result import GrammarError
from domain.language.rules.common import (
    DEMONSTRATIVE_PRONOUNS, ETRE_VERBS, NE, NEGATION_ENDS, SUBJECT_PRONOUNS, after_subject, grammar_error,
    is_clause_start, is_infinitive, object_after, verb_lemmas)
from domain.language.rules.noun_phrases import noun_candidate
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_STRESSED = lexicon.column("subject_pronouns", "pronoun", "stressed")
_STRESS_PREPOSITIONS = lexicon.words("stress_preposition")
# Subjects whose reflexive pronoun is not "se" ("nous se levons" -> "nous nous levons").
_REFLEXIVE_FOR = {pronoun: reflexive for pronoun, reflexive
                  in lexicon.column("subject_pronouns", "pronoun", "reflexive").items() if reflexive != "se"}
_INDIRECT_ONLY_VERBS = lexicon.words("indirect_only_verb")
_DIRECT_OBJECT_VERBS = lexicon.words("direct_object_verb")
_DATIVE_VERBS = lexicon.words("dative_verb")
# What "dont" stands for: "de" + a noun phrase after these verbs and "avoir" phrases.
_DE_HEADS = frozenset(row["head"] for row in lexicon.table("verb_prepositions")
                      if row["preposition"] == "de" and (row["complement"] == "any" or row["head"] in lexicon.nouns()))
_PRONOMINAL_VERBS = lexicon.words("pronominal_verb")
_THOUGHT_VERBS = lexicon.words("thought_verb")
# (infinitive, noun): a verb and a bare noun after it built with "à" + a person ("faire confiance à").
_INDIRECT_PHRASES = frozenset(tuple(phrase.split()) for phrase in lexicon.words("indirect_verb_phrase"))
# Subject pronouns that are never object pronouns ("nous", "vous" are: "qui nous parle").
_SUBJECTS_NOT_OBJECTS = SUBJECT_PRONOUNS - {"nous", "vous"}
_REFLEXIVE_OF_PERSON = lexicon.column("subject_pronouns", "person", "reflexive")


def rule_pronouns(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        yield from _stressed_pronoun_error(token)
        yield from _reflexive_person_error(token)
        yield from _relative_que_error(token)
        yield from _indirect_object_error(token)
        yield from _y_instead_of_en_error(token)
        yield from _indirect_question_error(token)
        yield from _direct_object_error(token)
        yield from _dative_with_a_thing_error(token)
        yield from _en_for_quantity_error(token)
        yield from _dont_error(token)
        yield from _reflexive_before_infinitive_error(token)
        yield from _leurs_before_verb_error(token)
        yield from _stressed_after_cest_error(token)
        yield from _stressed_before_verb_error(token)
        yield from _missing_reflexive_error(token)
        yield from _ou_for_intransitive_error(token)
        yield from _y_for_thought_error(token)


def _stressed_pronoun_error(token: Token) -> Iterator[GrammarError]:
    """ "avec il" -> "avec lui"; "plus grand que je." -> "que moi"."""
    word = lower(token)
    before, after = previous_token(token), next_token(token)
    if word not in _STRESSED or before is None:
        return
    after_preposition = lower(before) in _STRESS_PREPOSITIONS
    comparison_end = lower(before) == "que" and word in ("je", "tu") and (
        after is None or after.is_punct)
    if after_preposition or comparison_end:
        fixed = _STRESSED[word]
        yield grammar_error(token, token, "pronoun",
                            "stressed_pronoun", [fixed],
                            word=before.text, fixed=fixed)


def _reflexive_person_error(token: Token) -> Iterator[GrammarError]:
    """ "nous se levons" -> "nous nous levons"."""
    subject = previous_token(token)
    if lower(token) != "se" or subject is None:
        return
    word = lower(subject)
    if word not in _REFLEXIVE_FOR or not is_clause_start(subject):
        return
    fixed = _REFLEXIVE_FOR[word]
    yield grammar_error(token, token, "pronoun",
                        "reflexive_person", [fixed],
                        subject=subject.text, fixed=fixed)


def _relative_que_error(token: Token) -> Iterator[GrammarError]:
    """ "la fille qui j'ai rencontrée" -> "que": "qui" cannot have another subject."""
    before, after = previous_token(token), next_token(token)
    if lower(token) != "qui" or before is None or after is None:
        return
    if lower(after) not in _SUBJECTS_NOT_OBJECTS:
        return
    if lower(before) not in DEMONSTRATIVE_PRONOUNS and (
            noun_candidate(before) is None or lower(before) in NUMBER_WORDS):
        return
    fixed = "qu'" if starts_with_vowel_sound(after.text) else "que"
    if fixed == "qu'":
        yield grammar_error(token, after, "pronoun", "relative_que", [fixed + after.text])
    else:
        yield grammar_error(token, token, "pronoun",
                            "relative_que", [fixed])


def _indirect_object_error(token: Token) -> Iterator[GrammarError]:
    """ "je la téléphone" -> "je lui téléphone"; "je les ai téléphoné" -> "je leur ai
    téléphoné"; "je la fais confiance" -> "je lui fais confiance": verbs (and verb + noun
    phrases) built with "à" + a person take lui/leur.
    Conditions: le/la/les (or l' before an auxiliary) right after a subject pronoun or
    "ne", then such a verb, or its participle after an auxiliary."""
    word = lower(token)
    if not is_indirect_object(token):
        return
    verb = next_token(token)
    if word == "l'":
        if lower(verb) in AVOIR_TO_ETRE:  # "je l'ai téléphoné" -> "je lui ai téléphoné"
            yield grammar_error(token, verb, "pronoun", "indirect_object", [f"lui {verb.text}"], fixed="lui")
        return  # "je l'appelle": which pronoun was elided is unknown
    fixed = "leur" if word == "les" else "lui"
    yield grammar_error(token, token, "pronoun", "indirect_object", [fixed], fixed=fixed)


def is_indirect_object(token: Token) -> bool:
    """Whether le/la/les/l' right after a subject pronoun (or "ne") stands for the object
    of a verb built with "à" + a person ("téléphoner à", "faire confiance à"), itself
    or its participle after an auxiliary: then it is not a direct object, whatever its form."""
    word = lower(token)
    verb = next_token(token)
    if word not in ("le", "la", "les", "l'") or verb is None or not after_subject(token):
        return False
    target, lemmas = _verb_lemmas(verb)
    after = next_token(target)
    if after is not None and lower(after) in NEGATION_ENDS:  # "je ne lui fais pas confiance"
        after = next_token(after)
    phrase = after is not None and any((lemma, lower(after)) in _INDIRECT_PHRASES for lemma in lemmas)
    return bool(lemmas & _INDIRECT_ONLY_VERBS) or phrase


def _y_instead_of_en_error(token: Token) -> Iterator[GrammarError]:
    """ "j'en vais" -> "j'y vais" ("je m'en vais" is fine)."""
    before, verb = previous_token(token), next_token(token)
    if lower(token) != "en" or before is None or verb is None:
        return
    if lower(before) not in _SUBJECTS_NOT_OBJECTS:
        return
    after = next_token(verb)
    if after is not None and lower(after) in ("de", "ainsi"):
        return  # "il en va de même"
    if any(r.infinitive == "aller" and r.tense == "present" for r in verb_readings(lower(verb))):
        yield grammar_error(token, token, "pronoun", "place_is_y", ["y"])


def _indirect_question_error(token: Token) -> Iterator[GrammarError]:
    """ "je ne sais pas qu'est-ce qu'il veut" -> "ce qu'il veut"; "dis-moi qu'est-ce
    qui se passe" -> "ce qui se passe"."""
    if lower(token) != "qu'":
        return
    est, ce = next_token(token), next_token(token, 2)
    before = previous_token(token)
    if est is None or ce is None or lower(est) != "est" or lower(ce) != "-ce":
        return
    if before is None or not (before.pos_ in ("VERB", "AUX") or lower(before) in ("pas", "-moi", "-nous")
                              or is_finite_verb(lower(before))):
        return  # not after a verb ("dis-moi"): a real question
    yield grammar_error(token, ce, "pronoun", "indirect_question", ["ce"])


def _verb_lemmas(verb: Token) -> tuple[Token, set[str]]:
    """The verb a pronoun is the object of and its possible infinitives: after an
    auxiliary ("je lui ai vu"), the participle's."""
    target = verb
    if lower(verb) in AVOIR_TO_ETRE or lower(verb) in ETRE_PRESENT:
        participle = next_token(verb)
        if participle is not None and participle.is_alpha:
            target = participle
    return target, verb_lemmas(target) | participle_infinitives(lower(target))


def _direct_object_error(token: Token) -> Iterator[GrammarError]:
    """ "je lui connais" -> "je le connais": verbs like "connaître", "aider", "appeler"
    take their person object directly (le, la, les), never lui/leur.
    Conditions: "lui"/"leur" right after a subject pronoun or "ne", then the verb (or an
    auxiliary and its participle) of such a verb."""
    word = lower(token)
    verb = next_token(token)
    if word not in ("lui", "leur") or verb is None or not after_subject(token):
        return
    _, lemmas = _verb_lemmas(verb)
    if not lemmas & _DIRECT_OBJECT_VERBS or lemmas & _DATIVE_VERBS:
        return
    if starts_with_vowel_sound(verb.text) and word == "lui":
        yield grammar_error(token, verb, "pronoun", "direct_object",
                            ["l'" + verb.text], fixed="l'")
        return
    fixed = ["les"] if word == "leur" else ["le", "la"]
    yield grammar_error(token, token, "pronoun", "direct_object", fixed, fixed=fixed[0])


def _dative_with_a_thing_error(token: Token) -> Iterator[GrammarError]:
    """ "je les ai écrit une lettre" -> "je leur ai écrit": when a verb of giving or
    telling already has its thing as a noun phrase after it, the pronoun before it is the
    person, which is indirect.
    Conditions: "le"/"la"/"les" right after a subject pronoun or "ne"; the verb (or its
    participle after an auxiliary) is such a verb; a determiner follows it, not one of a
    time phrase ("la semaine dernière")."""
    word = lower(token)
    verb = next_token(token)
    if word not in ("le", "la", "les") or verb is None or not after_subject(token):
        return
    target, lemmas = _verb_lemmas(verb)
    if not lemmas & _DATIVE_VERBS:
        return
    if not object_after(target):
        return
    fixed = "leur" if word == "les" else "lui"
    yield grammar_error(token, token, "pronoun", "indirect_object", [fixed], fixed=fixed)


def _en_for_quantity_error(token: Token) -> Iterator[GrammarError]:
    """ "j'y veux deux" -> "j'en veux deux": a quantity without its noun is taken up by "en".
    Conditions: "y" after a subject pronoun, its verb (not "il y a", not "aller"), then a
    number that ends the clause."""
    verb, quantity = next_token(token), next_token(token, 2)
    if lower(token) != "y" or verb is None or quantity is None or not after_subject(token):
        return
    if lower(previous_token(token)) == "il" or any(r.infinitive == "aller" for r in verb_readings(lower(verb))):
        return
    end = next_token(quantity)
    if (lower(quantity) in NUMBER_WORDS or lower(quantity) == "plusieurs" or quantity.like_num) and (
            end is None or end.is_punct):
        yield grammar_error(token, token, "pronoun", "quantity_is_en", ["en"])


def _dont_error(token: Token) -> Iterator[GrammarError]:
    """ "la situation que j'ai peur" -> "dont": a relative clause whose verb is built with
    "de" ("avoir peur de", "se souvenir de") takes "dont".
    Conditions: "que" after a noun, a subject pronoun, the head ("peur", "souviens") at
    most three words on, and no "de" after the head (then "que" may be its object)."""
    before, subject = previous_token(token), next_token(token)
    if lower(token) not in ("que", "qu'") or before is None or subject is None:
        return
    if noun_candidate(before) is None or lower(subject) not in SUBJECT_PRONOUNS:
        return
    for offset in range(1, 4):
        head = next_token(subject, offset)
        if head is None or head.is_punct:
            return
        lemmas = verb_lemmas(head) | {lower(head)}
        if lemmas & _DE_HEADS:
            after = next_token(head)
            if after is None or lower(after) not in ("de", "d'", "des", "du", "à", "au", "aux"):
                yield grammar_error(token, token, "pronoun", "relative_dont", ["dont"])
            return


def _reflexive_before_infinitive_error(token: Token) -> Iterator[GrammarError]:
    """ "je vais se coucher" -> "me coucher": the reflexive pronoun of an infinitive
    matches the subject of the verb it depends on.
    Conditions: "se"/"s'" right before an infinitive, right after a finite verb (and its
    "pas") whose subject pronoun (je, tu, nous, vous) is just before it (or before "ne")."""
    word = lower(token)
    verb, infinitive = previous_token(token), next_token(token)
    if word not in ("se", "s'") or verb is None or infinitive is None:
        return
    if lower(verb) in NEGATION_ENDS:  # "je ne veux pas se lever"
        verb = previous_token(verb)
    subject = previous_token(verb) if verb is not None else None
    if subject is not None and lower(subject) in NE:
        subject = previous_token(subject)
    if subject is None or lower(subject) not in _REFLEXIVE_FOR and lower(subject) != "j'":
        return
    if not is_finite_verb(lower(verb)) or not is_infinitive(infinitive, every_verb_reading=True):
        return
    reflexive = _REFLEXIVE_FOR.get(lower(subject), "me")
    if word == "s'" and reflexive in ("me", "te"):
        yield grammar_error(token, infinitive, "pronoun", "reflexive_person",
                            [reflexive[0] + "'" + infinitive.text], subject=subject.text, fixed=reflexive[0] + "'")
    else:
        yield grammar_error(token, token, "pronoun", "reflexive_person",
                            [reflexive], subject=subject.text, fixed=reflexive)


def _leurs_before_verb_error(token: Token) -> Iterator[GrammarError]:
    """ "je leurs parle" -> "leur": the pronoun "leur" never takes an s.
    Conditions: "leurs" right after a subject pronoun or "ne", before a finite verb."""
    verb = next_token(token)
    if lower(token) == "leurs" and verb is not None and after_subject(token) and is_finite_verb(lower(verb)):
        yield grammar_error(token, token, "pronoun", "leur_pronoun", ["leur"])


def _stressed_after_cest_error(token: Token) -> Iterator[GrammarError]:
    """ "c'est je qui paie" -> "c'est moi": after "c'est" a pronoun is stressed.
    Conditions: "c'est"/"c'était" then je, tu, il, ils followed by "qui", punctuation or
    the end."""
    word = lower(token)
    before, after = previous_token(token), next_token(token)
    if word not in _STRESSED or word in ("elle", "nous", "vous", "elles") or before is None:
        return
    this = previous_token(before)
    if this is None or lower(this) != "c'" or lower(before) not in ("est", "était"):
        return
    if after is None or after.is_punct or lower(after) == "qui":
        fixed = _STRESSED[word]
        yield grammar_error(token, token, "pronoun", "stressed_pronoun", [fixed], word=before.text, fixed=fixed)


def _stressed_before_verb_error(token: Token) -> Iterator[GrammarError]:
    """ "il moi donne un cadeau" -> "me": before the verb the object pronoun is unstressed.
    Conditions: "moi"/"toi" right after a subject pronoun (or "ne") and before a finite verb."""
    word = lower(token)
    verb = next_token(token)
    if word not in ("moi", "toi") or verb is None or not after_subject(token):
        return
    if not is_finite_verb(lower(verb)):
        return
    if starts_with_vowel_sound(verb.text):
        fixed = word[0] + "'" + verb.text
        yield grammar_error(token, verb, "pronoun", "unstressed_object", [fixed], fixed=word[0] + "'")
    else:
        fixed = word[0] + "e"
        yield grammar_error(token, token, "pronoun", "unstressed_object", [fixed], fixed=fixed)


def _missing_reflexive_error(token: Token) -> Iterator[GrammarError]:
    """ "je lève à sept heures" -> "je me lève": without an object these verbs are
    pronominal ("se lever"; "je lève la main" is right).
    Conditions: a subject pronoun right before a finite form of such a verb in its person,
    and no object after it (no determiner, noun, name or pronoun)."""
    subject, verb = previous_token(token), token
    if subject is None or lower(subject) not in SUBJECT_PRONOUNS:
        return
    person = SUBJECT_PERSON.get("je" if lower(subject) == "j'" else lower(subject))
    readings = [r for r in verb_readings(lower(verb)) if person and r.person == PERSONS.index(person)]
    if not readings or not {r.infinitive for r in readings} & _PRONOMINAL_VERBS:
        return
    after = next_token(verb)
    if after is not None and (
            after.pos_ in ("DET", "NOUN", "PROPN", "PRON", "NUM") or lower(after) in SUBJECT_PRONOUNS):
        return
    quantity_of = next_token(verb, 2)
    if quantity_of is not None and lower(quantity_of) in ("de", "d'"):
        return  # "elle intéresse beaucoup de gens"
    reflexive = _REFLEXIVE_OF_PERSON[person]
    if starts_with_vowel_sound(verb.text) and reflexive in ("me", "te", "se"):
        fixed_verb = reflexive[0] + "'" + verb.text
    else:
        fixed_verb = f"{reflexive} {verb.text}"
    if lower(subject) == "j'":
        fixed = match_case(subject.text, "je") + " " + fixed_verb
        yield grammar_error(subject, verb, "pronoun", "missing_reflexive", [fixed], fixed=fixed)
    else:
        yield grammar_error(verb, verb, "pronoun", "missing_reflexive", [fixed_verb], fixed=fixed_verb)


def _ou_for_intransitive_error(token: Token) -> Iterator[GrammarError]:
    """ "la ville que je suis né" -> "où": a verb that takes "être" ("naître", "aller",
    "venir") has no direct object, so "que" cannot be its object; a place or a time is "où".
    Conditions: "que" after a noun, a subject (pronoun, or determiner and noun), [ne], then
    a form of such a verb or "être" + its participle, not followed by an infinitive."""
    before, subject = previous_token(token), next_token(token)
    if lower(token) not in ("que", "qu'") or before is None or subject is None:
        return
    if noun_candidate(before) is None:
        return
    if lower(subject) in SUBJECT_PRONOUNS:
        verb = next_token(subject)
    elif subject.pos_ == "DET" and next_token(subject) is not None and next_token(subject).pos_ == "NOUN":
        verb = next_token(subject, 2)  # "que ma mère est née"
    else:
        return
    if verb is not None and lower(verb) in NE:
        verb = next_token(verb)
    if verb is None:
        return
    infinitives = {r.infinitive for r in verb_readings(lower(verb))}
    if lower(verb) in ETRE_FORMS:
        verb = next_token(verb)
        infinitives = set(participle_infinitives(lower(verb))) if verb is not None else set()
    after = next_token(verb) if verb is not None else None
    if not infinitives or not infinitives <= ETRE_VERBS or (
            after is not None and is_infinitive(after, every_verb_reading=True)):
        return  # "le film que je vais voir": "que" is the object of the infinitive
    if lower(token) == "qu'":
        yield grammar_error(token, subject, "pronoun", "relative_ou", ["où " + subject.text])
    else:
        yield grammar_error(token, token, "pronoun", "relative_ou", ["où"])


def _y_for_thought_error(token: Token) -> Iterator[GrammarError]:
    """ "je lui pense" -> "j'y pense": "penser à" takes "y" for a thing and "à lui" for a
    person, never "lui" before the verb.
    Conditions: "lui"/"leur" right after a subject pronoun, then a form of such a verb."""
    verb = next_token(token)
    if lower(token) not in ("lui", "leur") or verb is None or not after_subject(token):
        return
    if not {r.infinitive for r in verb_readings(lower(verb))} & _THOUGHT_VERBS:
        return
    subject = previous_token(token)
    if lower(subject) == "je":
        fixed = match_case(subject.text, "j'") + "y"
        yield grammar_error(subject, token, "pronoun", "thought_takes_y", [fixed], fixed=fixed)
    else:
        yield grammar_error(token, token, "pronoun", "thought_takes_y", ["y"], fixed="y")
