"""The Journey on the real stack (offline scorer): answers scored by the workers and
pushed as `journey_scored`; units, `next` and progress follow the answers."""
from __future__ import annotations

from domain import journey
from tests.support.client import EventSocket, Learner

GOOD = "Je m'appelle Alex et je viens de Berlin. J'habite à Paris depuis deux ans."
OFF_TOPIC = "J'aime le football et la musique."
FIRST = "a1-se-presenter-01"


def answer(learner: Learner, socket: EventSocket, question_id: str, text: str) -> dict:
    """Answer and wait for the score event; returns the scored answer."""
    response = learner.post(f"/api/v1/journey/questions/{question_id}/answers", {"answer": text})
    assert response.status_code == 202, response.text
    pending = response.json()
    assert (pending["status"], pending["score"], pending["question_id"]) == ("pending", None, question_id)
    [event] = [e for e in socket.until(lambda e: e["type"] == "journey_scored"
                                       and e["data"]["answer"]["id"] == pending["id"]) if e["type"] == "journey_scored"]
    return event["data"]["answer"]


def test_units_and_next_start_at_the_learners_level(learner):
    units = learner.get("/api/v1/journey/units").json()["units"]
    assert len(units) == 15 and [u["level"] for u in units[::3]] == ["A1", "A2", "B1", "B2", "C1"]
    assert all(u["question_count"] == 8 and u["answered_count"] == 0 and not u["passed"] for u in units)
    following = learner.get("/api/v1/journey/next").json()
    assert following["level"] == "A1" and following["question"]["id"] == FIRST
    assert following["question"]["expected_points"] == ["says their name", "says where they come from"]
    learner.patch("/api/v1/auth/me", {"level": "B2"})
    assert learner.get("/api/v1/journey/next").json()["question"]["id"].startswith("b2-")


def test_a_good_answer_is_scored_pushed_and_moves_next_on(learner):
    with learner.socket("/api/v1/ws") as socket:
        scored = answer(learner, socket, FIRST, GOOD)
    assert scored["status"] == "scored" and scored["passed"] and scored["score"] >= 90
    assert scored["covered_points"] == ["says their name", "says where they come from"]
    assert scored["missing_points"] == [] and scored["provider"] == "offline" and not scored["degraded"]
    assert learner.get(f"/api/v1/journey/answers/{scored['id']}").json() == scored
    assert learner.get("/api/v1/journey/next").json()["question"]["id"] == "a1-se-presenter-02"
    progress = learner.get("/api/v1/journey/progress").json()
    assert (progress["answers"], progress["questions_answered"], progress["questions_passed"]) == (1, 1, 1)


def test_a_failed_answer_stays_next_until_a_retry_passes_and_the_best_score_counts(learner):
    with learner.socket("/api/v1/ws") as socket:
        failed = answer(learner, socket, FIRST, OFF_TOPIC)
        assert not failed["passed"] and failed["score"] < journey.PASS_SCORE
        assert failed["covered_points"] == [] and "Still missing" in failed["feedback"]
        assert learner.get("/api/v1/journey/next").json()["question"]["id"] == FIRST
        passed = answer(learner, socket, FIRST, GOOD)
        answer(learner, socket, FIRST, OFF_TOPIC)  # a worse retry does not undo the pass
    unit = learner.get("/api/v1/journey/units").json()["units"][0]
    assert unit["passed_count"] == 1 and unit["average_best_score"] == passed["score"]
    assert learner.get("/api/v1/journey/next").json()["question"]["id"] == "a1-se-presenter-02"
    assert learner.get("/api/v1/journey/progress").json()["answers"] == 3


def test_a_unit_is_passed_when_every_question_is(learner):
    unit = next(u for u in journey.units() if u.id == "a1-se-presenter")
    with learner.socket("/api/v1/ws") as socket:
        for asked in unit.questions:
            # An answer built from each point's first word, long enough for the level.
            text = " ".join(f"Voici le mot {sorted(words)[0]}." for _, words in asked.expected) + \
                " C'est ma réponse pour le cours de français."
            assert answer(learner, socket, asked.id, text)["passed"], asked.id
    units = learner.get("/api/v1/journey/units").json()["units"]
    assert units[0]["passed"] and not units[1]["passed"]
    assert learner.get("/api/v1/journey/next").json()["question"]["id"] == "a1-la-famille-01"
    progress = learner.get("/api/v1/journey/progress").json()
    assert progress["units_passed"] == 1 and progress["by_level"]["A1"]["units_passed"] == 1


def test_bad_answers_get_clear_errors_and_others_answers_are_invisible(learner, other_learner):
    unknown = learner.post("/api/v1/journey/questions/z9-nothing-01/answers", {"answer": GOOD})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "question_not_found")
    blank = learner.post(f"/api/v1/journey/questions/{FIRST}/answers", {"answer": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["details"]["json"]["answer"] == ["Write an answer first."]
    assert learner.get("/api/v1/journey/progress").json()["answers"] == 0
    mine = learner.post(f"/api/v1/journey/questions/{FIRST}/answers", {"answer": GOOD}).json()
    theirs = other_learner.get(f"/api/v1/journey/answers/{mine['id']}")
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "answer_not_found")
    assert other_learner.get("/api/v1/journey/progress").json()["answers"] == 0
