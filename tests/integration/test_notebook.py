"""The error notebook on the real stack: every finished turn's mistakes are counted per
learner and pattern; a mistake made in two turns becomes an error card that is due at
once, listed in /notebook/queue and reviewed (with a drill answer checked by the
analyzer); one mistake made once stays watching; another learner's pattern is a 404."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from domain import notebook
from domain.config import Settings
from tests.support.client import Learner, assert_error
from tests.support.waits import eventually

KEY = "contraction_elision:je ai→j'ai"  # "je ai": the French rules always catch it (see POST /language/check)


def _finished_turn(learner: Learner, session_id: str, content: str) -> dict:
    turn = learner.send(session_id, content).json()["turn"]
    return eventually(lambda: (found := learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 10}).json())
                      ["status"] != "pending" and found, f"turn {turn['id']} finished")


def _pattern(learner: Learner, key: str = KEY, **params) -> dict | None:
    page = learner.get("/api/v1/notebook", params=params).json()
    return next((item for item in page["items"] if item["key"] == key), None)


def _counted(learner: Learner, occurrences: int, key: str = KEY) -> dict:
    return eventually(lambda: (found := _pattern(learner, key)) and found["occurrences"] == occurrences and found,
                      lambda: f"{key} counted {occurrences} times: {_pattern(learner, key)}")


@pytest.fixture
def error_card(learner: Learner) -> dict:
    """The learner made "je ai" in two turns: the error card, as the queue lists it."""
    session = learner.new_session()
    assert _finished_turn(learner, session["id"], "Hier, je ai mangé une pomme.")["status"] == "complete"
    _counted(learner, 1)
    assert _finished_turn(learner, session["id"], "Je ai un chat noir.")["status"] == "complete"
    _counted(learner, 2)
    queue = learner.get("/api/v1/notebook/queue").json()["items"]
    assert [card["key"] for card in queue] == [KEY]
    return queue[0]


def test_a_repeated_mistake_creates_an_error_card_in_the_queue_that_is_reviewed(learner: Learner, error_card: dict):
    assert error_card["state"] == "card" and error_card["occurrences"] == 2
    assert error_card["wrong"].lower() == "je ai" and error_card["fix"].lower() == "j'ai"
    assert "j'ai" in error_card["explanation"].lower(), "the rule's message, as the grammar stage gave it"
    assert error_card["card"]["state"] == "learning" and error_card["card"]["reps"] == 0
    newest_first = ["Je ai un chat noir.", "Hier, je ai mangé une pomme."]
    assert [example["text"] for example in error_card["examples"]] == newest_first

    reviewed = learner.post("/api/v1/notebook/review", {"pattern_id": error_card["id"], "rating": 2})

    assert reviewed.status_code == 200, reviewed.text
    result = reviewed.json()
    assert result["state"] == "card" and result["rating"] == 2 and result["check"] is None
    assert result["card"]["reps"] == 1
    assert datetime.fromisoformat(result["card"]["due"]) > datetime.fromisoformat(error_card["card"]["due"])
    assert learner.get("/api/v1/notebook/queue").json()["items"] == [], "not due again yet"
    assert _pattern(learner)["card"] == result["card"]


def test_a_drill_answer_is_checked_by_the_analyzer(learner: Learner, error_card: dict):
    wrong = learner.post("/api/v1/notebook/review",
                         {"pattern_id": error_card["id"], "rating": 3, "answer": "Je ai faim."})
    assert wrong.status_code == 200, wrong.text
    assert wrong.json()["check"]["correct"] is False and wrong.json()["rating"] == 0, "a wrong answer is again"
    assert [error["category"] for error in wrong.json()["check"]["errors"]] == ["contraction_elision"]

    review_id = f"drill-{uuid.uuid4().hex[:8]}"
    right = learner.post("/api/v1/notebook/review", {"pattern_id": error_card["id"], "rating": 2,
                                                     "answer": "J'ai faim.", "client_review_id": review_id})
    assert right.status_code == 200, right.text
    assert right.json()["check"] == {"correct": True, "errors": []} and right.json()["rating"] == 2
    again = learner.post("/api/v1/notebook/review", {"pattern_id": error_card["id"], "rating": 2,
                                                     "answer": "J'ai faim.", "client_review_id": review_id})
    assert again.json() == right.json(), "a resent review is applied once"
    assert _pattern(learner)["card"]["reps"] == 2


def test_another_learners_pattern_is_not_found(learner: Learner, other_learner: Learner, error_card: dict):
    for body in ({"pattern_id": error_card["id"], "rating": 2},
                 {"pattern_id": error_card["id"], "rating": 2, "answer": "J'ai faim."}):
        assert_error(other_learner.post("/api/v1/notebook/review", body), 404, "pattern_not_found")
    assert other_learner.get("/api/v1/notebook").json()["items"] == []
    assert other_learner.get("/api/v1/notebook/queue").json()["items"] == []
    assert _pattern(learner)["card"]["reps"] == 0, "nothing changed"


def test_a_mistake_made_once_stays_watching_and_is_no_card(learner: Learner):
    session = learner.new_session()
    _finished_turn(learner, session["id"], "Mes amie sont gentilles.")
    key = "number_agreement:amie→amies"
    watching = _counted(learner, 1, key)
    assert watching["state"] == "watching" and watching["card"] is None
    assert watching["examples"][0]["text"] == "Mes amie sont gentilles."
    assert learner.get("/api/v1/notebook/queue").json()["items"] == []
    assert _pattern(learner, key, state="watching") is not None and _pattern(learner, key, state="card") is None
    assert_error(learner.post("/api/v1/notebook/review", {"pattern_id": watching["id"], "rating": 2}),
                 409, "not_an_error_card")
    assert learner.get("/api/v1/notebook", params={"state": "nope"}).status_code == 422
    assert_error(learner.post("/api/v1/notebook/review", {"pattern_id": watching["id"], "rating": 4}), 422)


@pytest.fixture
def database(stack) -> Iterator[Session]:
    """A session on the stack's own database, for what the API does not show."""
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with Session(engine) as db:
            yield db
    finally:
        engine.dispose()


