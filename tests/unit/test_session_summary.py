"""The summary's pure parts: error patterns with one example each, "well said", and the
offline greeting."""
from __future__ import annotations

import uuid

from domain.characters import default_library
from domain.greetings import offline_greeting
from domain.session_summary import _Turn, error_patterns, well_said

WRONG = "Je suis allé au marché avec mes amie."
AMIE = {"start": 28, "end": 36, "category": "gender_agreement", "message": "…", "suggestions": ["mes amies"]}


def _turn(text: str, errors: list | None = None, flagged: bool = False) -> _Turn:
    return _Turn(uuid.uuid4(), 5, errors or [], flagged, [], text, "Ah bon ?")


def test_each_pattern_is_counted_with_its_first_example():
    first, second = _turn(WRONG, [AMIE]), _turn(WRONG.replace("marché", "parc"), [{**AMIE, "start": 26, "end": 34}])
    patterns = error_patterns([first, _turn("Bonjour !"), second])
    assert [(p["key"], p["count"]) for p in patterns] == [("gender_agreement:mes amie→mes amies", 2)]
    assert patterns[0]["example"] == {"turn_id": str(first.id), "text": WRONG, "wrong": "mes amie",
                                      "fix": "mes amies"}


def test_well_said_is_up_to_three_clean_messages_longest_first():
    clean = [_turn("Oui."), _turn("J'habite à Lyon avec ma sœur."), _turn("Bonjour, je m'appelle Léa."),
             _turn("Merci beaucoup !")]
    said = well_said([_turn(WRONG, [AMIE]), *clean, _turn("Une insulte très longue, vraiment.", flagged=True)])
    assert [s["text"] for s in said] == ["J'habite à Lyon avec ma sœur.", "Bonjour, je m'appelle Léa.",
                                         "Merci beaucoup !"]


def test_the_offline_greeting_greets_and_asks_at_the_level():
    camille = default_library().get("camille")
    easy, hard = offline_greeting(camille, "A1", "s1"), offline_greeting(camille, "C1", "s1")
    assert easy.rstrip().endswith("?") and hard.rstrip().endswith("?")
    assert easy != hard, "each band has its own phrasebook"
    assert offline_greeting(camille, "A1", "s1") == easy, "the same session gets the same greeting"
