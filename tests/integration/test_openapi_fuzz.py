"""Schemathesis over the app's own OpenAPI, against the real stack's gunicorn on loopback:
every operation, valid (positive) and invalid (negative) requests from a fixed seed, as a
signed-in learner. No request may answer 5xx (but for the documented 503s of
EXPECTED_UNAVAILABLE: voice, speech and push on a stack without their keys); every 4xx is in the error format; every
answer matches what the document says (status, content type, body schema).

Valid requests come from the document's schemas and examples; path ids are either
generated or the learner's real ones (a session, a turn, a letter, an answer, a word), so
the fuzzer also reaches past the 404s. Calls that end a token (logout, password change,
refresh) use a second learner's tokens, fresh for each call, so the fuzzing learner
stays signed in.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup

from tests.support.client import Learner, register, turn_result_for

MIN_CASES = 3000
# Examples per operation and mode; the costly ones (Argon2, the nlp worker, a turn's
# pipeline) get fewer. Operations with nothing to vary stop as soon as they are exhausted.
DEFAULT_EXAMPLES = 50
EXAMPLES = {
    "POST /api/v1/auth/register": 20,
    "POST /api/v1/auth/login": 20,
    "POST /api/v1/auth/password": 15,
    "POST /api/v1/language/check": 20,
    "POST /api/v1/sessions/{session_id}/messages": 40,
    "POST /api/v1/journey/questions/{question_id}/answers": 30,
    "POST /api/v1/penpal/letters": 30,
}
TOKEN_ENDING = {"POST /api/v1/auth/logout", "POST /api/v1/auth/password", "POST /api/v1/auth/refresh"}
SCHEMA_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                 "response_schema_conformance")


@dataclass
class Throwaway:
    """Learners whose tokens the token-ending calls may spend: a logout ends the whole
    login (its refresh token too), and then the next one is registered."""

    learner: Learner
    refresh_token: str = ""

    def __post_init__(self) -> None:
        self.refresh_token = self.learner.refresh_token

    def access_token(self) -> str:
        response = self._refresh()
        if response.status_code == 401:  # the fuzzer's logout ended this login
            self.learner = register(self.learner.base_url, self.learner.ws_url)
            self.refresh_token = self.learner.refresh_token
            response = self._refresh()
        assert response.status_code == 200, response.text
        self.remember(response.json())
        return response.json()["access_token"]

    def _refresh(self) -> requests.Response:
        return requests.post(f"{self.learner.base_url}/api/v1/auth/refresh", timeout=10,
                             headers={"Authorization": f"Bearer {self.refresh_token}"})

    def remember(self, body: dict) -> None:
        self.refresh_token = body.get("refresh_token") or self.refresh_token  # rotated, when it is

    def token_for(self, label: str) -> str:
        if label == "POST /api/v1/auth/refresh":
            self.access_token()  # a live refresh token, even after a logout
            return self.refresh_token
        return self.access_token()


@dataclass
class Findings:
    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def real_ids(learner: Learner) -> dict[str, object]:
    """Ids of the learner's own resources, for the path parameters of that name."""
    session = learner.new_session()
    socket = learner.socket(f"/api/v1/sessions/{session['id']}/ws")
    turn = learner.send(session["id"], "Bonjour, je m'appelle Lea.").json()["turn"]
    socket.until(turn_result_for(turn["id"]))
    socket.close()
    letter = learner.post("/api/v1/penpal/letters", {"character_id": "camille", "body": "Chère Camille, "
                                                     "je t'écris de Lyon où il fait beau aujourd'hui."})
    assert letter.status_code == 201, letter.text
    question = learner.get("/api/v1/journey/next").json()["question"]
    answer = learner.post(f"/api/v1/journey/questions/{question['id']}/answers",
                          {"answer": "Je m'appelle Lea et j'habite à Lyon avec ma famille."})
    assert answer.status_code == 202, answer.text
    return {"session_id": session["id"], "turn_id": turn["id"], "letter_id": letter.json()["letter"]["id"],
            "question_id": question["id"], "answer_id": answer.json()["id"], "word_id": 1}


