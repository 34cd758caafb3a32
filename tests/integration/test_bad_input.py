"""Bad input of any kind is a 4xx in the error format, names the field and stores nothing:
NUL bytes and lone surrogates (body, query, path), numbers past the database's integers,
JSON nested too deep or not JSON at all, impossible review times; on the socket, an
`error` frame and the socket stays open."""
from __future__ import annotations

import requests

from tests.support.client import assert_error

DEEP = "[" * 5000 + "]" * 5000
SURROGATE = '"\\ud800"'  # a JSON escape for a lone surrogate: decodes, but cannot be stored


def raw_post(learner, path: str, body: str | bytes) -> requests.Response:
    return requests.post(learner.base_url + path, data=body, timeout=10,
                         headers={**learner.headers, "Content-Type": "application/json"})


def message_count(learner, session_id: str) -> int:
    """The learner's messages in the session (a story session also opens with the character's greeting)."""
    items = learner.get(f"/api/v1/sessions/{session_id}/messages").json()["items"]
    return sum(message["role"] == "user" for message in items)


def test_nul_and_lone_surrogate_in_a_message_are_a_422_naming_the_field(learner):
    session = learner.new_session()
    path = f"/api/v1/sessions/{session['id']}/messages"

    error = assert_error(learner.post(path, {"content": "Bonjour\x00"}), 422, "invalid_characters")
    assert error["details"] == {"json": {"content": ["Contains a NUL byte or an unpaired surrogate."]}}
    error = assert_error(raw_post(learner, path, '{"content": ' + SURROGATE + '}'), 422, "invalid_characters")
    assert list(error["details"]["json"]) == ["content"]
    error = assert_error(learner.post(path, {"content": "Salut", "client_message_id": "a\x00"}), 422)
    assert list(error["details"]["json"]) == ["client_message_id"]
    assert message_count(learner, session["id"]) == 0


def test_nul_in_a_session_title_and_a_login_email_are_a_422(stack, learner):
    before = learner.get("/api/v1/sessions").json()["meta"]["total"]
    error = assert_error(learner.post("/api/v1/sessions", {"character_id": "camille", "title": "a\x00b"}), 422,
                         "invalid_characters")
    assert list(error["details"]["json"]) == ["title"]
    assert learner.get("/api/v1/sessions").json()["meta"]["total"] == before

    response = requests.post(f"{stack.base_url}/api/v1/auth/login", json={"email": f"{learner.email}\x00",
                                                                          "password": learner.password}, timeout=10)
    assert list(assert_error(response, 422, "invalid_characters")["details"]["json"]) == ["email"]


def test_nul_in_a_query_or_a_path_is_a_422_naming_it(learner):
    error = assert_error(learner.get("/api/v1/vocabulary?q=%00abc"), 422, "invalid_characters")
    assert error["details"] == {"query": {"q": ["Contains a NUL byte or an unpaired surrogate."]}}
    error = assert_error(learner.get("/api/v1/sessions/abc%00def"), 422, "invalid_characters")
    assert list(error["details"]["path"]) == ["session_id"]


def test_ids_past_the_database_integer_are_not_found_and_pages_past_it_a_422(learner):
    for path in ("/api/v1/vocabulary/99999999999", "/api/v1/vocabulary/12345678901234567",
                 "/api/v1/progress/12345678901234567", "/api/v1/vocabulary/" + "9" * 4000):
        assert_error(learner.get(path), 404)
    assert learner.get("/api/v1/vocabulary/1").status_code == 200

    for query in ("page=12345678901234567890123456", "per_page=12345678901234567890123456",
                  "page=2147483648", "page=" + "9" * 4000):
        error = assert_error(learner.get(f"/api/v1/sessions?{query}"), 422, "validation_error")
        assert list(error["details"]["query"]) == [query.split("=")[0]]

    session = learner.new_session()
    error = assert_error(learner.send(session["id"], "Bonjour", suggested_word_ids=[99999999999]), 422)
    assert "suggested_word_ids" in error["details"]["json"]
    assert message_count(learner, session["id"]) == 0


def test_deep_nesting_and_bodies_that_are_not_json_are_a_400(learner):
    session = learner.new_session()
    path = f"/api/v1/sessions/{session['id']}/messages"
    assert_error(raw_post(learner, path, DEEP), 400, "json_too_deep")
    assert_error(raw_post(learner, path, '{"content": ' + "[" * 40 + "]" * 40 + "}"), 400, "json_too_deep")
    assert_error(raw_post(learner, path, b'{"content": "caf\xe9"}'), 400, "malformed_json")  # Latin-1, not UTF-8
    assert_error(raw_post(learner, path, '{"content": NaN}'), 400, "malformed_json")
    assert_error(raw_post(learner, path, '{"content": ' + "1" * 5000 + "}"), 400, "malformed_json")
    assert_error(raw_post(learner, "/api/v1/progress/reviews", DEEP), 400, "json_too_deep")
    assert message_count(learner, session["id"]) == 0


