"""POST /api/v1/language/check: the pipeline's grammar analysis, on demand."""
from __future__ import annotations

import requests

from tests.support.client import register


def test_check_returns_errors_with_offsets_and_the_corrected_text(learner):
    text = "Je suis allé au marché hier avec mes amie."
    response = learner.post("/api/v1/language/check", {"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(text[e["start"]:e["end"]], e["category"], e["suggestions"][0]) for e in body["errors"]] == [
        ("amie", "number_agreement", "amies")]
    assert body["errors"][0]["message"]
    assert body["corrected_text"] == "Je suis allé au marché hier avec mes amies."


def test_a_correct_text_has_no_errors(learner):
    body = learner.post("/api/v1/language/check", {"text": "Elle s'est assise.", "language": "fr"}).json()
    assert body["errors"] == []


def test_bad_requests_get_the_error_format(stack, learner):
    unsupported = learner.post("/api/v1/language/check", {"text": "Hola", "language": "es"})
    assert unsupported.status_code == 422
    assert unsupported.json()["error"]["details"]["json"]["language"] == ["Only French is analysed."]
    assert learner.post("/api/v1/language/check", {"text": ""}).status_code == 422
    anonymous = requests.post(f"{stack.base_url}/api/v1/language/check", json={"text": "Bonjour"}, timeout=10)
    assert anonymous.status_code == 401


def test_messages_are_in_the_learners_native_language(stack):
    brazilian = register(stack.base_url, stack.ws_url, native_language="pt")
    body = brazilian.post("/api/v1/language/check", {"text": "Je suis allé au marché hier avec mes amie."}).json()
    assert body["errors"][0]["message"] == "Depois de “mes” o substantivo vai no plural: “amies”."
