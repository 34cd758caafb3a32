"""Two nodes, one system: a second stack (web, every worker family, beat) on the first
one's PostgreSQL and Redis, as `make run-node` starts it, behaves as one Parlons with it.

A learner's socket on node A carries the events of turns node B accepted, whichever
node's workers ran them; both beats deliver a penpal reply once; and when every process
of node B dies at once, mid-reply, every turn it acknowledged completes, once, on A.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import psycopg
import pytest
import websocket

from tests.support.client import EventSocket, Learner, register, turn_result_for
from tests.support.signals import published, tasks_finished
from tests.support.stack import Stack, running_stack
from tests.support.waits import eventually

SENTENCE = "Je suis allé au marché hier avec mes amie."
LETTER = ("Bonjour Camille ! Samedi, je suis allé au marché avec mes amie. "
          "Nous avons acheté des fromages. Et toi, qu'est-ce que tu fais le week-end ?")


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[Stack, Stack]]:
    """Node A with its own servers, node B on A's PostgreSQL and Redis with its own web,
    workers (named apart from A's) and beat."""
    with running_stack("nodes-a") as a:
        with running_stack("nodes-b", database_url=a.env["DATABASE_URL"], redis_url=a.env["REDIS_URL"],
                           node="b", prepare_database=False) as b:
            yield a, b


def through(learner: Learner, node: Stack) -> Learner:
    """The same learner (same tokens) talking to another node."""
    return dataclasses.replace(learner, base_url=node.base_url, ws_url=node.ws_url)


# What the `default` queue carries while nothing else happens: both beats' jobs.
BEAT_JOBS = ("maintenance.sweep", "penpal.deliver")


def unfinished(db: psycopg.Connection, turn_ids: list[str]) -> list[tuple]:
    """What a turn still pending waits for: its stages and outbox entries (for a failure's message)."""
    return db.execute("SELECT t.id::text, t.status, t.grammar IS NOT NULL, t.moderation IS NOT NULL, "
                      "o.kind, o.claims, o.lease_until, o.last_published_at, o.publish_attempts, now() "
                      "FROM turns t LEFT JOIN outbox o ON o.ref_id = t.id "
                      "WHERE t.id = ANY(%s::uuid[]) AND t.status = 'pending'", (turn_ids,)).fetchall()


def next_slow_reply(socket: EventSocket, within: float) -> str | None:
    """The turn id of the first reply_delta at index 2 or more within `within` seconds."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = socket.next_event(left)
        except websocket.WebSocketTimeoutException:
            return None
        if event["type"] == "reply_delta" and event["data"]["index"] >= 2:
            return event["data"]["turn_id"]
    return None


def test_a_socket_on_node_a_gets_the_events_of_turns_node_b_accepted_run_by_either_nodes_workers(nodes):
    a, b = nodes
    learner = register(a.base_url, a.ws_url)
    session = through(learner, b).new_session()
    replies_before = {node.web_port: tasks_finished(node, "turns.respond") for node in (a, b)}

    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        assert socket.next_event()["type"] == "session_ready"
        # Until each node's workers have answered at least one of them (the two llm
        # workers take turns from one queue, so a few turns suffice).
        for _ in range(20):
            response = through(learner, b).send(session["id"], SENTENCE)
            assert response.status_code == 202, response.text
            turn_id = response.json()["turn"]["id"]
            events = socket.until(turn_result_for(turn_id))
            types = {event["type"] for event in events if event["data"].get("turn_id", turn_id) == turn_id}
            assert {"turn_accepted", "grammar_feedback", "moderation_feedback", "reply_delta"} <= types
            assert events[-1]["data"]["turn"]["status"] == "complete"
            answered_by = {node.web_port: tasks_finished(node, "turns.respond") - replies_before[node.web_port]
                           for node in (a, b)}
            if all(answered_by.values()):
                break
    assert all(answered_by.values()), f"one node's llm worker answered every turn: {answered_by}"


def test_with_both_nodes_beats_running_a_penpal_reply_is_delivered_once(nodes):
    a, b = nodes
    assert a.processes["beat"].poll() is None and b.processes["beat"].poll() is None
    learner = register(a.base_url, a.ws_url)

    with learner.socket("/api/v1/ws") as socket:
        response = through(learner, b).post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER})
        assert response.status_code == 201, response.text
        letter = response.json()["letter"]
        event = socket.until(lambda e: e["type"] == "penpal_reply")[-1]
        reply = event["data"]["letter"]
        assert reply["in_reply_to"] == letter["id"]

        # Done, as the system says it: the reply is delivered and announced, and every
        # delivery job that could have seen it due has finished. Each node's default
        # worker runs one job at a time, so once it has finished two more since then, the
        # job it was running then is over. (Counting delivery jobs alone would not do:
        # the two beats send in step, and one worker may get every sweep, the other
        # every delivery.)
        with a.database() as db:
            eventually(lambda: db.execute("SELECT announced_at FROM penpal_letters WHERE id = %s",
                                          (reply["id"],)).fetchone()[0], "the reply is marked announced")
            runs_then = {node.web_port: tasks_finished(node, *BEAT_JOBS) for node in (a, b)}
            eventually(lambda: all(tasks_finished(node, *BEAT_JOBS) >= runs_then[node.web_port] + 2 for node in (a, b)),
                       lambda: f"both default workers ran two more jobs (from {runs_then}: "
                               f"{[tasks_finished(node, *BEAT_JOBS) for node in (a, b)]})")
            replies = db.execute("SELECT id::text, delivered_at FROM penpal_letters WHERE in_reply_to = %s",
                                 (letter["id"],)).fetchall()
        assert [row[0] for row in replies] == [reply["id"]] and replies[0][1] is not None

        announced = [e for e in published(a, learner.user["id"], "penpal_reply")
                     if e["data"]["letter"]["id"] == reply["id"]]
        assert len(announced) == 1, "penpal_reply is published once"
        extra = socket.drain(quiet_for=0.2)  # what the socket holds already: the published one came, and no other
        assert not [e for e in extra if e["type"] == "penpal_reply"]


def test_when_every_process_of_node_b_dies_mid_reply_its_acknowledged_turns_complete_once_on_a(nodes):
    a, b = nodes
    learner = register(a.base_url, a.ws_url)
    session = learner.new_session()
    # B's replies crawl (a chunk every second, some 8 s a reply), so B is surely mid-reply
    # when it dies; A's stay instant.
    b.kill_worker("llm")
    b.start_ready_worker("llm", OFFLINE_REPLY_CHUNK_DELAY_MS="1000", REPLY_DELTA_MIN_INTERVAL_MS="0")

    with learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        socket.next_event()
        turn_ids: list[str] = []
        # The two llm workers take turns from one queue: a few turns reach B's. A reply
        # three deltas in is one of B's (A's arrive in one or two).
        cut_turn = None
        with a.database() as db:
            while cut_turn is None and len(turn_ids) < 20:
                for _ in range(4):
                    response = through(learner, b).send(session["id"], f"{SENTENCE} ({len(turn_ids)})")
                    assert response.status_code == 202, response.text
                    turn_ids.append(response.json()["turn"]["id"])
                candidate = next_slow_reply(socket, within=5)
                # (The socket may lag on a busy machine: the reply must still be going.)
                if candidate and db.execute("SELECT status FROM turns WHERE id = %s",
                                            (candidate,)).fetchone()[0] == "pending":
                    cut_turn = candidate
            assert cut_turn, "no reply caught mid-way on B's llm worker"
            b.kill_all()
        killed_at = datetime.now(timezone.utc)
        socket.until(turn_result_for(cut_turn), timeout=90)
    # Seen live: the replay window drops a reply's deltas once its result is stored.
    attempts = {e["data"]["attempt"] for e in socket.seen
                if e["type"] == "reply_delta" and e["data"]["turn_id"] == cut_turn}
    assert len(attempts) >= 2, "the reply B was streaming was started again on A"

    # Done, as the system says it: no turn pending and none with outbox work left (its
    # stages, its finish, its reviews). Then each turn was finished exactly once.
    with a.database() as db:
        eventually(lambda: not db.execute("SELECT count(*) FROM outbox WHERE ref_id = ANY(%s::uuid[])",
                                          (turn_ids,)).fetchone()[0],
                   lambda: f"every turn finished; still pending: {unfinished(db, turn_ids)}", timeout=60)
        finished = dict(db.execute("SELECT id::text, completed_at FROM turns WHERE id = ANY(%s::uuid[]) "
                                   "AND status = 'complete'", (turn_ids,)).fetchall())
        answers = dict(db.execute("SELECT turn_id::text, count(*) FROM messages WHERE role = 'assistant' "
                                  "AND turn_id = ANY(%s::uuid[]) GROUP BY turn_id", (turn_ids,)).fetchall())
    assert set(finished) == set(turn_ids), "every acknowledged turn is complete"
    assert answers == {turn_id: 1 for turn_id in turn_ids}
    assert all(learner.get(f"/api/v1/turns/{turn_id}").json()["status"] == "complete" for turn_id in turn_ids)

    # Every turn is announced once: one B finished in its last moments, between the
    # commit and the publish, by the sweeper after its grace.
    with a.database() as db:
        eventually(lambda: not db.execute("SELECT count(*) FROM turns WHERE id = ANY(%s::uuid[]) "
                                          "AND announced_at IS NULL", (turn_ids,)).fetchone()[0],
                   "every turn announced", timeout=120)
    announced = Counter(e["data"]["turn"]["id"] for e in published(a, learner.user["id"], "turn_result"))
    assert announced == {turn_id: 1 for turn_id in turn_ids}, "turn_result is published once per turn"
    finished_on_a = {turn_id for turn_id, completed_at in finished.items() if completed_at > killed_at}
    assert cut_turn in finished_on_a, f"{cut_turn} finished at {finished[cut_turn]}, B killed at {killed_at}"
