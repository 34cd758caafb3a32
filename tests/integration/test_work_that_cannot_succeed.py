"""Work that cannot succeed stops (dead letters), and a turn's final event survives a
Redis outage between the commit and the publish (the sweeper announces it again).

Both use a PostgreSQL trigger on one fresh learner's turns as the fault: the database
refuses (or holds) that learner's writes, as a poisoned row or a stalled disk would,
and nobody else's.
"""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.client import turn_result_for
from tests.support.signals import published, tasks_finished
from tests.support.waits import eventually


def _trigger(stack, name: str, user_id: str, when: str, then: str) -> None:
    with stack.database() as conn:
        conn.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.user_id = '{uuid.UUID(user_id)}' AND {when} THEN {then}; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {name} BEFORE UPDATE ON turns FOR EACH ROW EXECUTE FUNCTION {name}();
        """)


def _drop_trigger(stack, name: str) -> None:
    with stack.database() as conn:
        conn.execute(f"DROP TRIGGER IF EXISTS {name} ON turns; DROP FUNCTION IF EXISTS {name}();")


def test_a_turn_whose_work_always_fails_is_given_up_after_n_attempts_and_fails_once(stack, learner):
    # The sweeper (on `default`) gives up after three attempts here.
    stack.stop_process("worker_default")
    stack.start_worker("default", OUTBOX_MAX_ATTEMPTS="3")
    name = f"refuse_grammar_{uuid.uuid4().hex[:8]}"
    _trigger(stack, name, learner.user["id"], "NEW.grammar IS NOT NULL AND OLD.grammar IS NULL",
             "RAISE EXCEPTION 'this row is refused'")
    try:
        session = learner.new_session()
        socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
        socket.next_event()
        turn = learner.send(session["id"], "Je voudrais un café, s'il vous plaît.").json()["turn"]

        events = socket.until(turn_result_for(turn["id"]), timeout=90)
        result = events[-1]["data"]["turn"]
        assert result["status"] == "failed"
        assert result["error"]["code"] == "processing_failed"

        with stack.database() as conn:
            entry_id, attempts, dead_at, reason = conn.execute(
                "SELECT id, publish_attempts, dead_at, dead_reason FROM outbox WHERE kind = 'turn' AND ref_id = %s",
                (turn["id"],)).fetchone()
        assert dead_at is not None and attempts == 3, (attempts, reason)
        assert "OUTBOX_MAX_ATTEMPTS 3" in reason

        metrics = requests.get(f"{stack.base_url}/metrics", timeout=10).text
        assert any(line.startswith('parlons_outbox_dead{kind="turn"}') and float(line.split()[-1]) >= 1
                   for line in metrics.splitlines()), "the dead entry shows in /metrics"
        listed = stack.flask("outbox", "list", "--dead")
        assert listed.returncode == 0, listed.stderr
        assert turn["id"] in listed.stdout

        # It stays dead: sent no more by the sweeps that follow, and the turn's result is
        # announced once.
        sweeps_then = tasks_finished(stack, "maintenance.sweep")
        eventually(lambda: tasks_finished(stack, "maintenance.sweep") >= sweeps_then + 3, "three more sweeps",
                   timeout=60)
        with stack.database() as conn:
            assert conn.execute("SELECT publish_attempts FROM outbox WHERE id = %s",
                                (entry_id,)).fetchone()[0] == 3
        assert [e["data"]["turn"]["id"] for e in published(stack, learner.user["id"], "turn_result")] == [turn["id"]]
        socket.drain()
        assert [e["type"] for e in socket.seen].count("turn_result") == 1

        # Revived after the fault is gone: sent again, and the entry of a turn that has
        # failed meanwhile has nothing left to do, so it goes.
        _drop_trigger(stack, name)
        retried = stack.flask("outbox", "retry", str(entry_id))
        assert retried.returncode == 0, retried.stderr
        with stack.database() as conn:
            eventually(lambda: conn.execute("SELECT count(*) FROM outbox WHERE id = %s",
                                            (entry_id,)).fetchone()[0] == 0, "the revived entry is done", timeout=60)
        assert "no dead outbox entry" in stack.flask("outbox", "retry", str(entry_id)).stderr
        socket.close()
    finally:
        _drop_trigger(stack, name)
        stack.stop_process("worker_default")
        stack.start_worker("default")


def test_turn_result_lost_to_a_redis_outage_after_the_commit_is_announced_again(stack, learner):
    if stack.redis_server is None:
        pytest.skip("needs the embedded Redis to stop and start it")
    name = f"hold_finish_{uuid.uuid4().hex[:8]}"
    # The finish waits in the database long enough for Redis to go away before it commits.
    _trigger(stack, name, learner.user["id"], "NEW.status = 'complete' AND OLD.status = 'pending'",
             "PERFORM pg_sleep(3)")
    try:
        session = learner.new_session()
        turn = learner.send(session["id"], "Nous avons visité le musée hier.").json()["turn"]
        with stack.database() as conn:
            eventually(lambda: conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").fetchone()[0],
                "the finish is held in the database", timeout=60)
            stack.stop_redis()
            try:
                eventually(lambda: conn.execute("SELECT status FROM turns WHERE id = %s",
                                                (turn["id"],)).fetchone()[0] == "complete",
                           "the finish commits while Redis is down", timeout=60)
                # The worker's publish fails now; its announcement is not recorded.
                assert conn.execute("SELECT announced_at FROM turns WHERE id = %s",
                                    (turn["id"],)).fetchone()[0] is None
                eventually(lambda: b"turn_result" in (stack.data_dir / "worker_llm.log").read_bytes()
                           or b"ConnectionError" in (stack.data_dir / "worker_llm.log").read_bytes(),
                           "the worker meets the outage", timeout=30)
            finally:
                stack.start_redis()
        stack.wait_ready()
        # The sweeper announces it once the grace has passed: into the learner's stream,
        # so a client that reconnects with its last event id replays it.
        with stack.database() as conn:
            eventually(lambda: conn.execute("SELECT announced_at FROM turns WHERE id = %s",
                                            (turn["id"],)).fetchone()[0], "the sweeper announces it", timeout=120)
        announced = [event["data"] for event in published(stack, learner.user["id"], "turn_result")]
        assert [t["turn"]["id"] for t in announced].count(turn["id"]) == 1
        result = next(t["turn"] for t in announced if t["turn"]["id"] == turn["id"])
        assert result["status"] == "complete" and result["assistant_message"]["content"]
    finally:
        _drop_trigger(stack, name)
