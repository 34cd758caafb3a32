"""Hints: asked for over REST or the socket, produced by the llm worker, pushed as a
`hint` event, kept with the session, invisible to other learners."""
from __future__ import annotations

from tests.support.client import turn_result_for


def _hint_event(hint_id: str):
    return lambda event: event["type"] == "hint" and event["data"]["hint_id"] == hint_id


def test_a_hint_request_is_answered_with_a_hint_event_that_fits_the_last_question(learner):
    session = learner.new_session(level="A1")
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()
    turn = learner.send(session["id"], "Bonjour ! Je m'appelle Anna.").json()["turn"]
    result = socket.until(turn_result_for(turn["id"]))[-1]["data"]["turn"]

    response = learner.post(f"/api/v1/sessions/{session['id']}/hints")

    assert response.status_code == 202, response.text
    pending = response.json()
    assert pending["status"] == "pending" and pending["hints"] == [] and pending["turn_id"] == turn["id"]
    event = socket.until(_hint_event(pending["id"]))[-1]
    assert event["data"]["session_id"] == session["id"] and event["data"]["turn_id"] == turn["id"]
    suggestions = event["data"]["hints"]
    assert 2 <= len(suggestions) <= 3 and len(set(suggestions)) == len(suggestions)
    assert result["assistant_message"]["content"].rstrip().endswith("?"), "the character asked something"

    stored = learner.get(f"/api/v1/sessions/{session['id']}/hints").json()["items"]
    assert [(h["id"], h["status"], h["hints"]) for h in stored] == [(pending["id"], "ready", suggestions)]
    socket.close()


def test_hint_request_frame_on_the_socket(learner):
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()

    socket.send("hint_request", {})

    event = socket.until(lambda e: e["type"] == "hint")[-1]
    assert 2 <= len(event["data"]["hints"]) <= 3
    assert event["data"]["turn_id"] is None, "no turn yet: hints to start the conversation"
    socket.close()


def test_hint_request_frame_on_the_learner_socket_is_an_error(learner):
    socket = learner.socket("/api/v1/ws")
    socket.next_event()
    socket.send("hint_request", {})
    error = socket.until(lambda e: e["type"] == "error")[-1]
    assert error["data"]["code"] == "session_required"
    socket.close()


def test_another_learners_session_hints_are_invisible(learner, other_learner):
    theirs = other_learner.new_session()
    assert learner.post(f"/api/v1/sessions/{theirs['id']}/hints").status_code == 404
    assert learner.get(f"/api/v1/sessions/{theirs['id']}/hints").status_code == 404
    assert other_learner.get(f"/api/v1/sessions/{theirs['id']}/hints").json()["items"] == [], \
        "the refused request stored nothing"
