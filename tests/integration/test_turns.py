"""A learner's turn goes in over HTTP and its result comes back over the socket and by
long-poll, on the real stack."""
from __future__ import annotations

import uuid

from domain.llm.offline import kind_redirect
from tests.support.client import register, turn_result_for

SENTENCE = "Je suis allé au marché hier avec mes amie."


def test_turn_result_arrives_over_the_session_socket_with_every_partial_event(learner):
    session = learner.new_session("camille")
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    ready = socket.next_event()
    assert ready["type"] == "session_ready"
    assert ready["data"]["session"]["id"] == session["id"]
    assert ready["data"]["connected_user_ids"] == [learner.user["id"]]

    response = learner.send(session["id"], SENTENCE)
    assert response.status_code == 202
    turn = response.json()["turn"]
    assert turn["status"] == "pending"
    assert turn["user_message"]["content"] == SENTENCE

    events = socket.until(turn_result_for(turn["id"]))
    by_type = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert by_type["turn_accepted"][0]["data"]["turn"]["id"] == turn["id"]

    grammar = by_type["grammar_feedback"][0]["data"]
    assert grammar["turn_id"] == turn["id"]
    flagged_spans = [SENTENCE[e["start"]:e["end"]] for e in grammar["errors"]]
    assert "amie" in flagged_spans
    assert grammar["corrected_text"] == "Je suis allé au marché hier avec mes amies."

    assert by_type["moderation_feedback"][0]["data"] == {
        "session_id": session["id"], "turn_id": turn["id"], "flagged": False, "categories": [], "source": "local"}

    deltas = sorted(by_type["reply_delta"], key=lambda e: e["data"]["index"])
    streamed = "".join(e["data"]["delta"] for e in deltas)
    result = by_type["turn_result"][0]["data"]["turn"]
    assert result["status"] == "complete"
    assert result["assistant_message"]["content"] == streamed
    assert streamed.rstrip().endswith("?"), "the reply asks a follow-up question"
    assert "amies" in streamed, "the reply recasts the learner's mistake"
    assert result["xp_awarded"] > 0
    # Stream ids only grow, so a client can resume from the last one it saw.
    ids = [e["id"] for e in events if not e["id"].startswith("x-")]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    socket.close()


def test_long_poll_returns_the_finished_turn(learner):
    session = learner.new_session("lucas")
    turn = learner.send(session["id"], "Nous mange une pizza ce soir.").json()["turn"]

    finished = learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()

    assert finished["status"] == "complete"
    assert finished["assistant_message"]["content"]
    assert finished["grammar"]["corrected_text"] == "Nous mangeons une pizza ce soir."
    overview = learner.get(f"/api/v1/sessions/{session['id']}").json()
    assert overview["turn_count"] == 1
    assert overview["xp"] == finished["xp_awarded"]


def test_resubmitted_client_message_id_returns_the_same_turn(learner):
    session = learner.new_session()
    client_id = uuid.uuid4().hex

    first = learner.send(session["id"], "Bonjour !", client_message_id=client_id)
    second = learner.send(session["id"], "Bonjour !", client_message_id=client_id)

    assert first.status_code == second.status_code == 202
    assert first.json()["turn"]["id"] == second.json()["turn"]["id"]
    learner.get(f"/api/v1/turns/{first.json()['turn']['id']}", params={"wait": 20})
    history = learner.get(f"/api/v1/sessions/{session['id']}/messages").json()
    assert [m["role"] for m in history["items"]] == ["assistant", "user", "assistant"], "the greeting, then the turn"


def test_message_sent_over_the_socket_is_a_turn_like_any_other(learner):
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()

    socket.send("user_message", {"content": "Je vont à la plage.", "client_message_id": "ws-1"})
    accepted = socket.until(lambda e: e["type"] == "turn_accepted")[-1]["data"]["turn"]
    result = socket.until(turn_result_for(accepted["id"]))[-1]["data"]["turn"]

    assert result["status"] == "complete"
    assert result["user_message"]["content"] == "Je vont à la plage."
    socket.close()


def test_flagged_message_gets_a_kind_redirect_not_an_in_character_reply(learner):
    session = learner.new_session()
    turn = learner.send(session["id"], "T'es un connard.").json()["turn"]

    finished = learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()

    assert finished["moderation"]["flagged"] is True
    assert "harassment" in finished["moderation"]["categories"]
    assert finished["status"] == "complete"
    assert finished["xp_awarded"] == 0
    redirect = kind_redirect("fr", learner.user["level"], turn["id"])
    assert finished["assistant_message"]["content"] == redirect, "a redirect, not the character's reply"


def test_grammar_feedback_speaks_the_learners_native_language(stack):
    spanish = register(stack.base_url, stack.ws_url, native_language="es")
    session = spanish.new_session("camille")
    with spanish.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        turn = spanish.send(session["id"], SENTENCE).json()["turn"]
        events = socket.until(turn_result_for(turn["id"]))
    [grammar] = [event["data"] for event in events if event["type"] == "grammar_feedback"]
    assert [error["message"] for error in grammar["errors"]] == [
        "Después de «mes» el sustantivo va en plural: «amies»."]
