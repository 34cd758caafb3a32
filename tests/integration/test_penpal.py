"""Penpal letters on the real stack: written by the workers, held until due, delivered
by beat once, pushed over /api/v1/ws. The stack's replies are due two seconds after the
letter and beat delivers every second (tests/support/stack.py)."""
from __future__ import annotations

import time
from datetime import datetime

import redis

from tests.support.client import EventSocket, Learner, register
from tests.support.signals import published, queued, tasks_finished, wait_out_held_tasks
from tests.support.stack import BIN, WORKER_COMMANDS, Stack
from tests.support.waits import eventually

LETTER = ("Bonjour Camille ! Samedi, je suis allé au marché avec mes amie. "
          "Nous avons acheté des fromages. Et toi, qu'est-ce que tu fais le week-end ?")
INTERVAL, DELAY = 1.0, 2.0  # PENPAL_DELIVERY_INTERVAL_SECONDS, PENPAL_REPLY_DELAY_SECONDS in the stack


def write(learner: Learner, body: str = LETTER, character_id: str = "camille", **fields) -> dict:
    response = learner.post("/api/v1/penpal/letters", {"character_id": character_id, "body": body, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def replies(socket: EventSocket, count: int, timeout: float = 30) -> list[dict]:
    """The next `count` penpal_reply events (other events are skipped)."""
    found = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        event = socket.next_event(max(0.1, deadline - time.monotonic()))
        if event["type"] == "penpal_reply":
            found.append(event)
    return found


def penpal_replies(events: list[dict]) -> list[dict]:
    return [event for event in events if event["type"] == "penpal_reply"]


def assert_answered_once(stack: Stack, learner: Learner, socket: EventSocket, letter_ids: list[str]) -> None:
    """Done, as the system says it: each letter's reply announced, and every job of the
    `default` queue (deliveries, sweeps) running then finished. Then each reply was
    published once, and the socket holds no other penpal_reply than those it gave."""
    with stack.database() as db:
        eventually(lambda: db.execute("SELECT count(announced_at) = %s FROM penpal_letters "
                                      "WHERE in_reply_to = ANY(%s::uuid[])",
                                      (len(letter_ids), letter_ids)).fetchone()[0], "every reply announced")
    wait_out_held_tasks(stack, "default")
    answered = [event["data"]["letter"]["in_reply_to"]
                for event in published(stack, learner.user["id"], "penpal_reply")]
    assert sorted(answered) == sorted(letter_ids), "each reply is published once"
    assert penpal_replies(socket.drain()) == []


def wait_until_default_queue_idle(stack: Stack) -> None:
    """Until no job waits in the `default` queue and those a worker held have finished (with
    beat stopped, no new job comes)."""
    broker = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        eventually(lambda: not queued(broker, "default"), "the default queue empty")
    finally:
        broker.close()
    wait_out_held_tasks(stack, "default")


def reply_row(stack: Stack, letter_id: str) -> tuple:
    """(written, due, delivered) of the letter's reply."""
    with stack.database() as db:
        return db.execute("SELECT body IS NOT NULL, deliver_at < now(), delivered_at IS NOT NULL "
                          "FROM penpal_letters WHERE in_reply_to = %s", (letter_id,)).fetchone()


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_letter_is_answered_once_after_its_delay_over_the_socket_and_in_get(stack, learner):
    with learner.socket("/api/v1/ws") as socket:
        sent = write(learner, subject="Mon week-end")
        letter = sent["letter"]
        assert letter["author"] == "learner" and letter["subject"] == "Mon week-end"
        assert letter["reply_id"] is None and letter["reply_expected_at"] == sent["reply_expected_at"]
        expected_at = moment(sent["reply_expected_at"])
        assert abs((expected_at - moment(letter["sent_at"])).total_seconds() - DELAY) < 0.01

        before = learner.get("/api/v1/penpal/letters").json()["threads"]
        assert [len(t["letters"]) for t in before] == [1] and before[0]["unread_count"] == 0

        [event] = replies(socket, 1)
        reply = event["data"]["letter"]
        published_at = moment(event["ts"])
        assert expected_at <= published_at
        # Within a beat interval of its due time (allowing a busy machine a few more).
        assert (published_at - expected_at).total_seconds() <= 5 * INTERVAL, "late beyond a few beat intervals"
        assert_answered_once(stack, learner, socket, [letter["id"]])

    assert reply["author"] == "character" and reply["in_reply_to"] == letter["id"]
    assert reply["body"].startswith(("Bonjour Test Learner", "Salut Test Learner", "Coucou Test Learner"))
    assert reply["body"].rstrip().endswith("Camille")
    assert [(c["original"], c["correction"]) for c in reply["corrections"]] == [("amie", "amies")]
    assert learner.get(f"/api/v1/penpal/letters/{reply['id']}").json() == reply

    [thread] = learner.get("/api/v1/penpal/letters").json()["threads"]
    assert (thread["character_id"], thread["character_name"], thread["letter_count"], thread["unread_count"]) == \
        ("camille", "Camille", 2, 1)
    assert [entry["id"] for entry in thread["letters"]] == [reply["id"], letter["id"]]  # newest first
    assert thread["letters"][1]["reply_id"] == reply["id"] and thread["letters"][1]["reply_expected_at"] is None

    read = learner.post(f"/api/v1/penpal/letters/{reply['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert learner.post(f"/api/v1/penpal/letters/{reply['id']}/read").json()["read_at"] == read.json()["read_at"]
    assert learner.get("/api/v1/penpal/letters").json()["threads"][0]["unread_count"] == 0


def test_the_reply_remembers_the_thread(learner):
    with learner.socket("/api/v1/ws") as socket:
        write(learner)
        replies(socket, 1)
        write(learner, "Merci pour ta lettre ! Cette semaine, je travaille beaucoup, mais dimanche je vais au cinéma.")
        [second] = replies(socket, 1)
    memory = ("J'aime beaucoup recevoir tes lettres.", "C'est toujours un plaisir de te lire.",
              "Ça me fait plaisir d'avoir de tes nouvelles.")
    assert any(phrase in second["data"]["letter"]["body"] for phrase in memory)


def test_letters_to_several_characters_are_separate_threads_newest_first(learner):
    with learner.socket("/api/v1/ws") as socket:
        write(learner, character_id="camille")
        write(learner, character_id="henri")
        replies(socket, 2)
    threads = learner.get("/api/v1/penpal/letters").json()["threads"]
    assert [t["character_id"] for t in threads] == ["henri", "camille"]
    assert [t["unread_count"] for t in threads] == [1, 1]
    [camille] = learner.get("/api/v1/penpal/letters?character_id=camille&per_thread=1").json()["threads"]
    assert (camille["character_id"], camille["letter_count"], len(camille["letters"])) == ("camille", 2, 1)
    assert camille["letters"][0]["author"] == "character"
    assert learner.get("/api/v1/penpal/letters?per_thread=0").status_code == 422


def test_bad_letters_get_clear_errors_and_change_nothing(learner):
    short = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": "   Salut !   "})
    assert short.status_code == 422
    assert short.json()["error"]["details"]["json"]["body"] == ["A letter has at least 20 characters; this one has 7."]
    long = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": "a" * 5001})
    assert long.json()["error"]["details"]["json"]["body"] == [
        "A letter has at most 5000 characters; this one has 5001."]
    unknown = learner.post("/api/v1/penpal/letters", {"character_id": "nobody", "body": LETTER})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_character")
    subject = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER, "subject": "x" * 121})
    assert subject.status_code == 422
    assert learner.get("/api/v1/penpal/letters").json() == {"threads": []}
    assert learner.get("/api/v1/penpal/letters/not-a-uuid").status_code == 404


def test_another_learners_letters_and_undelivered_replies_are_invisible(stack, learner, other_learner):
    sent = write(learner)
    letter = sent["letter"]
    for path in (f"/api/v1/penpal/letters/{letter['id']}", f"/api/v1/penpal/letters/{letter['id']}/read"):
        response = other_learner.post(path) if path.endswith("/read") else other_learner.get(path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "letter_not_found")
    assert other_learner.get("/api/v1/penpal/letters").json() == {"threads": []}
    # The reply exists as a row from the start, but not for the learner until delivered.
    with stack.database() as conn:
        reply_id = conn.execute("SELECT id FROM penpal_letters WHERE in_reply_to = %s", (letter["id"],)).fetchone()[0]
    early = learner.get(f"/api/v1/penpal/letters/{reply_id}")
    assert datetime.now().astimezone() < moment(sent["reply_expected_at"]), "too slow to see it undelivered"
    assert (early.status_code, early.json()["error"]["code"]) == (404, "letter_not_found")


def test_with_beat_stopped_past_the_due_time_the_reply_comes_once_beat_is_back(stack, learner):
    stack.stop_process("beat")
    try:
        with learner.socket("/api/v1/ws") as socket:
            letter = write(learner)["letter"]
            eventually(lambda: reply_row(stack, letter["id"])[:2] == (True, True), "the reply written and due")
            wait_until_default_queue_idle(stack)  # no delivery job left: beat sends none
            assert reply_row(stack, letter["id"]) == (True, True, False), "delivered without beat"
            assert penpal_replies(socket.drain()) == []
            assert learner.get(f"/api/v1/penpal/letters/{letter['id']}").json()["reply_id"] is None
            stack.start_beat()
            [event] = replies(socket, 1, timeout=30)
            assert_answered_once(stack, learner, socket, [letter["id"]])
    finally:
        if "beat" not in stack.processes:
            stack.start_beat()
    assert event["data"]["letter"]["in_reply_to"] == letter["id"]
    assert learner.get(f"/api/v1/penpal/letters/{letter['id']}").json()["reply_id"] == event["data"]["letter"]["id"]


def test_two_beats_and_two_delivery_workers_never_deliver_twice(stack):
    learners = [register(stack.base_url, stack.ws_url) for _ in range(3)]
    extra = ["beat_2", "worker_default_2"]
    stack.start_beat("beat_2")
    stack.spawn("worker_default_2", [BIN / "celery", "-A", "workers.celery_app", "worker",
                                     *WORKER_COMMANDS["default"], "-n", "default-racer@%h", "--loglevel=INFO"])
    try:
        sockets = [learner.socket("/api/v1/ws") for learner in learners]
        sent = {learner.user["id"]: [write(learner)["letter"]["id"] for _ in range(4)] for learner in learners}
        for learner, socket in zip(learners, sockets):
            events = replies(socket, 4, timeout=40)
            answered = [event["data"]["letter"]["in_reply_to"] for event in events]
            assert sorted(answered) == sorted(sent[learner.user["id"]])
            assert_answered_once(stack, learner, socket, sent[learner.user["id"]])  # none twice
            socket.close()
    finally:
        for name in extra:
            stack.stop_process(name)
    with stack.database() as conn:
        delivered = conn.execute("SELECT count(*), count(announced_at) FROM penpal_letters "
                                 "WHERE author = 'character' AND user_id = ANY(%s::uuid[])",
                                 ([learner.user["id"] for learner in learners],)).fetchone()
    assert delivered == (12, 12)


def test_a_reply_written_after_its_due_time_is_delivered_as_soon_as_it_is_written(stack, learner):
    stack.kill_worker("llm")
    try:
        with learner.socket("/api/v1/ws") as socket:
            letter = write(learner)["letter"]
            eventually(lambda: reply_row(stack, letter["id"])[1], "the reply due")
            # Due, but nobody could write it: delivery jobs that started since find nothing to deliver.
            deliveries_then = tasks_finished(stack, "penpal.deliver")
            eventually(lambda: tasks_finished(stack, "penpal.deliver") >= deliveries_then + 2,
                       "two more delivery jobs finished")
            assert reply_row(stack, letter["id"]) == (False, True, False), "delivered unwritten"
            assert penpal_replies(socket.drain()) == []
            stack.start_worker("llm")
            [event] = replies(socket, 1, timeout=40)
            assert_answered_once(stack, learner, socket, [letter["id"]])
    finally:
        if "worker_llm" not in stack.processes:
            stack.start_worker("llm")
    assert event["data"]["letter"]["in_reply_to"] == letter["id"]
    with stack.database() as conn:
        written_at = conn.execute("SELECT written_at FROM penpal_letters WHERE id = %s",
                                  (event["data"]["letter"]["id"],)).fetchone()[0]
    # Within a beat interval of being written (allowing a busy machine a few more).
    assert 0 <= (moment(event["ts"]) - written_at).total_seconds() < 5 * INTERVAL


def test_a_reply_delivered_by_a_job_that_died_before_announcing_it_is_announced_once(stack, learner):
    with learner.socket("/api/v1/ws") as socket, stack.database() as conn:
        letter = write(learner)["letter"]
        conn.execute("UPDATE penpal_letters SET deliver_at = now() + interval '1 hour' WHERE in_reply_to = %s",
                     (letter["id"],))
        eventually(lambda: reply_row(stack, letter["id"])[0], "the reply written", timeout=20)
        # What a delivery job leaves when it dies between its commit and the publish.
        conn.execute("UPDATE penpal_letters SET deliver_at = now() - interval '1 minute', "
                     "delivered_at = now() - interval '1 minute' WHERE in_reply_to = %s", (letter["id"],))
        [event] = replies(socket, 1)
        # Its announcement flag lost as well: it is announced again, but the event is not
        # published a second time.
        conn.execute("UPDATE penpal_letters SET announced_at = NULL WHERE in_reply_to = %s", (letter["id"],))
        assert_answered_once(stack, learner, socket, [letter["id"]])
        announced = conn.execute("SELECT announced_at FROM penpal_letters WHERE in_reply_to = %s",
                                 (letter["id"],)).fetchone()[0]
    assert event["data"]["letter"]["in_reply_to"] == letter["id"] and announced is not None