def test_a_body_that_is_not_json_is_a_415_and_stores_nothing(learner):
    """`curl -d` sends a form; a client may forget its Content-Type or send text: the API
    says what it reads, rather than name every field as missing."""
    session = learner.new_session()
    path = learner.base_url + f"/api/v1/sessions/{session['id']}/messages"
    json_text = '{"content": "Bonjour, je suis Marie."}'
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {**learner.headers, **({"Content-Type": content_type} if content_type else {})}
        if content_type is None:
            headers.pop("Content-Type", None)
        response = requests.post(path, data=json_text.encode(), headers=headers, timeout=10)
        assert response.request.headers.get("Content-Type") == content_type
        assert_error(response, 415, "unsupported_media_type")
    assert message_count(learner, session["id"]) == 0
    # the same text as JSON, and a request with no body at all, are read as before
    assert requests.post(path, data=json_text, timeout=10,
                         headers={**learner.headers, "Content-Type": "application/json"}).status_code == 202
    assert learner.post(f"/api/v1/sessions/{session['id']}/hints").status_code == 202


def test_review_times_before_the_account_or_absurdly_late_are_a_422(learner):
    for moment in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "2000-01-01T00:00:00Z",
                   "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z"):
        response = learner.post("/api/v1/progress/review", {"word_id": 1, "rating": 2, "reviewed_at": moment})
        assert_error(response, 422, "review_time_invalid")
    response = learner.post("/api/v1/progress/reviews",
                            {"reviews": [{"word_id": 1, "rating": 2, "reviewed_at": "0001-01-01T00:00:00Z"}]})
    assert assert_error(response, 422, "review_time_invalid")["details"]["index"] == 0
    assert learner.get("/api/v1/progress/1").json()["reviews"] == []
    assert learner.post("/api/v1/progress/review", {"word_id": 1, "rating": 2}).status_code == 200


def test_the_socket_answers_the_same_inputs_with_an_error_frame_and_stays_open(learner):
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    assert socket.next_event()["type"] == "session_ready"

    socket.send("user_message", {"content": "Bonjour\x00"})
    error = socket.next_event()
    assert error["type"] == "error" and error["data"]["code"] == "invalid_characters"
    assert error["data"]["details"] == {"frame": {"data": {"content": ["Contains a NUL byte or an unpaired "
                                                                       "surrogate."]}}}
    socket.connection.send('{"type": "user_message", "data": {"content": ' + SURROGATE + '}}')
    assert socket.next_event()["data"]["code"] == "invalid_characters"
    socket.connection.send('{"type": "user_message", "data": {"content": ' + DEEP + '}}')
    assert socket.next_event()["data"]["code"] == "malformed_frame"
    socket.connection.send(b'{"type": "user_message", "data": {"content": "caf\xe9"}}', opcode=0x2)
    assert socket.next_event()["data"]["code"] == "malformed_frame"
    socket.send("user_message", {"content": "Bonjour", "suggested_word_ids": [99999999999]})
    error = socket.next_event()
    assert error["data"]["code"] == "validation_error" and "suggested_word_ids" in error["data"]["details"]

    socket.send("heartbeat", {})
    assert socket.next_event()["type"] == "heartbeat"  # still open
    socket.close()
    assert message_count(learner, session["id"]) == 0


def test_time_zones_python_opens_but_postgresql_does_not_know_are_a_422(stack, learner):
    for name in ("localtime", "posixrules", "right/UTC", "America"):
        assert_error(learner.patch("/api/v1/auth/me", {"timezone": name}), 422, "invalid_timezone")
    response = requests.post(f"{stack.base_url}/api/v1/auth/register", timeout=10, json={
        "email": "zone@example.com", "password": "long enough", "display_name": "Zone", "timezone": "localtime"})
    assert_error(response, 422, "invalid_timezone")
    assert learner.patch("/api/v1/auth/me", {"timezone": "Europe/Paris"}).status_code == 200
    assert learner.post("/api/v1/progress/review", {"word_id": 1, "rating": 2}).status_code == 200
    assert learner.get("/api/v1/progress/stats").status_code == 200  # the learner's days, in their zone


def raw_exchange(stack, request: bytes) -> tuple[int, dict[str, str], dict]:
    """Send bytes gunicorn cannot parse; the status, headers and JSON body it answers."""
    import json
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(stack.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):  # gunicorn closes the connection after it
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def test_what_gunicorn_cannot_parse_is_answered_in_the_error_format(stack, learner):
    cases = {
        b"HELLO\r\n\r\n": (400, "bad_request"),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": (400, "bad_request"),
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n": (400, "bad_request"),
        b"GET /api/v1/sessions?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": (414, "uri_too_long"),
        b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(200)) + b"\r\n":
            (431, "headers_too_large"),
        b"GET /api/v1/sessions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n": (431, "headers_too_large"),
    }
    for request, (status, code) in cases.items():
        answered, headers, body = raw_exchange(stack, request)
        assert (answered, headers["content-type"]) == (status, "application/json"), request[:60]
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        assert body["error"]["code"] == code and body["error"]["message"], body
    # and the app still answers whole requests on the next connection
    assert learner.get("/api/v1/sessions").status_code == 200
