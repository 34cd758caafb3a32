"""Per-learner quotas on the real stack: past a quota a request is a 429 in the error
format with Retry-After, and nothing is stored or enqueued; sockets and long-polls are
capped per learner; `flask users set-quota` changes one learner's limits. (The token
budget, which needs models, is in test_llm_end_to_end.py.)"""
from __future__ import annotations

import threading
import uuid

import pytest
import redis
import requests
import websocket

from tests.support.client import EventSocket, close_code, turn_result_for
from tests.support.waits import eventually

LETTER = "Bonjour Camille ! Samedi, je suis allé au marché avec mes amies. Et toi ?"


def set_quota(stack, email: str, *flags: str) -> str:
    result = stack.flask("users", "set-quota", email, *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout


def count(stack, sql: str, *params) -> int:
    with stack.database() as conn:
        return conn.execute(sql, params).fetchone()[0]


def assert_quota_exceeded(response: requests.Response, quota: str) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded" and error["details"]["quota"] == quota
    assert int(response.headers["Retry-After"]) >= 1
    assert error["details"]["retry_after_seconds"] == int(response.headers["Retry-After"])


def test_a_turn_past_the_minutes_quota_is_429_and_nothing_is_stored_or_started(stack, learner):
    set_quota(stack, learner.email, "--turns-per-minute", "2")
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    socket.next_event()
    accepted = [learner.send(session["id"], f"Bonjour, numéro {n}.") for n in range(2)]
    assert [r.status_code for r in accepted] == [202, 202]

    refused = learner.send(session["id"], "Un message de trop.")
    assert_quota_exceeded(refused, "turns_per_minute")
    socket.send("user_message", {"content": "Et un autre par le socket."})

    socket.send("heartbeat", {})
    socket.until(lambda e: e["type"] == "heartbeat")  # the frames before it are answered
    for response in accepted:
        if not any(map(turn_result_for(response.json()["turn"]["id"]), socket.seen)):
            socket.until(turn_result_for(response.json()["turn"]["id"]))
    frame_error = next(e["data"] for e in socket.seen if e["type"] == "error")
    assert frame_error["code"] == "quota_exceeded" and frame_error["details"]["quota"] == "turns_per_minute"
    started = [e["data"]["turn"]["id"] for e in socket.seen if e["type"] == "turn_accepted"]
    assert sorted(started) == sorted(r.json()["turn"]["id"] for r in accepted)
    assert count(stack, "SELECT count(*) FROM turns WHERE user_id = %s AND kind = 'message'", learner.user["id"]) == 2
    assert count(stack, "SELECT count(*) FROM outbox WHERE ref_id IN (SELECT id FROM turns WHERE user_id = %s)",
                 learner.user["id"]) == 0
    contents = [m["content"] for m in learner.get(f"/api/v1/sessions/{session['id']}/messages").json()["items"]
                if m["role"] == "user"]
    assert contents == ["Bonjour, numéro 0.", "Bonjour, numéro 1."]
    socket.close()


def _hint(learner):
    session = learner.new_session()
    return lambda: learner.post(f"/api/v1/sessions/{session['id']}/hints")


def _transcript(learner):
    session = learner.new_session(mode="sandbox")
    return lambda: learner.post(f"/api/v1/sessions/{session['id']}/transcripts",
                                {"role": "assistant", "text": "Salut ! Ça va ?"})


def _letter(learner):
    return lambda: learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER})


def _journey_answer(learner):
    question = learner.get("/api/v1/journey/next").json()["question"]
    return lambda: learner.post(f"/api/v1/journey/questions/{question['id']}/answers",
                                {"answer": "Je m'appelle Léa et j'habite à Lyon avec ma sœur."})


def _language_check(learner):
    return lambda: learner.post("/api/v1/language/check", {"text": "Je suis allé au marché."})


# (action, how to make one request, what it stores: a count of the learner's rows)
LIMITED = {
    "hints": (_hint, "SELECT count(*) FROM hints h JOIN chat_sessions s ON s.id = h.session_id WHERE s.user_id = %s"),
    "transcripts": (_transcript, "SELECT count(*) FROM transcript_segments t JOIN chat_sessions s "
                                 "ON s.id = t.session_id WHERE s.user_id = %s"),
    "letters": (_letter, "SELECT count(*) FROM penpal_letters WHERE user_id = %s AND author = 'learner'"),
    "journey_answers": (_journey_answer, "SELECT count(*) FROM journey_answers WHERE user_id = %s"),
    "language_checks": (_language_check, None),
}


