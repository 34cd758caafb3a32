"""Word feedback: which vocabulary words a message used, and how."""
from dataclasses import dataclass

from domain.language import analyse_message, grammar, words


@dataclass(frozen=True)
class Word:
    id: int
    lemma: str
    suggested: bool = True
    known: bool = False


def feedback(text: str, *vocabulary: Word) -> dict[str, dict]:
    def find_words(lemmas: set[str]) -> list[Word]:
        return [word for word in vocabulary if word.suggested or word.lemma in lemmas]

    result = analyse_message(text, "fr", find_words=find_words)
    return {entry["lemma"]: entry for entry in result["word_feedback"]}


def test_a_word_used_in_any_form_without_an_error_is_used_correctly():
    found = feedback("Mes amies chantent et nous avons acheté des pommes.",
                     Word(1, "ami"), Word(2, "chanter"), Word(3, "acheter"), Word(4, "pomme"))
    assert {lemma: entry["usage"] for lemma, entry in found.items()} == {
        "ami": "used_correctly", "chanter": "used_correctly", "acheter": "used_correctly", "pomme": "used_correctly"}
    assert found["pomme"]["spans"] == [[44, 50]]
    assert found["pomme"]["errors"] == []


def test_a_word_inside_an_error_is_used_with_that_error():
    found = feedback("Je vais au marché avec mes amie.", Word(1, "ami"), Word(2, "marché"))
    assert found["ami"]["usage"] == "used_with_error"
    assert [(e["category"], e["suggestions"][0]) for e in found["ami"]["errors"]] == [("number_agreement", "amies")]
    assert found["marché"]["usage"] == "used_correctly"


def test_a_misspelt_word_counts_as_the_word_the_learner_meant():
    found = feedback("Elle est tres gentille.", Word(1, "très"))
    assert found["très"]["usage"] == "used_with_error"
    assert found["très"]["errors"][0]["category"] == "spelling"


def test_a_suggested_word_the_learner_did_not_use_is_not_used():
    found = feedback("Bonjour, je vais bien.", Word(1, "chien"))
    assert found["chien"] == {"word_id": 1, "lemma": "chien", "suggested": True, "known": False, "spans": [],
                              "usage": "not_used", "errors": []}


def test_a_multi_word_entry_is_found_as_a_whole():
    found = feedback("J'aime la pomme de terre.", Word(1, "pomme de terre"))
    assert found["pomme de terre"]["spans"] == [[10, 24]]


def test_known_words_are_looked_up_by_the_lemmas_of_the_message():
    doc = grammar.parse("Nous sommes allées chez mes grands-parents.")
    candidates = words.lemma_candidates(doc)
    assert {"être", "aller", "grands-parents", "mon", "chez"} <= candidates


def test_spaCys_lemma_decides_between_two_verbs_with_the_same_form():
    doc = grammar.parse("Je suis content.")
    assert "suivre" not in words.readings(doc[1]) and "être" in words.readings(doc[1])


def test_the_learners_known_word_is_not_reported_as_misspelt():
    text = "Elle est tres gentille."
    assert analyse_message(text, "fr")["errors"]
    result = analyse_message(text, "fr", find_words=lambda lemmas: [Word(9, "tres", suggested=False, known=True)])
    assert result["errors"] == [] and result["corrected_text"] == text


def test_reassessing_after_more_errors_changes_the_usage():
    found = feedback("Nous mangeons une pomme.", Word(1, "pomme"))
    [entry] = words.reassess(found.values(), [{"start": 18, "end": 23, "category": "gender_agreement",
                                               "message": "", "suggestions": ["pommes"]}])
    assert entry["usage"] == "used_with_error"


def test_a_message_in_another_language_gets_no_word_feedback():
    assert analyse_message("Hola, ¿qué tal?", "es", find_words=lambda lemmas: [Word(1, "hola")]) == {
        "errors": [], "corrected_text": None, "word_feedback": []}
