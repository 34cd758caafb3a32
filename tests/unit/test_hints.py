import pytest

from domain import hints


@pytest.mark.parametrize("message, kind", [
    ("Ah, super ! Tu aimes le café ?", "yes_no"),
    ("Est-ce que tu viens souvent ici ?", "yes_no"),
    ("Qu'est-ce que tu as mangé hier ?", "what"),
    ("Quelle est ta couleur préférée ?", "what"),
    ("Et tu habites où ?", "where"),
    ("D'où viens-tu ?", "where"),
    ("Quand est-ce que tu pars ?", "when"),
    ("Pourquoi tu aimes Lyon ?", "why"),
    ("Comment s'est passé ton week-end ?", "how"),
    ("Tu as combien de frères ?", "how_many"),
    ("Avec qui tu y vas ?", "who"),
    ("Qu'est-ce qui te plaît ici ?", "what"),
    ("Très bien. Moi aussi.", "other"),
    ("Tu aimes Paris ? Qu'est-ce que tu y fais ?", "what"),  # the last question counts
])
def test_question_kind(message, kind):
    assert hints.question_kind(message) == kind


def test_offline_suggestions_answer_the_question_then_ask_back_at_the_level():
    a1 = hints.offline_suggestions("A1", "Tu habites où ?", seed="s1")
    assert len(a1) == 3 and len(set(a1)) == 3
    assert any(s.startswith(("J'habite", "Je vais", "C'est près")) for s in a1[:2])
    c1 = hints.offline_suggestions("C1", "Tu habites où ?", seed="s1")
    assert set(c1).isdisjoint(a1), "an advanced learner gets other, richer starters"


def test_offline_suggestions_are_deterministic_per_seed_and_vary_across_seeds():
    first = hints.offline_suggestions("B1", "Qu'est-ce que tu aimes faire ?", seed="a")
    assert first == hints.offline_suggestions("B1", "Qu'est-ce que tu aimes faire ?", seed="a")
    assert len({tuple(hints.offline_suggestions("B1", "Qu'est-ce que tu aimes faire ?", seed=str(i)))
                for i in range(20)}) > 1


def test_offline_suggestions_without_a_character_message_are_generic():
    assert len(hints.offline_suggestions("A2", None, seed="x")) == 3


def test_parse_suggestions_strips_numbering_bullets_and_quotes():
    text = '1. « Oui, j\'adore ça ! »\n- Non, pas trop.\n\n* "Et toi ?"\n4) De trop'
    assert hints.parse_suggestions(text) == ["Oui, j'adore ça !", "Non, pas trop.", "Et toi ?"]


def test_parse_suggestions_refuses_fewer_than_two():
    with pytest.raises(ValueError):
        hints.parse_suggestions("Juste une idée.\n\n")


def test_last_character_message():
    assert hints.last_character_message([("user", "a"), ("assistant", "b"), ("user", "c")]) == "b"
    assert hints.last_character_message([("user", "a")]) is None
