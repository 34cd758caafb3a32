"""Articles after a negation and after "et", and prepositions of time and of "penser"
(rules/negation.py, noun_phrases.py, prepositions.py), on sentences written for the rules."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from tests.support.french import found, needs_dela

pytestmark = needs_dela


@pytest.mark.parametrize("text, expected", [
    ("Nous ne regardons jamais des séries.", [("des", "de")]),
    ("Elle n'a pas acheté du pain.", [("du", "de")]),
    ("Ils n'ont plus cuisiné de la soupe.", [("de la", "de")]),
])
def test_a_negated_object_takes_de(text, expected):
    assert found(text, "article_after_negation") == expected


@pytest.mark.parametrize("text", [
    "Je ne parle pas des problèmes.",       # "parler de" + les
    "Ce ne sont pas des pommes.",
    "Il ne vient pas du Canada.",
])
def test_de_les_and_copulas_left_alone(text):
    assert found(text, "article_after_negation") == []


@pytest.mark.parametrize("text, expected", [
    ("Mon fils n'aime pas de fromage.", [("de", "le")]),
    ("Je ne déteste pas de carottes.", [("de", "les")]),
    ("Tu n'aimes pas d'orange ?", [("d'orange", "l'orange")]),
])
def test_a_verb_of_liking_keeps_the_definite_article(text, expected):
    assert found(text, "definite_after_liking") == expected


def test_liking_an_infinitive_left_alone():
    assert found("Je n'aime pas de voyager.", "definite_after_liking") == []


@pytest.mark.parametrize("text, expected", [
    ("J'ai un lapin et un souris.", [("un", "une")]),
    ("Il a vingt et un ans.", []),
])
def test_un_after_et_is_a_determiner_unless_a_number_precedes(text, expected):
    assert [(text[e.start:e.end], e.suggestions[0]) for e in check_grammar(text).errors
            if e.category == "gender_agreement"] == expected


def prepositions(text: str) -> list[tuple[str, str]]:
    return [(text[e.start:e.end], e.suggestions[0]) for e in check_grammar(text).errors if e.category == "preposition"]


@pytest.mark.parametrize("text, expected", [
    ("Nous vivons à Lille pour cinq ans.", [("pour", "depuis")]),
    ("Elle a étudié à Rome pour deux semestres.", []),          # not a unit of time we read
    ("Il a enseigné ici pour dix ans.", [("pour", "pendant")]),
    ("Je pars à Rome pour trois jours.", []),                    # what is planned
])
def test_a_duration_so_far_takes_depuis_and_a_past_one_pendant(text, expected):
    assert prepositions(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Elle pense toujours de son chat.", [("de", "à")]),
    ("Tu penses des examens ?", [("des", "aux")]),
    ("Que penses-tu de mon idée ?", []),
    ("Il pense du bien de toi.", []),
])
def test_penser_a_someone_or_something(text, expected):
    assert prepositions(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Je ne pas mange de viande.", [("ne pas mange", "ne mange pas")]),
    ("Je ne pas aime le café.", [("ne pas aime", "n'aime pas")]),
    ("Je ne pas le vois.", [("ne pas le vois", "ne le vois pas")]),
    ("Il ne jamais vient.", [("ne jamais vient", "ne vient jamais")]),
    ("Je préfère ne manger pas de viande.", [("ne manger pas", "ne pas manger")]),
    ("Je n'ai mangé pas ce matin.", [("ai mangé pas", "ai pas mangé")]),
    ("Je ne veux voir pas ce film.", [("veux voir pas", "veux pas voir")]),
])
def test_pas_goes_around_the_conjugated_verb(text, expected):
    assert found(text, "negation_placement") == expected


@pytest.mark.parametrize("text", ["Je préfère ne pas manger.", "Je n'ai vu personne.", "Il n'est jamais venu.",
                                  "Ne pas toucher.", "Je ne veux pas voir ce film.", "Je ne le vois pas."])
def test_negation_in_place_left_alone(text):
    assert found(text, "negation_placement") == []
