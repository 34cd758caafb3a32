"""Rules: word order (pronouns, adjectives after the noun, adverbs in compound tenses)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from domain.language import lexicon
from domain.language.lexicon import dela
from domain.language.inflection.adjectives import before_noun_forms, postnominal_forms
from domain.language.inflection.nouns import DETERMINERS, noun_forms
from domain.language.inflection.verbs import (
    ETRE_FORMS, is_participle, is_finite_verb, participle_infinitives)
from domain.language.result import GrammarError
from domain.language.rules.auxiliary import is_avoir_auxiliary
from domain.language.rules.common import (
    ELISIONS, REFLEXIVE_PRONOUNS, SUBJECT_PRONOUNS, after_subject, grammar_error, looks_like_infinitive,
    may_be_subject, span_text, verb_lemmas)
from domain.language.tokens import lower, match_case, next_token, previous_token, starts_with_vowel_sound

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.tokens import Doc, Token


_CLITIC_RANK = {pronoun: int(rank) for pronoun, rank in lexicon.column("object_pronouns", "pronoun", "rank").items()}
_STANDALONE_ADVERBS = lexicon.words("standalone_adverb")
_MOVABLE_ADVERBS = lexicon.words("movable_adverb")
_ADVERBS_AFTER_VERB = lexicon.words("adverb_after_verb")
_QUESTION_VERBS = lexicon.words("question_verb")
_QUESTION_WORDS = lexicon.words("question_word")
_INVERTED_SUBJECTS = {"-" + pronoun: pronoun for pronoun in SUBJECT_PRONOUNS - {"j'"}}
# Reflexive pronouns that are not also subjects (nous, vous).
_REFLEXIVE_CLITICS = REFLEXIVE_PRONOUNS - SUBJECT_PRONOUNS


def rule_word_order(doc: Doc) -> Iterator[GrammarError]:
    for token in doc[:-1]:
        yield from _clitic_before_ne(token)
        yield from _clitic_pair_order(token)
        yield from _postnominal_adjective_before_noun(token)
        yield from _prenominal_adjective_after_noun(token)
        yield from _object_pronoun_after_verb(token)
        yield from _adverb_after_participle(token)
        yield from _adverb_before_verb(token)
        yield from _adverb_after_object(token)
        yield from _pronoun_after_auxiliary(token)
        yield from _inverted_indirect_question(token)


def _swap(first: Token, second: Token, message_key: str) -> GrammarError:
    """Both words are clitics after their subject, so never capitalised."""
    return grammar_error(first, second, "word_order", message_key, [f"{second.text} {first.text}"])


def _clitic_before_ne(token: Token) -> Iterator[GrammarError]:
    """ "je le ne comprends pas" -> "je ne le comprends pas"."""
    ne, before = next_token(token), previous_token(token)
    if lower(token) not in _CLITIC_RANK or lower(ne) != "ne" or before is None:
        return
    if lower(before) in SUBJECT_PRONOUNS:
        yield _swap(token, ne, "ne_before_pronoun")


def _clitic_pair_order(token: Token) -> Iterator[GrammarError]:
    """ "tu le me rends" -> "tu me le rends"; "je vais lui le dire" -> "le lui dire".
    Conditions: two object pronouns out of order, after a subject (or "ne") and before
    a finite verb, or after a finite verb and before an infinitive."""
    second, before = next_token(token), previous_token(token)
    if before is None:
        return
    first_rank = _CLITIC_RANK.get(lower(token))
    second_rank = _CLITIC_RANK.get(lower(second))
    if not first_rank or not second_rank or first_rank <= second_rank:
        return
    verb = next_token(second)
    if verb is None:
        return
    if after_subject(token) and is_finite_verb(lower(verb)):
        yield _swap(token, second, "pronoun_order")
    elif is_finite_verb(lower(before)) and looks_like_infinitive(verb) and not lower(verb).endswith("ant"):
        yield _swap(token, second, "pronoun_order")


def _postnominal_adjective_before_noun(token: Token) -> Iterator[GrammarError]:
    """ "une rouge robe" -> "une robe rouge"."""
    noun, det = next_token(token), previous_token(token)
    word = lower(token)
    if det is None or lower(det) not in DETERMINERS or word not in postnominal_forms():
        return
    if lower(noun) not in noun_forms() or token.text[:1].isupper():
        return
    fixed = f"{noun.text} {token.text}"
    yield grammar_error(token, noun, "word_order",
                        "adjective_after_noun", [fixed],
                        adjective=token.text, fixed=fixed)


def _prenominal_adjective_after_noun(token: Token) -> Iterator[GrammarError]:
    """ "une maison petite" -> "une petite maison": adjectives of beauty, age, goodness and
    size come before the noun.
    Conditions: a determiner, a noun, one of these adjectives, and not "bon marché"."""
    det, adjective = previous_token(token), next_token(token)
    if det is None or adjective is None or lower(det) not in DETERMINERS:
        return
    if lower(token) not in noun_forms() or lower(adjective) not in before_noun_forms():
        return
    after = next_token(adjective)
    if after is not None and lower(after) in ("marché", "enfant", "vivant"):
        return  # "bon marché", "bon enfant", "bon vivant"
    fixed = f"{adjective.text} {token.text}"
    yield grammar_error(token, adjective, "word_order", "adjective_before_noun", [fixed],
                        adjective=adjective.text, fixed=fixed)


def _object_pronoun_after_verb(token: Token) -> Iterator[GrammarError]:
    """ "je vois le souvent" -> "je le vois souvent"."""
    pronoun, subject = next_token(token), previous_token(token)
    after = next_token(token, 2)
    if subject is None or lower(subject) not in SUBJECT_PRONOUNS or pronoun is None:
        return
    if lower(pronoun) not in ("le", "la", "les") or not is_finite_verb(lower(token)):
        return
    if lower(token) in ETRE_FORMS:
        return
    if after is None or after.is_punct or lower(after) in _STANDALONE_ADVERBS:
        fixed = f"{pronoun.text} {token.text}"
        yield grammar_error(token, pronoun, "word_order",
                            "pronoun_before_verb", [fixed], fixed=fixed)


def _adverb_after_participle(token: Token) -> Iterator[GrammarError]:
    """ "j'ai lu déjà" -> "j'ai déjà lu"."""
    participle, adverb = next_token(token), next_token(token, 2)
    if adverb is None or lower(adverb) not in _MOVABLE_ADVERBS:
        return
    if not (is_avoir_auxiliary(token) or (lower(token) in ETRE_FORMS)):
        return
    if not is_participle(participle) or (lower(participle) == "fait" and lower(adverb) == "mal"):
        return  # "elle s'est fait mal": "faire mal", to hurt
    after = next_token(adverb)
    if after is not None and lower(after) in ("de", "des", "du", "que", "qu'", "d'"):
        return  # "il a fait bien des erreurs"
    fixed = f"{adverb.text} {participle.text}"
    yield grammar_error(participle, adverb, "word_order",
                        "adverb_before_participle", [fixed], fixed=fixed)


def _adverb_before_verb(token: Token) -> Iterator[GrammarError]:
    """ "je toujours mange" -> "je mange toujours": in a simple tense these adverbs follow
    the verb. Conditions: a subject pronoun, one of them, then a conjugated verb."""
    subject, verb = previous_token(token), next_token(token)
    if subject is None or verb is None or lower(token) not in _ADVERBS_AFTER_VERB:
        return
    if not may_be_subject(subject) or not is_finite_verb(lower(verb)) or is_participle(verb):
        return
    if lower(subject) == "je" and starts_with_vowel_sound(verb.text):  # "je vraiment aime" -> "j'aime vraiment"
        fixed = f"{match_case(subject.text, 'j')}'{verb.text} {token.text}"
        yield grammar_error(subject, verb, "word_order", "adverb_after_verb", [fixed], fixed=fixed)
        return
    fixed = f"{verb.text} {token.text}"
    yield grammar_error(token, verb, "word_order", "adverb_after_verb", [fixed], fixed=fixed)


def _adverb_after_object(token: Token) -> Iterator[GrammarError]:
    """ "j'aime le chocolat beaucoup" -> "j'aime beaucoup le chocolat": "beaucoup" and
    "bien" come right after the verb, before its object. Conditions: a conjugated verb
    (not être or avoir), a determiner and a noun (or a name), then "beaucoup"/"bien"
    ending the clause."""
    if not is_finite_verb(lower(token)) or lower(token) in ETRE_FORMS or is_avoir_auxiliary(token):
        return
    first = next_token(token)
    if first is None:
        return
    if first.pos_ == "PROPN":
        last = first
    elif lower(first) in DETERMINERS and lower(next_token(first)) in noun_forms():
        last = next_token(first)
    else:
        return
    adverb = next_token(last)
    end = next_token(adverb) if adverb is not None else None
    if adverb is None or lower(adverb) not in ("beaucoup", "bien") or not (end is None or end.is_punct):
        return
    fixed = f"{token.text} {adverb.text} {span_text(first, last)}"
    yield grammar_error(token, adverb, "word_order", "adverb_after_verb", [fixed], fixed=fixed)


def _pronoun_after_auxiliary(token: Token) -> Iterator[GrammarError]:
    """ "j'ai le vu" -> "je l'ai vu": in a compound tense the object pronoun comes before
    the auxiliary.
    Conditions: a subject pronoun, a form of "avoir" (or "être"), an object pronoun, a past
    participle. The fix rewrites subject to participle, with the elisions it needs."""
    aux, pronoun, participle = token, next_token(token), next_token(token, 2)
    subject = previous_token(aux)
    if subject is None or lower(subject) not in SUBJECT_PRONOUNS or participle is None:
        return
    word = lower(pronoun)
    if word not in _CLITIC_RANK or word in ("nous", "vous", "se", "s'") or "'" in word:
        return
    if not (is_avoir_auxiliary(aux) or lower(aux) in ETRE_FORMS):
        return
    if not (is_participle(participle) or participle_infinitives(lower(participle))):
        return
    if word in ("le", "la", "les") and participle.pos_ != "VERB" and (
            lower(participle) in noun_forms() or any(a.pos == "N" for a in dela.analyses(lower(participle)))):
        return  # "il a la vue", "elle a le permis": a determiner and its noun
    clitic = ELISIONS[word] if word in ELISIONS and starts_with_vowel_sound(aux.text) else word + " "
    subject_word = "je" if lower(subject) == "j'" else lower(subject)
    if subject_word == "je" and starts_with_vowel_sound(clitic):
        subject_word = "j'"
    subject_text = match_case(subject.text, subject_word)
    fixed = f"{subject_text}{'' if subject_word.endswith(chr(39)) else ' '}{clitic}{aux.text} {participle.text}"
    yield grammar_error(subject, participle, "word_order", "pronoun_before_auxiliary", [fixed], fixed=fixed)


def _inverted_indirect_question(token: Token) -> Iterator[GrammarError]:
    """ "je ne sais pas où habite-t-elle" -> "où elle habite": an indirect question keeps
    the order subject, verb.
    Conditions: a verb that opens questions ("savoir", "expliquer"...) within four words
    before an interrogative word; after it, a verb (with a reflexive pronoun before it)
    and its subject pronoun joined by a hyphen."""
    if lower(token) not in _QUESTION_WORDS or not _after_question_verb(token):
        return
    first = next_token(token)
    verb = next_token(first) if first is not None and lower(first) in _REFLEXIVE_CLITICS else first
    if verb is None or not is_finite_verb(lower(verb)):
        return
    last = next_token(verb)
    if last is not None and lower(last) == "-t":
        last = next_token(last)
    if last is None or lower(last) not in _INVERTED_SUBJECTS:
        return
    subject = _INVERTED_SUBJECTS[lower(last)]
    verb_words = " ".join(t.text for t in token.doc[first.i: verb.i + 1]).replace("' ", "'")
    fixed = f"{subject} {verb_words}"
    yield grammar_error(first, last, "word_order", "indirect_question_order", [fixed], fixed=fixed)


def _after_question_verb(word: Token) -> bool:
    for token in reversed(word.doc[max(0, word.i - 4): word.i]):
        if token.is_punct:
            return False
        if verb_lemmas(token) & _QUESTION_VERBS:
            return True
    return False
