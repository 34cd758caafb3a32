"""Sockets: authentication, replay after a disconnect, typing, bad frames."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support.client import close_code, turn_result_for

POLICY_VIOLATION = 1008


def test_socket_without_token_or_with_a_bad_one_closes_with_1008(stack, learner):
    assert close_code(f"{stack.ws_url}/api/v1/ws") == POLICY_VIOLATION
    assert close_code(f"{stack.ws_url}/api/v1/ws?token=not-a-jwt") == POLICY_VIOLATION
    # A refresh token is not an access token.
    assert close_code(f"{stack.ws_url}/api/v1/ws?token={learner.refresh_token}") == POLICY_VIOLATION


def test_socket_on_another_learners_session_closes_with_1008(stack, learner, other_learner):
    theirs = other_learner.new_session()
    url = f"{stack.ws_url}/api/v1/sessions/{theirs['id']}/ws?token={learner.access_token}"
    assert close_code(url) == POLICY_VIOLATION


def test_replay_from_last_event_id_sends_missed_events_once(learner):
    session = learner.new_session()
    socket = learner.socket("/api/v1/ws")
    socket.next_event()
    first = learner.send(session["id"], "Bonjour, je m'appelle Anna.").json()["turn"]
    seen = socket.until(turn_result_for(first["id"]))
    last_id = seen[-1]["id"]
    socket.close()

    # While disconnected, another turn runs to completion.
    second = learner.send(session["id"], "J'habite à Lyon.").json()["turn"]
    assert learner.get(f"/api/v1/turns/{second['id']}", params={"wait": 20}).json()["status"] == "complete"

    resumed = learner.socket("/api/v1/ws", last_event_id=last_id)
    assert resumed.next_event()["type"] == "session_ready"
    replayed = resumed.until(turn_result_for(second["id"]))
    # (The first turn also unlocks an achievement, published a moment later, maybe while
    # disconnected: a learner event of its own, rightly replayed; this test is about turns.)
    stored = [e for e in replayed if not e["id"].startswith("x-") and e["type"] != "achievement_unlocked"]
    ids = [e["id"] for e in stored]
    assert len(ids) == len(set(ids)), "no event is sent twice"
    assert all(e["data"].get("turn_id", e["data"].get("turn", {}).get("id")) == second["id"] for e in stored), \
        "nothing from before last_event_id is replayed"
    assert {e["type"] for e in stored} == {"turn_accepted", "grammar_feedback", "moderation_feedback",
                                           "turn_result"}, "a finished reply's deltas are not replayed"
    assert stored[-1]["data"]["turn"]["assistant_message"]["content"], "the result carries the whole reply"
    resumed.close()


def test_typing_is_rebroadcast_to_the_sessions_other_sockets_only(learner):
    session = learner.new_session()
    typist = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    watcher = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    typist.next_event(), watcher.next_event()

    typist.send("typing", {"is_typing": True})

    typing = watcher.until(lambda e: e["type"] == "typing")[-1]
    assert typing["data"] == {"session_id": session["id"], "user_id": learner.user["id"], "is_typing": True}
    typist.send("heartbeat", {})
    assert typist.next_event()["type"] == "heartbeat", "the typist does not get its own typing notice back"
    typist.close(), watcher.close()


def test_bad_frames_get_an_error_event_and_the_socket_stays_open(learner):
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()

    socket.connection.send("this is not json")
    assert socket.next_event()["data"]["code"] == "malformed_frame"
    socket.send("user_message", {"content": ""})
    error = socket.next_event()
    assert error["type"] == "error" and error["data"]["code"] == "validation_error"
    assert "content" in error["data"]["details"]
    socket.send("dance", {})
    assert socket.next_event()["data"]["code"] == "unknown_type"
    socket.send("heartbeat", {})
    assert socket.next_event()["type"] == "heartbeat"
    socket.close()


def test_the_seed_clients_flat_frames_work_as_written(learner):
    session = learner.new_session()
    client = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    watcher = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    client.next_event(), watcher.next_event()

    client.send_text('{ "type": "user_message", "content": "J\'adore les baguettes!", "suggested_words": [123, 456] }')
    accepted = client.until(lambda e: e["type"] in ("turn_accepted", "error"))[-1]
    assert accepted["type"] == "turn_accepted", accepted
    turn = accepted["data"]["turn"]
    result = client.until(turn_result_for(turn["id"]))[-1]["data"]["turn"]
    assert result["status"] == "complete" and result["assistant_message"]["content"]
    suggested = {entry["word_id"] for entry in result["word_feedback"] if entry["suggested"]}
    assert suggested == {123, 456}, "the suggested words are the frame's"

    client.send_text('{ "type": "typing", "is_typing": true }')
    typing = watcher.until(lambda e: e["type"] == "typing")[-1]
    assert typing["data"]["is_typing"] is True and typing["data"]["session_id"] == session["id"]

    client.send_text('{ "type": "heartbeat" }')
    beat = client.until(lambda e: e["type"] in ("heartbeat", "error") and e["data"])[-1]
    assert beat["type"] == "heartbeat", beat
    server_time = datetime.fromisoformat(beat["data"]["server_time"])
    assert abs(server_time - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert not [e for e in client.seen if e["type"] == "error"]
    client.close(), watcher.close()
