"""Email (domain/mail.py) and forgotten passwords, on the real stack with a real SMTP
server on loopback: the llm worker sends through it, the test reads what arrived."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.support import classes
from tests.support.client import assert_error, register
from tests.support.smtp import LoopbackSMTP
from tests.support.stack import llm_worker_stopped
from tests.support.waits import eventually

FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"


@pytest.fixture(scope="module")
def smtp(stack):
    with LoopbackSMTP() as server, llm_worker_stopped(stack) as resume:
        resume(SMTP_URL=server.url, MAIL_FROM="Parlons <hello@parlons.test>")
        yield server


def _post(stack, path, payload):
    return requests.post(stack.base_url + path, json=payload, timeout=10)


def _one_mail(smtp, address):
    return eventually(lambda: smtp.to(address), f"a mail to {address}", timeout=60)[0]


def _token(message) -> str:
    return re.search(r"#reset=([A-Za-z0-9_-]+)", message.get_content()).group(1)


def test_forgot_password_mails_a_one_time_link_in_the_native_language(stack, smtp):
    learner = register(stack.base_url, stack.ws_url, native_language="fr")
    answer = _post(stack, FORGOT, {"email": learner.email.upper()})
    assert answer.status_code == 202
    message = _one_mail(smtp, learner.email)
    assert message["From"] == "Parlons <hello@parlons.test>"
    assert message["Subject"] == "Réinitialisez votre mot de passe Parlons"
    assert message["Content-Language"] == "fr"
    assert "Bonjour Test Learner" in message.get_content()
    token = _token(message)

    assert _post(stack, RESET, {"token": token, "new_password": "a brand new secret"}).status_code == 200
    assert learner.get("/api/v1/auth/me").status_code == 401  # every token of the account revoked
    login = _post(stack, "/api/v1/auth/login", {"email": learner.email, "password": "a brand new secret"})
    assert login.status_code == 200
    assert_error(_post(stack, RESET, {"token": token, "new_password": "yet another secret"}), 422,
                 "invalid_reset_token")  # once only


def test_a_language_without_templates_gets_english(stack, smtp):
    learner = register(stack.base_url, stack.ws_url, native_language="de")
    assert _post(stack, FORGOT, {"email": learner.email}).status_code == 202
    message = _one_mail(smtp, learner.email)
    assert message["Subject"] == "Reset your Parlons password"
    assert message["Content-Language"] == "en"


def test_unknown_address_gets_the_same_answer_and_no_mail(stack, smtp):
    known = register(stack.base_url, stack.ws_url)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    answers = [_post(stack, FORGOT, {"email": address}) for address in (unknown, known.email)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    _one_mail(smtp, known.email)  # sent after the unknown one's request: that one had nothing to send
    assert smtp.to(unknown) == []


def test_requests_over_the_account_window_send_nothing_more(stack, smtp):
    learner = register(stack.base_url, stack.ws_url)
    for _ in range(4):  # PASSWORD_RESET_RATE_LIMIT_ACCOUNT: 3/hour
        assert _post(stack, FORGOT, {"email": learner.email}).status_code == 202
    eventually(lambda: len(smtp.to(learner.email)) == 3, "three mails", timeout=60)
    other = register(stack.base_url, stack.ws_url)
    assert _post(stack, FORGOT, {"email": other.email}).status_code == 202
    _one_mail(smtp, other.email)  # sent after the fourth: that one was dropped
    assert len(smtp.to(learner.email)) == 3


def test_bad_input_is_refused_and_changes_nothing(stack, smtp):
    learner = register(stack.base_url, stack.ws_url)
    assert_error(_post(stack, FORGOT, {}), 422)
    assert_error(_post(stack, RESET, {"token": "x", "new_password": "short"}), 422)
    assert_error(_post(stack, RESET, {"token": "not-a-real-token", "new_password": "long enough pw"}), 422,
                 "invalid_reset_token")
    assert learner.get("/api/v1/auth/me").status_code == 200


def _rows_naming(stack, values: list[str]) -> list[str]:
    """Every (table.column) of the public schema holding one of `values` (as text) in a row."""
    found = []
    with stack.database() as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'alembic_version'").fetchall()
        for table, column in columns:
            hit = conn.execute(f'SELECT 1 FROM "{table}" WHERE "{column}"::text = ANY(%s) '
                               f'OR "{column}"::text ILIKE ANY(%s) LIMIT 1',
                               (values, [f"%{v}%" for v in values])).fetchone()
            if hit:
                found.append(f"{table}.{column}")
    return found


def _redis_keys_naming(stack, value: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    return list(client.scan_iter(match=f"*{value}*", count=1000))


def test_deleting_the_account_leaves_nothing_of_it(stack, smtp):
    learner = register(stack.base_url, stack.ws_url, native_language="es")
    user_id = learner.user["id"]
    session = learner.new_session()
    assert _post(stack, FORGOT, {"email": learner.email}).status_code == 202  # a reset token in Redis
    _one_mail(smtp, learner.email)
    assert _rows_naming(stack, [user_id]) and _redis_keys_naming(stack, user_id)  # what the scans see

    assert_error(requests.delete(stack.base_url + "/api/v1/auth/me", json={"password": "wrong one!"},
                                 headers=learner.headers, timeout=10), 401, "invalid_credentials")
    assert learner.get("/api/v1/auth/me").status_code == 200  # nothing changed
    answer = requests.delete(stack.base_url + "/api/v1/auth/me", json={"password": learner.password},
                             headers=learner.headers, timeout=10)
    assert answer.status_code == 204, answer.text

    confirmation = eventually(lambda: [m for m in smtp.to(learner.email)
                                       if m["Subject"] == "Tu cuenta de Parlons ha sido eliminada"],
                              "the confirmation mail", timeout=60)[0]
    assert "Test Learner" in confirmation.get_content()
    assert_error(learner.get("/api/v1/auth/me"), 401)
    eventually(lambda: not _rows_naming(stack, [user_id, learner.email, session["id"]]),
               lambda: f"rows still naming the learner: {_rows_naming(stack, [user_id, learner.email])}",
               timeout=30)
    assert _redis_keys_naming(stack, user_id) == []
    assert _redis_keys_naming(stack, learner.email) == []
    login = _post(stack, "/api/v1/auth/login", {"email": learner.email, "password": learner.password})
    assert_error(login, 401)


def test_export_mails_a_link_that_serves_the_archive_once(stack, smtp, other_learner):
    learner = register(stack.base_url, stack.ws_url, native_language="fr")
    session = learner.new_session()
    other_learner.new_session()
    assert learner.post("/api/v1/auth/me/export").status_code == 202
    message = eventually(lambda: [m for m in smtp.to(learner.email) if "export" in m["Subject"]],
                         "the export mail", timeout=90)[0]
    assert message["Subject"] == "Votre export de données Parlons est prêt"
    token = re.search(r"/api/v1/auth/me/export/(\S+)", message.get_content()).group(1)

    archive = requests.get(f"{stack.base_url}/api/v1/auth/me/export/{token}", timeout=10)
    assert archive.status_code == 200, archive.text
    tables = archive.json()["tables"]
    assert [row["email"] for row in tables["users"]] == [learner.email]
    assert "password_hash" not in tables["users"][0]
    assert [row["id"] for row in tables["chat_sessions"]] == [session["id"]]
    assert other_learner.user["id"] not in archive.text  # only the learner's own rows

    assert_error(requests.get(f"{stack.base_url}/api/v1/auth/me/export/{token}", timeout=10), 410,
                 "export_already_fetched")
    assert_error(requests.get(f"{stack.base_url}/api/v1/auth/me/export/{token[:-2]}xx", timeout=10), 404)


def test_a_teachers_export_holds_their_class_not_their_students_rows(stack, smtp, other_learner):
    teacher = classes.teacher(stack)
    school_class = classes.make_class(teacher, "Export class")
    joined = other_learner.post("/api/v1/classes/join", {"code": school_class["invite_code"]})
    assert joined.status_code == 200, joined.text

    assert teacher.post("/api/v1/auth/me/export").status_code == 202
    message = eventually(lambda: [m for m in smtp.to(teacher.email) if "export" in m["Subject"].lower()
                                  or "données" in m["Subject"]], "the export mail", timeout=90)[0]
    token = re.search(r"/api/v1/auth/me/export/(\S+)", message.get_content()).group(1)
    archive = requests.get(f"{stack.base_url}/api/v1/auth/me/export/{token}", timeout=10)
    assert archive.status_code == 200, archive.text
    tables = archive.json()["tables"]
    assert [row["id"] for row in tables["classes"]] == [school_class["id"]]
    assert other_learner.user["id"] not in archive.text  # the student's membership is theirs
