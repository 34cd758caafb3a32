"""Bad input gets the one error format and changes nothing; another learner's data is a 404."""
from __future__ import annotations

import requests

from tests.support.client import assert_error


def test_another_learners_session_and_turn_are_not_found(learner, other_learner):
    theirs = other_learner.new_session()
    turn = other_learner.send(theirs["id"], "Bonjour !").json()["turn"]

    assert_error(learner.get(f"/api/v1/sessions/{theirs['id']}"), 404, "session_not_found")
    assert_error(learner.get(f"/api/v1/sessions/{theirs['id']}/messages"), 404, "session_not_found")
    assert_error(learner.send(theirs["id"], "Coucou"), 404, "session_not_found")
    assert_error(learner.get(f"/api/v1/turns/{turn['id']}"), 404, "turn_not_found")
    assert_error(learner.get("/api/v1/turns/not-a-uuid"), 404, "turn_not_found")
    assert other_learner.get(f"/api/v1/sessions/{theirs['id']}/messages").json()["meta"]["total"] >= 1


def test_malformed_json_is_a_400(stack, learner):
    session = learner.new_session()
    response = requests.post(f"{stack.base_url}/api/v1/sessions/{session['id']}/messages", data="{not json",
                             headers={**learner.headers, "Content-Type": "application/json"}, timeout=10)
    assert_error(response, 400, "malformed_json")


def test_missing_and_invalid_fields_are_a_422_that_changes_nothing(learner):
    session = learner.new_session()
    error = assert_error(learner.post(f"/api/v1/sessions/{session['id']}/messages", {}), 422, "validation_error")
    assert "content" in error["details"]["json"]
    assert_error(learner.send(session["id"], "   "), 422, "validation_error")
    assert_error(learner.post("/api/v1/sessions", {"character_id": "nobody"}), 422, "unknown_character")
    assert_error(learner.post("/api/v1/sessions", {"character_id": "camille", "mode": "karaoke"}), 422)
    assert _learner_messages(learner, session["id"]) == []


def test_oversize_body_is_a_413(learner):
    session = learner.new_session()
    assert_error(learner.send(session["id"], "a" * 100_000), 413, "payload_too_large")
    assert _learner_messages(learner, session["id"]) == []


def test_unknown_route_and_wrong_method_use_the_error_format(stack, learner):
    assert_error(learner.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(requests.delete(f"{stack.base_url}/api/v1/characters", headers=learner.headers, timeout=10),
                 405, "method_not_allowed")


def test_missing_or_bad_token_is_a_401_in_the_error_format(stack):
    assert_error(requests.get(f"{stack.base_url}/api/v1/sessions", timeout=10), 401, "missing_token")
    assert_error(requests.get(f"{stack.base_url}/api/v1/sessions", headers={"Authorization": "Bearer nope"},
                              timeout=10), 401, "invalid_token")


def test_openapi_documents_every_endpoint_and_the_error_format(stack):
    spec = requests.get(f"{stack.base_url}/api/v1/openapi.json", timeout=10).json()
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/sessions",
                 "/api/v1/sessions/{session_id}/messages", "/api/v1/turns/{turn_id}", "/api/v1/characters"):
        assert path in spec["paths"], path
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]
    docs = requests.get(f"{stack.base_url}/docs", timeout=10)
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert requests.get(f"{stack.base_url}/docs/assets/swagger-ui-bundle.js", timeout=10).status_code == 200


def test_characters_are_listed_from_the_prompt_folders(learner):
    characters = learner.get("/api/v1/characters").json()
    ids = {c["id"] for c in characters}
    assert {"camille", "lucas"} <= ids
    for character in characters:
        assert character["levels"] == ["a1", "a2", "b1", "b2", "c1", "c2"]


def _learner_messages(learner, session_id: str) -> list[dict]:
    """The learner's messages in the session (a story session also opens with the character's greeting)."""
    items = learner.get(f"/api/v1/sessions/{session_id}/messages").json()["items"]
    return [message for message in items if message["role"] == "user"]