@pytest.mark.parametrize("action", LIMITED)
def test_each_limited_endpoint_is_429_past_its_quota_and_stores_nothing(stack, learner, action):
    make_request, stored_rows = LIMITED[action]
    set_quota(stack, learner.email, f"--{action.replace('_', '-')}-per-day", "1")
    request = make_request(learner)

    first = request()
    assert first.status_code in (200, 201, 202), first.text
    assert_quota_exceeded(request(), f"{action}_per_day")
    if stored_rows:
        assert count(stack, stored_rows, learner.user["id"]) == 1


def test_set_quota_raises_a_learners_limit(stack, learner):
    set_quota(stack, learner.email, "--turns-per-minute", "1")
    session = learner.new_session()
    assert learner.send(session["id"], "Premier message.").status_code == 202
    assert_quota_exceeded(learner.send(session["id"], "Deuxième message."), "turns_per_minute")

    listing = set_quota(stack, learner.email, "--turns-per-minute", "5")
    assert any(line.split() == ["turns_per_minute", "5", "set"] for line in listing.splitlines()), listing

    def sent() -> requests.Response | None:
        response = learner.send(session["id"], "Deuxième message.")
        return response if response.status_code != 429 else None

    # Every process reads it again within QUOTA_OVERRIDE_CACHE_SECONDS (1 s).
    response = eventually(sent, "the raised quota applies", timeout=10, interval=0.2)
    assert response.status_code == 202

    reset = set_quota(stack, learner.email, "--reset", "turns_per_minute")
    assert any(line.split() == ["turns_per_minute", "1000", "default"] for line in reset.splitlines()), reset


def test_set_quota_for_an_unknown_account_fails(stack):
    result = stack.flask("users", "set-quota", "nobody-here@example.com", "--turns-per-day", "5")
    assert result.returncode != 0 and "nobody-here@example.com" in result.stderr


def test_a_socket_past_the_learners_cap_is_closed_with_4429(stack, learner):
    set_quota(stack, learner.email, "--sockets", "2")
    url = f"{stack.ws_url}/api/v1/ws?token={learner.access_token}"
    held = [EventSocket(websocket.create_connection(url, timeout=15)) for _ in range(2)]
    for socket in held:
        assert socket.next_event()["type"] == "session_ready"

    assert close_code(url) == 4429

    held.pop().close()
    # The server frees the slot once it has seen the close.
    code = eventually(lambda: (code := _opens_or_close_code(url)) != 4429 and code,
                      "the closed socket's slot is freed", timeout=10, interval=0.2)
    assert code == "open"
    held[0].close()


def _opens_or_close_code(url: str):
    connection = websocket.create_connection(url, timeout=10)
    try:
        opcode, frame = connection.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big")
        return "open"
    finally:
        connection.close()


def test_a_long_poll_past_the_learners_cap_is_429(stack, learner):
    set_quota(stack, learner.email, "--long-polls", "1")
    session = learner.new_session()
    turn_id = _pending_turn(stack, learner, session["id"])
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(
        learner.get(f"/api/v1/turns/{turn_id}", params={"wait": 6})))
    waiting.start()
    slots = redis.Redis.from_url(stack.env["REDIS_URL"])
    # Generous: a busy machine may take seconds to start it.
    eventually(lambda: slots.zcard(f"parlons:quota:long_polls:{learner.user['id']}"),
               "the first long-poll takes its slot", timeout=30, interval=0.05)

    second = learner.get(f"/api/v1/turns/{turn_id}", params={"wait": 0.5})
    assert second.status_code == 429, second.text
    assert second.json()["error"]["code"] == "too_many_long_polls"
    assert int(second.headers["Retry-After"]) >= 1
    assert learner.get(f"/api/v1/turns/{turn_id}").status_code == 200, "a plain read is no long-poll"

    waiting.join()
    assert answers[0].status_code == 200, "the first long-poll waited its time and answered"
    assert learner.get(f"/api/v1/turns/{turn_id}", params={"wait": 0.5}).status_code == 200


def _pending_turn(stack, learner, session_id: str) -> str:
    """A turn that stays pending (no outbox entry: no worker takes it), due in an hour."""
    turn_id = str(uuid.uuid4())
    with stack.database() as conn:
        conn.execute("""
            INSERT INTO turns (id, session_id, user_id, status, suggested_word_ids, word_feedback, xp_awarded,
                               degraded, created_at, deadline_at)
            VALUES (%s, %s, %s, 'pending', '[]', '[]', 0, false, now(), now() + interval '1 hour')
        """, (turn_id, session_id, learner.user["id"]))
    return turn_id