def test_the_reply_is_told_about_a_mistake_the_learner_keeps_making(
        database: Session, learner: Learner, error_card: dict):
    """The reply stage's one query (domain/turn_pipeline.py respond)."""
    message = "Alors je ai dit non."
    errors = [{"start": 6, "end": 11, "category": "contraction_elision", "message": "", "suggestions": ["j'ai"]}]
    user_id = uuid.UUID(learner.user["id"])
    repeated = notebook.repeated_patterns(database, user_id=user_id, errors=errors, text=message)
    assert [(pattern.key, pattern.wrong) for pattern in repeated] == [(KEY, "je ai")]
    assert notebook.repeated_patterns(database, user_id=uuid.uuid4(), errors=errors, text=message) == []


def test_recording_a_turn_again_counts_nothing(database: Session, learner: Learner, error_card: dict):
    for example in error_card["examples"]:
        assert notebook.record(database, Settings(), turn_id=uuid.UUID(example["turn_id"])) == []
    database.commit()
    assert _pattern(learner)["occurrences"] == 2


def test_a_card_long_unseen_and_reviewed_well_retires_until_the_mistake_comes_back(
        database: Session, learner: Learner, error_card: dict):
    # As if the mistake was last made two months ago and the card has been in review since,
    # remembered for 30 days (the API cannot make time pass).
    database.execute(text("""
        UPDATE error_patterns SET last_seen_at = now() - interval '60 days', card_state = 2, step = NULL,
               stability = 30, difficulty = 5, last_review = now() - interval '30 days', due = now(), reps = 3
        WHERE id = :pattern_id
    """), {"pattern_id": error_card["id"]})
    database.commit()

    reviewed = learner.post("/api/v1/notebook/review", {"pattern_id": error_card["id"], "rating": 3})

    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["state"] == "retired" and reviewed.json()["card"]["stability"] >= 21
    assert learner.get("/api/v1/notebook/queue").json()["items"] == []
    assert _pattern(learner, state="retired")["id"] == error_card["id"]
    assert_error(learner.post("/api/v1/notebook/review", {"pattern_id": error_card["id"], "rating": 3}),
                 409, "not_an_error_card")

    session = learner.new_session()
    _finished_turn(learner, session["id"], "Ce matin je ai bu un café.")
    back = _counted(learner, 3)
    assert back["state"] == "card" and back["card"]["state"] == "review"
    assert [card["id"] for card in learner.get("/api/v1/notebook/queue").json()["items"]] == [error_card["id"]]
