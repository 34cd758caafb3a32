"""The Journey's curriculum and scoring, without the stack."""
from __future__ import annotations

import uuid

from domain import journey
from domain.language import analyse_answer


def given(question_id: str, text: str) -> journey.AnswerInput:
    return journey.AnswerInput(answer_id=uuid.UUID(int=1), user_id=uuid.UUID(int=2),
                               question=journey.question(question_id), answer=text, native_language=None,
                               analysis=analyse_answer(text, "fr"))


def test_every_level_has_units_of_at_least_eight_questions_with_checkable_points():
    units = journey.units()
    assert {unit.level for unit in units} == set(journey.LEVELS)
    assert all(len(unit.questions) >= 8 for unit in units)
    ids = [q.id for unit in units for q in unit.questions]
    assert len(ids) == len(set(ids))
    for unit in units:
        for asked in unit.questions:
            assert asked.prompt and asked.context and asked.min_words > 0
            assert asked.expected and all(point and words for point, words in asked.expected)


def test_the_scoring_prompt_names_the_question_and_its_points():
    request = journey.scoring_request(given("a1-se-presenter-01", "Je m'appelle Alex."))
    assert "{" not in request.system and request.temperature == 0
    assert "Comment tu t'appelles" in request.system and "- says their name" in request.system
    assert request.messages == [{"role": "user", "content": "Je m'appelle Alex."}]


def test_a_complete_correct_answer_scores_high_and_an_off_topic_one_fails():
    good = journey.offline_score(given("a1-se-presenter-01", "Je m'appelle Alex et je viens de Berlin. "
                                                             "J'habite à Paris."))
    assert good[0] >= 95 and good[1]["missing_points"] == [] and "No grammar" in good[1]["feedback"]
    off_topic = journey.offline_score(given("a1-se-presenter-01", "J'aime le football et la musique."))
    assert off_topic[0] < 45 and off_topic[1]["covered_points"] == []


def test_mistakes_and_a_short_answer_cost_points_and_say_why():
    clean = journey.offline_score(given("a1-se-presenter-01", "Je m'appelle Alex et je viens de Berlin."))
    wrong = journey.offline_score(given("a1-se-presenter-01", "Je m'appelle Alex et je vient de Berlin."))
    assert wrong[0] < clean[0]
    assert wrong[1]["corrections"] == [
        {"original": "vient", "correction": "viens", "message": "With “je” the verb is “viens”."}]
    short = journey.offline_score(given("a1-se-presenter-01", "Alex, Berlin."))
    assert "Write a little more: at least 8 words" in short[1]["feedback"]


def test_a_models_score_naming_an_unknown_point_is_rejected():
    asked = given("a1-se-presenter-01", "Je m'appelle Alex.")
    answer = {"score": 80, "feedback": "Bien.", "corrections": [], "covered_points": ["speaks about the weather"]}
    assert journey.model_result(asked, answer) is None
    answer["covered_points"] = ["says their name", "says their name"]
    score, result = journey.model_result(asked, answer)
    assert score == 80 and result["covered_points"] == ["says their name"]
    assert result["missing_points"] == ["says where they come from"]
