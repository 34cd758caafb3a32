"""Local moderation: categories, word boundaries, accents, case and simple obfuscation."""

import pytest

from domain.language import ModerationResult, moderate
from domain.language.moderation import MODERATION_CATEGORIES, normalize


def test_ordinary_learner_message_is_not_flagged():
    result = moderate("Je suis allé au marché hier avec mes amie.")
    assert result == ModerationResult(False, [])
    assert result.to_dict() == {"flagged": False, "categories": []}


def test_insult_is_harassment():
    result = moderate("t'es un connard")
    assert result.to_dict() == {"flagged": True, "categories": ["harassment"]}


def test_wish_to_kill_oneself_is_self_harm():
    assert moderate("je veux me tuer").to_dict() == {"flagged": True, "categories": ["self_harm"]}


@pytest.mark.parametrize("text, category", [
    ("Espèce d'idiot !", "harassment"),
    ("Tu es un idiot", "harassment"),
    ("Ferme ta gueule", "harassment"),
    ("you're an idiot", "harassment"),
    ("fuck you", "harassment"),
    ("mort aux juifs", "hate"),
    ("sale arabe", "hate"),
    ("envoie des nudes, send nudes", "sexual"),
    ("un film porno", "sexual"),
    ("J'ai envie de mourir", "self_harm"),
    ("I want to kill myself", "self_harm"),
    ("Je vais te tuer", "violence"),
    ("I will kill you", "violence"),
    ("je vais te casser la gueule", "violence"),
])
def test_categories(text, category):
    result = moderate(text)
    assert result.flagged
    assert result.categories == [category]


@pytest.mark.parametrize("text", [
    "Scunthorpe", "J'ai fait sa connaissance en classe.", "J'investis en bitcoin.",
    "Il porte une salopette.", "C'est con, j'ai raté le bus.", "pros and cons",
    "Le cône de glace", "Je vais tuer le temps en lisant.", "Il y a une dispute.",
    "C'était à mourir de rire !", "Je vais le taper à l'ordinateur.",
    "Je vais à la plage avec mon chien.", "Assassin's Creed est un jeu vidéo.",
])
def test_innocent_words_containing_bad_ones_are_not_flagged(text):
    assert moderate(text) == ModerationResult(False, [])


@pytest.mark.parametrize("text", ["CONNARD", "Connnnard", "c0nnard", "CoNNaRd !", "connards"])
def test_case_repeated_letters_and_digits_do_not_hide_an_insult(text):
    assert moderate(text).categories == ["harassment"]


def test_accents_are_ignored():
    assert moderate("Tu es un crétin").categories == moderate("Tu es un cretin").categories \
        == ["harassment"]


def test_several_categories_are_reported_in_canonical_order():
    result = moderate("Je vais te tuer, connard, et après je veux mourir")
    assert result.categories == ["harassment", "self_harm", "violence"]
    assert all(c in MODERATION_CATEGORIES for c in result.categories)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_text(text):
    assert moderate(text) == ModerationResult(False, [])


def test_normalize_strips_accents_case_and_typographic_apostrophe():
    assert normalize("Ça T\u2019ÉNERVE") == "ca t'enerve"


@pytest.mark.parametrize("text, category", [
    ("Je déteste les Arabes.", "hate"),
    ("Les juifs sont des voleurs.", "hate"),
    ("I hate muslims", "hate"),
    ("Envoie-moi des photos nues.", "sexual"),
    ("Tu peux m'envoyer une photo de toi nue ?", "sexual"),
    ("Je veux coucher avec toi.", "sexual"),
])
def test_contempt_for_a_group_and_sexual_requests(text, category):
    assert moderate(text).categories == [category]


@pytest.mark.parametrize("text", [
    "Je déteste les tomates.", "Je déteste les lundis.", "Les femmes sont fortes.", "J'aime les Chinois.",
    "Mes amis sont tous gays.", "J'ai pris des photos du musée.", "Je couche mon fils à 20 heures.",
    "Montre-moi ta ville !",
])
def test_the_same_shapes_about_ordinary_things_are_not_flagged(text):
    assert not moderate(text).flagged
