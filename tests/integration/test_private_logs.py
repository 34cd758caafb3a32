"""Nothing private in any process's log or in Flower: after turns, a login, a socket
opened with ?token=, a /language/check and a database error, no log file of the stack
(web with its access log, the three worker families, beat, Flower, PostgreSQL, Redis)
holds the learner's sentence, email, password, password hash or tokens, and Flower lists
the tasks with ids and a redaction marker only."""
from __future__ import annotations

import secrets
import subprocess
import uuid

import requests

from deploy.services import free_port
from domain.logs import REDACTED
from tests.support.waits import eventually
from tests.support.client import register, turn_result_for
from tests.support.stack import BIN, REPO


def _start_flower(stack, login: str) -> str:
    """Flower on a free port, as an operator runs it, turning the workers' task events on."""
    port = free_port()
    stack.spawn("flower", [BIN / "celery", "-A", "workers.celery_app", "flower", "--address=127.0.0.1",
                           f"--port={port}", "--persistent=False"],
                # Explicit: importing workers.celery_app (a unit test may have, in this process)
                # sets FLOWER_ENABLE_EVENTS=false in the environment the stack inherits.
                extra_env={"FLOWER_BASIC_AUTH": login, "TASK_EVENTS": "true", "FLOWER_ENABLE_EVENTS": "true"})
    return f"http://127.0.0.1:{port}"


def _flower_tasks(flower_url: str, login: str) -> dict:
    try:
        response = requests.get(f"{flower_url}/api/tasks", auth=tuple(login.split(":", 1)), timeout=5)
    except requests.ConnectionError:
        return {}
    return response.json() if response.status_code == 200 else {}


def _refuse_messages_of(stack, session_id: str):
    """A database error on the learner's own message: a trigger refuses its insert."""
    with stack.database() as conn:
        conn.execute("CREATE OR REPLACE FUNCTION parlons_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$")
        conn.execute(f"CREATE TRIGGER parlons_test_refuse BEFORE INSERT ON messages FOR EACH ROW "
                     f"WHEN (NEW.session_id = '{uuid.UUID(session_id)}') EXECUTE FUNCTION parlons_test_refuse()")


def _drop_refusal(stack):
    with stack.database() as conn:
        conn.execute("DROP TRIGGER IF EXISTS parlons_test_refuse ON messages")
        conn.execute("DROP FUNCTION IF EXISTS parlons_test_refuse()")


def _log_files(stack) -> dict[str, str]:
    return {str(path.relative_to(stack.data_dir)): path.read_bytes().decode(errors="replace")
            for path in stack.data_dir.rglob("*.log")}


def test_no_learner_text_email_password_or_token_in_any_log_or_in_flower(stack, other_learner):
    marker = f"Kerbrat{secrets.token_hex(4)}"  # ASCII: JSON lines would escape accents
    sentence = f"Hier je suis alle au marche avec mon ami {marker} et mes amie."
    email = f"private-{secrets.token_hex(5)}@example.com"
    password = f"Pw-{secrets.token_hex(6)}-not-logged"
    flower_login = f"ops:{secrets.token_urlsafe(12)}"

    stack.restart_web(ACCESS_LOG="1")  # gunicorn's access log too (query strings would hold ?token=)
    flower_url = _start_flower(stack, flower_login)
    try:
        # Flower has turned the workers' task events on once it lists a task (another learner's).
        def flower_lists_a_check() -> bool:
            other_learner.post("/api/v1/language/check", {"text": "Bonjour."})
            return any(task.get("name") == "language.analyse"
                       for task in _flower_tasks(flower_url, flower_login).values())

        # (Flower turns events on every 5 s: no need to flood the nlp worker meanwhile.)
        eventually(flower_lists_a_check, "Flower lists the workers' tasks", timeout=60, interval=0.5)

        learner = register(stack.base_url, stack.ws_url, email=email, password=password)
        login = requests.post(f"{stack.base_url}/api/v1/auth/login", json={"email": email, "password": password},
                              timeout=10)
        assert login.status_code == 200, login.text
        session = learner.new_session()
        socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")  # ?token=<access token>
        socket.next_event()
        turn_ids = []
        for _ in range(3):
            turn = learner.send(session["id"], sentence).json()["turn"]
            socket.until(turn_result_for(turn["id"]), timeout=60)
            turn_ids.append(turn["id"])
        socket.close()
        # A token in a query string of a plain request too (the access log's line has the path only).
        assert learner.get("/api/v1/auth/me", params={"token": learner.access_token}).status_code == 200
        check = learner.post("/api/v1/language/check", {"text": sentence})
        assert check.status_code == 200, check.text

        refused = learner.new_session()
        _refuse_messages_of(stack, refused["id"])
        try:
            failed = learner.send(refused["id"], sentence)
        finally:
            _drop_refusal(stack)
        assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"

        # Positive signals first: each kind of line the secrets could have been in was written.
        eventually(lambda: "SQL parameters hidden" in _log_files(stack)["web.log"],
                   "the database error is logged, its parameters hidden", timeout=30)
        eventually(lambda: '"GET /api/v1/auth/me HTTP/1.1" 200' in _log_files(stack)["web.log"],
                   "the request with ?token= is in the access log", timeout=30)
        shown = eventually(lambda: _flower_tasks_of(flower_url, flower_login, turn_ids),
                           "Flower lists the turns' tasks", timeout=60)
    finally:
        stack.stop_process("flower")
        subprocess.run([BIN / "celery", "-A", "workers.celery_app", "control", "disable_events"],
                       env=stack.env, cwd=REPO, capture_output=True, timeout=60)

    for task in shown:
        assert marker not in f"{task['args']} {task['kwargs']}", task
    # The web's analyses carry the text (`known`); a sweeper's re-send of a slow turn
    # carries only the id (kwargs "{}"), nothing to redact.
    analyses = [task for task in shown if task["name"] == "turns.analyse" and task["kwargs"] not in ("{}", "", None)]
    assert analyses and all(REDACTED in task["kwargs"] for task in analyses), "the learner's text shows redacted"

    with stack.database() as conn:
        password_hash = conn.execute("SELECT password_hash FROM users WHERE email = %s", (email,)).fetchone()[0]
    private = {"sentence": marker, "email": email, "password": password, "password hash": password_hash,
               "access token": learner.access_token, "refresh token": learner.refresh_token,
               "login's access token": login.json()["access_token"],
               "login's refresh token": login.json()["refresh_token"]}
    logs = _log_files(stack)
    assert {"web.log", "worker_llm.log", "worker_nlp.log", "worker_default.log", "beat.log", "flower.log",
            "postgres/server.log", "redis/redis.log"} <= set(logs)
    found = {(what, name) for name, text in logs.items() for what, value in private.items() if value in text}
    assert not found, f"private values in the logs: {sorted(found)}"


def _flower_tasks_of(flower_url: str, login: str, turn_ids: list[str]) -> list[dict]:
    tasks = list(_flower_tasks(flower_url, login).values())
    names = {(task.get("name"), task.get("args")) for task in tasks}
    wanted = all(any(name == "turns.analyse" and turn_id in (args or "") for name, args in names)
                 for turn_id in turn_ids)
    has_check = any(task.get("name") == "language.analyse" for task in tasks)
    return tasks if wanted and has_check else []
