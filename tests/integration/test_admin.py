"""Admin commands (`flask users …`, `flask turns requeue`) and the admin API, on the real stack."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import redis
import requests
from sqlalchemy import delete, select, update

from domain import outbox, turns
from domain.models import OutboxEntry, Turn, utcnow
from tests.support.client import Learner, assert_error
from tests.support.in_process import new_conversation
from tests.support.waits import eventually


def _email() -> str:
    return f"admin-test-{uuid.uuid4().hex[:10]}@example.com"


def login(stack, email: str, password: str) -> requests.Response:
    return requests.post(f"{stack.base_url}/api/v1/auth/login", json={"email": email, "password": password},
                         timeout=10)


def signed_in(stack, email: str, password: str) -> Learner:
    response = login(stack, email, password)
    assert response.status_code == 200, response.text
    body = response.json()
    return Learner(stack.base_url, stack.ws_url, email, password, body["access_token"], body["refresh_token"],
                   body["user"])


def accounts_with_email(stack, email: str) -> int:
    with stack.database() as conn:
        return conn.execute("SELECT count(*) FROM users WHERE email = %s", (email.lower(),)).fetchone()[0]


# --- flask users ----------------------------------------------------------------------

def test_users_create_by_flags_and_interactively_then_list_them(stack):
    by_flags = _email()
    result = stack.flask("users", "create", "--email", by_flags.upper(), "--display-name", "Ada Admin",
                         "--password", "flags password", "--role", "admin", "--level", "b1", "--native-language", "en")
    assert result.returncode == 0, result.stderr
    flags_id = result.stdout.strip()
    ada = signed_in(stack, by_flags, "flags password")
    assert ada.user["id"] == flags_id
    assert (ada.user["email"], ada.user["display_name"], ada.user["role"], ada.user["level"],
            ada.user["native_language"]) == (by_flags, "Ada Admin", "admin", "B1", "en")

    # No flags at all: every field is asked for; Enter takes the defaults (learner, A1),
    # an empty native language is none, and a too-short password is asked for again.
    interactive = _email()
    answers = [interactive, "Inès Interactive", "short", "typed password", "typed password", "", "", ""]
    result = stack.flask("users", "create", input="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Length must be between 8 and 128" in result.stdout + result.stderr
    ines = signed_in(stack, interactive, "typed password")
    assert ines.user["id"] == result.stdout.split()[-1]  # after the prompts (the answers are not echoed)
    assert (ines.user["display_name"], ines.user["role"], ines.user["level"], ines.user["native_language"]) == (
        "Inès Interactive", "learner", "A1", None)

    listing = stack.flask("users", "list", "--limit", "1000")
    assert listing.returncode == 0, listing.stderr
    header, rule, *rows = listing.stdout.splitlines()
    assert header.split() == ["id", "email", "display", "name", "role", "level", "created_at"]
    by_email = {row.split()[1]: row for row in rows if "@" in row}
    assert by_email[by_flags].split()[0] == flags_id and " admin " in by_email[by_flags]
    assert " learner " in by_email[interactive] and "Inès Interactive" in by_email[interactive]
    # Newest first.
    assert list(by_email).index(interactive) < list(by_email).index(by_flags)

    admins = stack.flask("users", "list", "--role", "admin", "--limit", "1000").stdout
    assert by_flags in admins and interactive not in admins
    limited = stack.flask("users", "list", "--limit", "1").stdout.splitlines()
    assert len(limited) == 4 and interactive in limited[2] and limited[3].startswith("1 of ")


def test_a_duplicate_email_or_invalid_input_fails_and_creates_nothing(stack, learner):
    duplicate = stack.flask("users", "create", "--email", learner.email.upper(), "--display-name", "Twin",
                            "--password", "another password", "--role", "admin", "--level", "A1",
                            "--native-language", "")
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    assert accounts_with_email(stack, learner.email) == 1
    assert login(stack, learner.email, "another password").status_code == 401
    assert login(stack, learner.email, learner.password).status_code == 200

    email = _email()
    for field, value, problem in (("--password", "short", "Length must be between 8 and 128"),
                                  ("--password", "x" * 129, "Length must be between 8 and 128"),
                                  ("--native-language", "english", "does not match expected pattern"),
                                  ("--level", "Z9", "is not one of")):
        flags = {"--email": email, "--display-name": "Nobody", "--password": "long enough", "--role": "learner",
                 "--level": "A1", "--native-language": "en", field: value}
        result = stack.flask("users", "create", *[part for pair in flags.items() for part in pair])
        assert result.returncode != 0, (field, result.stdout)
        assert problem in result.stderr, result.stderr
    bad_email = stack.flask("users", "create", "--email", "not-an-email", "--display-name", "Nobody",
                            "--password", "long enough", "--role", "learner", "--level", "A1", "--native-language", "")
    assert bad_email.returncode != 0 and "Not a valid email address" in bad_email.stderr
    bad_zone = stack.flask("users", "create", "--email", email, "--display-name", "Nobody", "--password",
                           "long enough", "--role", "learner", "--level", "A1", "--native-language", "",
                           "--timezone", "Mars/Olympus")
    assert bad_zone.returncode != 0 and "Unknown time zone" in bad_zone.stderr
    assert accounts_with_email(stack, email) == 0
    assert accounts_with_email(stack, "not-an-email") == 0


# --- the admin API, opened by `flask users set-role` ------------------------------------

def test_set_role_opens_the_admin_api_and_a_learner_is_told_nothing_is_there(stack, learner, other_learner):
    unknown = requests.get(f"{stack.base_url}/api/v1/nothing-here", headers=learner.headers, timeout=10).json()
    for path in ("/api/v1/admin/users", "/api/v1/admin/turns", "/api/v1/admin/turns?status=nonsense",
                 "/api/v1/admin/users?per_page=0"):
        response = learner.get(path)
        assert_error(response, 404, "not_found")
        assert response.json() == unknown, "a learner cannot tell the admin endpoints from an unknown address"
    assert_error(requests.get(f"{stack.base_url}/api/v1/admin/users", timeout=10), 401, "missing_token")

    theirs = other_learner.new_session()
    turn = other_learner.send(theirs["id"], "Je suis allé au marché hier.").json()["turn"]
    assert other_learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()["status"] == "complete"

    granted = stack.flask("users", "set-role", learner.email.upper(), "admin")
    assert granted.returncode == 0, granted.stderr
    assert f"{learner.email}: learner -> admin" in granted.stdout
    assert "already admin" in stack.flask("users", "set-role", learner.email, "admin").stdout

    # The role is read from the database on each request: the token already held works.
    users = learner.get("/api/v1/admin/users", params={"role": "admin", "per_page": 100})
    assert users.status_code == 200, users.text
    body = users.json()
    assert body["meta"]["page"] == 1 and body["meta"]["per_page"] == 100 and body["meta"]["total"] >= 1
    me = next(item for item in body["items"] if item["email"] == learner.email)
    assert me == {"id": learner.user["id"], "email": learner.email, "display_name": "Test Learner", "role": "admin",
                  "level": "A1", "native_language": None, "created_at": me["created_at"], "xp": 0}
    assert all(item["role"] == "admin" for item in body["items"])
    learners = learner.get("/api/v1/admin/users", params={"role": "learner", "per_page": 100}).json()
    assert other_learner.email in {item["email"] for item in learners["items"]}
    assert all(item["role"] == "learner" for item in learners["items"])
    paged = learner.get("/api/v1/admin/users", params={"per_page": 1, "page": 2}).json()
    assert len(paged["items"]) == 1 and paged["meta"]["pages"] == paged["meta"]["total"] >= 2
    assert_error(learner.get("/api/v1/admin/users", params={"role": "owner"}), 422, "validation_error")

    complete = learner.get("/api/v1/admin/turns", params={"status": "complete", "per_page": 100}).json()
    seen = next(item for item in complete["items"] if item["id"] == turn["id"])
    assert seen["user_id"] == other_learner.user["id"] and seen["session_id"] == theirs["id"]
    assert seen["status"] == "complete" and seen["user_message"]["content"] == "Je suis allé au marché hier."
    assert seen["assistant_message"]["content"] and seen["grammar"] is not None
    assert all(item["status"] == "complete" for item in complete["items"])
    created = [datetime.fromisoformat(item["created_at"]) for item in complete["items"]]
    assert created == sorted(created, reverse=True), "newest first"
    newest = learner.get("/api/v1/admin/turns", params={"per_page": 1}).json()
    assert newest["items"][0]["id"] == turn["id"] and newest["meta"]["total"] >= 1
    assert learner.get("/api/v1/admin/turns", params={"status": "failed"}).status_code == 200

    error = assert_error(learner.get("/api/v1/admin/turns", params={"status": "stuck"}), 422, "validation_error")
    assert error["details"]["query"]["status"] == ["Must be one of: pending, complete, failed."]

    revoked = stack.flask("users", "set-role", learner.email, "learner")
    assert revoked.returncode == 0 and "admin -> learner" in revoked.stdout
    assert_error(learner.get("/api/v1/admin/users"), 404, "not_found")

    missing = stack.flask("users", "set-role", "nobody-here@example.com", "admin")
    assert missing.returncode != 0 and "No account with the email nobody-here@example.com" in missing.stderr
    assert learner.get("/api/v1/auth/me").json()["role"] == "learner"


def test_reset_password_lets_the_learner_in_with_the_new_password_only(stack, learner):
    too_short = stack.flask("users", "reset-password", learner.email, "--password", "short")
    assert too_short.returncode != 0 and "Length must be between 8 and 128" in too_short.stderr
    mismatch = stack.flask("users", "reset-password", learner.email, input="new password 1\nnew password 2\n")
    assert mismatch.returncode != 0
    # (Sign-ins are few: LOGIN_RATE_LIMIT_ACCOUNT is 5 a minute on the test stack.)
    assert login(stack, learner.email, learner.password).status_code == 200
    assert learner.get("/api/v1/auth/me").status_code == 200

    reset = stack.flask("users", "reset-password", learner.email.upper(),
                        input="brand new password\nbrand new password\n")
    assert reset.returncode == 0, reset.stderr
    assert f"password reset for {learner.email}" in reset.stdout
    assert_error(login(stack, learner.email, learner.password), 401, "invalid_credentials")
    # Every session of the account ends: its access and refresh tokens are refused.
    assert learner.get("/api/v1/auth/me").status_code == 401
    refreshed = requests.post(f"{stack.base_url}/api/v1/auth/refresh",
                              headers={"Authorization": f"Bearer {learner.refresh_token}"}, timeout=10)
    assert refreshed.status_code == 401
    again = signed_in(stack, learner.email, "brand new password")
    assert again.user["id"] == learner.user["id"] and again.get("/api/v1/auth/me").status_code == 200

    by_flag = stack.flask("users", "reset-password", learner.email, "--password", "flag password")
    assert by_flag.returncode == 0, by_flag.stderr
    assert login(stack, learner.email, "flag password").status_code == 200

    unknown = stack.flask("users", "reset-password", "nobody-here@example.com", "--password", "long enough")
    assert unknown.returncode != 0 and "No account" in unknown.stderr


# --- flask turns requeue --------------------------------------------------------------

def test_requeue_sends_a_stuck_turn_through_the_pipeline_again(stack, learner):
    """A turn whose reply task was lost with the broker's queue, whose outbox entry is gone
    too, and no sweeper running: restarting the worker does nothing for it; requeue does."""
    session = learner.new_session()
    broker = redis.Redis.from_url(stack.env["REDIS_URL"])
    stack.stop_process("beat")
    stack.kill_worker("llm")
    llm_running = False
    try:
        turn = learner.send(session["id"], "Je voudrais un café, s'il vous plaît.").json()["turn"]

        def analysed_and_waiting_for_llm() -> dict | None:
            seen = learner.get(f"/api/v1/turns/{turn['id']}").json()
            return seen if seen["grammar"] is not None and broker.llen("llm") >= 1 else None

        # The rules have their worker; moderation and the reply (on llm) have none.
        seen = eventually(analysed_and_waiting_for_llm, "the turn analysed, its model work queued", interval=0.2)
        assert seen["status"] == "pending" and seen["assistant_message"] is None and seen["moderation"] is None

        # The incident: the broker lost the queued model work, and the outbox entry is gone.
        broker.delete("llm")
        with stack.database() as conn:
            assert conn.execute("DELETE FROM outbox WHERE kind = 'turn' AND ref_id = %s",
                                (turn["id"],)).rowcount == 1

        stack.start_ready_worker("llm")
        llm_running = True
        # The new worker has consumed its queue once it has answered work sent after it
        # started (a hint in another conversation): nothing was left there for the turn.
        probe = learner.new_session()
        hint = learner.post(f"/api/v1/sessions/{probe['id']}/hints")
        assert hint.status_code == 202, hint.text
        eventually(lambda: learner.get(f"/api/v1/sessions/{probe['id']}/hints").json()["items"][0]["status"]
                   == "ready", "the llm worker answered a hint asked after it started", timeout=30)
        assert learner.get(f"/api/v1/turns/{turn['id']}").json()["status"] == "pending", "stuck for real"

        result = stack.flask("turns", "requeue", "--stuck", "--older-than", "1", "--verbose")
        assert result.returncode == 0, result.stderr
        assert turn["id"] in result.stdout.splitlines()
        assert "had lost their outbox entry: written again" in result.stdout
        requeued = int(result.stdout.split()[1])
        assert requeued >= 1

        done = learner.get(f"/api/v1/turns/{turn['id']}", params={"wait": 20}).json()
        assert done["status"] == "complete", done
        assert done["assistant_message"]["content"] and done["xp_awarded"] > 0
        with stack.database() as conn:
            roles = dict(conn.execute("SELECT role, count(*) FROM messages WHERE turn_id = %s GROUP BY role",
                                      (turn["id"],)).fetchall())
            left = conn.execute("SELECT count(*) FROM outbox WHERE ref_id = %s AND kind = 'turn'",
                                (turn["id"],)).fetchone()[0]
        assert roles == {"user": 1, "assistant": 1}
        assert left == 0, "finishing the turn removed the outbox entry written again"
    finally:
        if not llm_running:
            stack.start_worker("llm")
        stack.start_beat()
        broker.close()

    assert stack.flask("turns", "requeue").returncode == 2, "--stuck is required"


def test_requeue_makes_sure_of_the_outbox_and_publishes_each_stuck_turn(db_scope):
    """On a database no worker or sweeper watches: exactly which turns are sent, and what
    becomes of their outbox entries."""
    with db_scope() as db:
        user, session = new_conversation(db, display_name="Requeue")
        ids = [turns.submit_turn(db, user_id=user.id, session_id=session.id, content=f"Message {n}.",
                                 client_message_id=None, suggested_word_ids=[], deadline_seconds=60).turn_id
               for n in range(4)]
    kept, lost, finished, young = ids
    now = utcnow()
    with db_scope() as db:
        for age, turn_id in ((120, kept), (110, lost), (100, finished)):
            db.execute(update(Turn).where(Turn.id == turn_id).values(created_at=now - timedelta(seconds=age)))
        db.execute(update(Turn).where(Turn.id == kept).values(deadline_at=now - timedelta(seconds=60)))
        db.execute(update(Turn).where(Turn.id == finished).values(status="complete", completed_at=now))
        db.execute(delete(OutboxEntry).where(OutboxEntry.ref_id == lost))
        # `finished` keeps its entry: an orphan, which requeue removes.

    sent = []
    report = outbox.requeue_stuck_turns(db_scope, lambda kind, ref_id: sent.append((kind, ref_id)),
                                        older_than_seconds=60)
    assert sent == [("turn", kept), ("turn", lost)], "oldest first; not the finished or the young turn"
    assert (report.requeued, report.outbox_recreated, report.overdue, report.pruned) == ([kept, lost], 1, 1, 1)
    with db_scope() as db:
        entries = {entry.ref_id: entry for entry in db.scalars(select(OutboxEntry))}
    assert set(entries) == {kept, lost, young}
    assert entries[kept].publish_attempts == 2, "stamped when written (published after commit), and now"
    assert entries[lost].publish_attempts == 1 and entries[lost].last_published_at is not None
    assert entries[young].publish_attempts == 1, "only the stamp it was written with"

    def broker_down_for_lost(kind, ref_id):
        if ref_id == lost:
            raise ConnectionError("broker unreachable")

    report = outbox.requeue_stuck_turns(db_scope, broker_down_for_lost, older_than_seconds=60)
    assert (report.requeued, report.unpublished, report.outbox_recreated) == ([kept], [lost], 0)
    with db_scope() as db:
        attempts = dict(db.execute(select(OutboxEntry.ref_id, OutboxEntry.publish_attempts)).all())
    assert attempts == {kept: 3, lost: 2, young: 1}, "the unpublished entry stays for the sweeper"

    sent.clear()
    assert outbox.requeue_stuck_turns(db_scope, lambda *work: sent.append(work), older_than_seconds=3600).requeued == []
    assert sent == []