# The 5xx the contract asks for here: this stack has no OpenAI key (the real APIs are never
# called from tests) and no VAPID keys, so voice sessions, speech, transcription and Web
# Push answer their documented 503.
EXPECTED_UNAVAILABLE = {
    "POST /api/v1/sandbox/sessions": "realtime_unavailable",
    "POST /api/v1/audio/speech": "tts_unavailable",
    "POST /api/v1/audio/transcriptions": "stt_unavailable",
    "POST /api/v1/sessions/{session_id}/messages": "stt_unavailable",  # a recording (multipart) sent as a turn
    "GET /api/v1/push/vapid-public-key": "push_unavailable",
    "POST /api/v1/push/subscriptions": "push_unavailable",
}


def expected_unavailable(label: str, response: requests.Response) -> bool:
    return (response.status_code == 503 and label in EXPECTED_UNAVAILABLE and is_error_format(response)
            and response.json()["error"]["code"] == EXPECTED_UNAVAILABLE[label])


def is_error_format(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return (set(body) == {"error"} and isinstance(error, dict) and set(error) == {"code", "message", "details"}
            and isinstance(error["code"], str) and isinstance(error["message"], str)
            and isinstance(error["details"], dict))


def fuzz(operation, mode: GenerationMode, ids: dict[str, object], *, learner: Learner, throwaway: Throwaway,
         findings: Findings) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    checks = CHECKS.get_by_names(SCHEMA_CHECKS)
    documented = [check for check in checks if check.__name__ != "not_a_server_error"]
    generated = operation.as_strategy(generation_mode=mode)
    names = {parameter.name for parameter in operation.path_parameters}
    mine = {name: value for name, value in ids.items() if name in names}
    strategies = [generated]
    if mode == GenerationMode.POSITIVE:  # also the document's examples, and the learner's own ids
        strategies += operation.schema.get_strategies_from_examples(operation)
        if mine:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=mine))
    strategy = st.one_of(strategies)
    session = requests.Session()

    @hypothesis.given(case=strategy)
    @hypothesis.settings(max_examples=EXAMPLES.get(label, DEFAULT_EXAMPLES), derandomize=True, database=None,
                         deadline=None, phases=[Phase.explicit, Phase.generate], print_blob=False,
                         suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        token = throwaway.token_for(label) if label in TOKEN_ENDING else learner.access_token
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=learner.base_url, session=session, headers=headers, timeout=40)
        findings.cases += 1
        findings.by_operation[label] = findings.by_operation.get(label, 0) + 1
        if label in ("POST /api/v1/auth/refresh", "POST /api/v1/auth/password") and response.status_code == 200:
            throwaway.remember(response.json())  # both revoke the tokens used and hand out new ones
        problem, unavailable = None, expected_unavailable(label, response)
        if response.status_code >= 500 and not unavailable:
            problem = f"{response.status_code} {response.text[:300]}"
        elif response.status_code >= 400 and not is_error_format(response):
            problem = f"{response.status_code} not in the error format: {response.text[:300]}"
        else:
            try:
                case.validate_response(response, checks=documented if unavailable else checks)
            except FailureGroup as failures:
                problem = f"{response.status_code} does not match the document: {failures.message[:600]}"
        if problem:
            curl = case.as_curl_command(headers, base_url=learner.base_url)
            findings.failures.append(f"{label} [{mode.value}] {curl}\n  -> {problem}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to make invalid (an operation without parameters has no negative cases)


# Every operation is fuzzed (about 90, 50 cases each way): several minutes, more on a busy
# machine, so more than the suite's 300 s per test.
@pytest.mark.timeout(900)
def test_schemathesis_finds_no_server_error_and_every_answer_matches_the_document(stack):
    learner = register(stack.base_url, stack.ws_url)
    throwaway = Throwaway(register(stack.base_url, stack.ws_url))
    ids = real_ids(learner)
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/api/v1/openapi.json")
    findings = Findings()

    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, ids, learner=learner, throwaway=throwaway, findings=findings)
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {findings.cases} cases over {len(findings.by_operation)} operations in {elapsed:.0f} s")

    assert not findings.failures, (f"{len(findings.failures)} failing cases:\n"
                                   + "\n".join(findings.failures[:40]))
    assert len(findings.by_operation) == sum(1 for _ in schema.get_all_operations())
    assert findings.cases >= MIN_CASES, findings.by_operation
    assert learner.get("/api/v1/auth/me").status_code == 200  # the fuzzing learner is still signed in
