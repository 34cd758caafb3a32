"""A recording sent as a turn (POST /sessions/{id}/messages, multipart field `audio`): stored
with the turn, transcribed once on the `llm` queue through the loopback OpenAI server
(tests/support/fake_llm.py), then run through the pipeline like a typed message; and the
offline answer of the ordinary test stack (no key: 503, nothing stored)."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from domain import tasks
from tests.support.client import Learner, register, turn_result_for
from tests.support.fake_llm import DEFAULT_REPLY, FakeLLM, FakeProvider
from tests.support.signals import outbox_left, published, tasks_finished
from tests.support.stack import BIN, REPO, Stack
from tests.support.waits import eventually

WEBM = b"\x1aE\xdf\xa3" + b"\x00" * 600  # a WebM header and padding: the fake never decodes it
TRANSCRIPTIONS = "/v1/audio/transcriptions"


def speak(learner: Learner, session_id: str, data: bytes = WEBM, content_type: str = "audio/webm",
          **fields: str) -> requests.Response:
    return requests.post(f"{learner.base_url}/api/v1/sessions/{session_id}/messages", headers=learner.headers,
                         files={"audio": ("clip.webm", data, content_type)}, data=fields, timeout=20)


def turns_in(stack: Stack, session_id: str) -> int:
    with stack.database() as db:
        return db.execute("SELECT count(*) FROM turns WHERE session_id = %s AND kind = 'message'",
                          (session_id,)).fetchone()[0]


def recordings_of(stack: Stack, turn_id: str) -> int:
    with stack.database() as db:
        return db.execute("SELECT count(*) FROM turn_audio WHERE turn_id = %s", (turn_id,)).fetchone()[0]


def finished(learner: Learner, turn_id: str) -> dict:
    def done() -> dict | None:
        view = learner.get(f"/api/v1/turns/{turn_id}", params={"wait": 10}).json()
        return view if view["status"] != "pending" else None

    return eventually(done, f"turn {turn_id} finished", timeout=45, interval=0)


# --- offline: the ordinary test stack has no OpenAI key (these run before the module's
# --- fixture points the stack at the loopback server) ---------------------------------------

def test_offline_a_recording_is_503_stt_unavailable_and_nothing_is_stored(stack, learner):
    session = learner.new_session(mode="sandbox")
    response = speak(learner, session["id"], client_message_id="offline-1")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "stt_unavailable"
    assert turns_in(stack, session["id"]) == 0
    with stack.database() as db:
        assert db.execute("SELECT count(*) FROM turn_audio a JOIN turns t ON t.id = a.turn_id "
                          "WHERE t.user_id = %s", (learner.user["id"],)).fetchone()[0] == 0
    assert learner.send(session["id"], "Bonjour !", client_message_id="offline-1").status_code == 202, \
        "the client_message_id was not used up"


# --- OpenAI: web and llm worker pointed at the loopback server ----------------------------------

@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeLLM]:
    with FakeLLM() as servers:
        yield servers


@pytest.fixture(scope="module")
def speaking(stack: Stack, openai_fake: FakeLLM) -> Iterator[Stack]:
    """The stack's web process and llm worker with OpenAI configured (the fake) and a small
    upload limit; the ordinary ones again afterwards."""
    env = {**openai_fake.openai.env(), "PRIMARY_LLM_PROVIDER": "openai", "AUDIO_MAX_UPLOAD_BYTES": "4000"}
    stack.restart_web(**env)
    stack.stop_process("worker_llm")
    stack.start_ready_worker("llm", **env)
    try:
        yield stack
    finally:
        stack.stop_process("worker_llm")
        stack.start_ready_worker("llm")
        stack.restart_web()


@pytest.fixture
def model(openai_fake: FakeLLM) -> FakeProvider:
    openai_fake.openai.reset()
    openai_fake.openai.up()
    return openai_fake.openai


@pytest.fixture
def speaker(speaking: Stack) -> Learner:
    return register(speaking.base_url, speaking.ws_url)


@pytest.fixture
def conversation(speaker: Learner) -> str:
    """A sandbox session: no greeting, so the model's calls are the turn's alone."""
    return speaker.new_session(mode="sandbox")["id"]


def dispatch_again(stack: Stack, kind: str, ref_id: str, times: int) -> None:
    """Publish an outbox entry's tasks again, as a re-sending sweeper or a redelivery would."""
    subprocess.run([BIN / "python", "-c", "import sys\nfrom workers.dispatch import dispatch\n"
                    f"for _ in range({times}):\n    dispatch(sys.argv[1], sys.argv[2])", kind, ref_id],
                   env=stack.env, cwd=REPO, check=True, capture_output=True, timeout=60)


def test_a_recording_is_transcribed_then_answered_like_a_typed_turn(speaking, speaker, conversation, model):
    model.transcript_text = "Je voudrais un café, s'il vous plaît."
    with speaker.socket(f"/api/v1/sessions/{conversation}/ws") as socket:
        assert socket.next_event()["type"] == "session_ready"  # live from here on
        response = speak(speaker, conversation)
        assert response.status_code == 202, response.text
        accepted = response.json()["turn"]
        assert accepted["status"] == "pending" and accepted["user_message"] is None
        events = socket.until(turn_result_for(accepted["id"]), timeout=30)
    types = [event["type"] for event in events]
    assert {"turn_accepted", "grammar_feedback", "moderation_feedback"} <= set(types)
    assert types.index("turn_accepted") < types.index("grammar_feedback")
    turn = events[-1]["data"]["turn"]
    assert turn["status"] == "complete", turn
    assert turn["user_message"]["content"] == "Je voudrais un café, s'il vous plaît."
    assert turn["assistant_message"]["content"] == DEFAULT_REPLY and turn["reply_provider"] == "openai"
    assert turn["user_message"]["created_at"] == accepted["created_at"], "the message is dated when it was spoken"
    [call] = model.calls(TRANSCRIPTIONS)
    assert "gpt-4o-mini-transcribe" in call.body["raw"]
    [moderated] = model.calls("/v1/moderations")
    assert moderated.body["input"] == "Je voudrais un café, s'il vous plaît."
    history = speaker.get(f"/api/v1/sessions/{conversation}/messages").json()["items"]
    assert [(m["role"], m["content"]) for m in history] == [("user", "Je voudrais un café, s'il vous plaît."),
                                                            ("assistant", DEFAULT_REPLY)]
    assert recordings_of(speaking, accepted["id"]) == 0, "the recording is deleted once transcribed"
    eventually(lambda: outbox_left(speaking, [accepted["id"]]) == 0, "the turn's outbox entries are gone")


def test_a_slow_transcription_does_not_hold_up_the_api(speaking, speaker, conversation, model):
    model.transcription_delay = 2.0
    response = speak(speaker, conversation)
    answered_at = time.time()
    assert response.status_code == 202, response.text
    turn_id = response.json()["turn"]["id"]
    [call] = eventually(lambda: model.calls(TRANSCRIPTIONS), "the transcription was asked for")
    assert answered_at < call.at + model.transcription_delay, "the 202 came before the transcription"
    meanwhile = speaker.get(f"/api/v1/turns/{turn_id}")
    served_at = time.time()
    assert meanwhile.status_code == 200 and meanwhile.json()["status"] == "pending"
    assert served_at < call.at + model.transcription_delay, "another request was served while it was out"
    assert finished(speaker, turn_id)["status"] == "complete"


def test_one_transcription_per_turn_even_when_dispatched_again(speaking, speaker, conversation, model):
    ran_before = tasks_finished(speaking, tasks.TURN_TRANSCRIBE)
    model.transcription_delay = 4.0  # longer than the lease (3 s): it must be kept alive
    response = speak(speaker, conversation)
    turn_id = response.json()["turn"]["id"]
    eventually(lambda: model.calls(TRANSCRIPTIONS), "the transcription was asked for")
    dispatch_again(speaking, "turn_audio", turn_id, times=2)  # while the first delivery holds it
    assert finished(speaker, turn_id)["status"] == "complete"
    dispatch_again(speaking, "turn_audio", turn_id, times=1)  # and once it is done
    eventually(lambda: tasks_finished(speaking, tasks.TURN_TRANSCRIBE) >= ran_before + 4,
               "the first delivery and the three others have run")
    assert len(model.calls(TRANSCRIPTIONS)) == 1
    assert len([e for e in published(speaking, speaker.user["id"], "turn_result")
                if e["data"]["turn"]["id"] == turn_id]) == 1


def test_resending_the_client_message_id_returns_the_same_turn(speaking, speaker, conversation, model):
    first = speak(speaker, conversation, client_message_id="spoken-1")
    again = speak(speaker, conversation, client_message_id="spoken-1")
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["turn"]["id"] == first.json()["turn"]["id"]
    finished(speaker, first.json()["turn"]["id"])
    assert turns_in(speaking, conversation) == 1
    assert len(model.calls(TRANSCRIPTIONS)) == 1


def test_transient_provider_errors_are_retried(speaking, speaker, conversation, model):
    model.fail_next(2, status=503)  # the request and the SDK's own retry
    response = speak(speaker, conversation)
    turn = finished(speaker, response.json()["turn"]["id"])
    assert turn["status"] == "complete", turn
    assert turn["user_message"]["content"] == model.transcript_text
    assert len(model.calls(TRANSCRIPTIONS)) == 3, "the sweeper sent the stage again after the failures"


@pytest.mark.parametrize("setup, code", [
    (lambda model: model.fail_next(1, status=400), "transcription_failed"),
    (lambda model: setattr(model, "transcript_text", "   "), "transcription_empty"),
])
def test_a_recording_that_cannot_be_transcribed_fails_the_turn(speaking, speaker, conversation, model, setup, code):
    setup(model)
    with speaker.socket(f"/api/v1/sessions/{conversation}/ws") as socket:
        assert socket.next_event()["type"] == "session_ready"
        response = speak(speaker, conversation)
        turn_id = response.json()["turn"]["id"]
        turn = socket.until(turn_result_for(turn_id), timeout=30)[-1]["data"]["turn"]
    assert turn["status"] == "failed" and turn["error"]["code"] == code and turn["error"]["message"]
    assert turn["user_message"] is None and turn["assistant_message"] is None
    assert len(model.calls(TRANSCRIPTIONS)) == 1, "a refusal is not asked again"
    assert model.calls("/v1/chat/completions") == [], "no reply to a turn nobody understood"
    assert recordings_of(speaking, turn_id) == 0
    assert outbox_left(speaking, [turn_id]) == 0


@pytest.mark.parametrize("data, content_type, status, code", [
    (WEBM, "text/plain", 422, "unsupported_audio"),
    (b"", "audio/webm", 422, "validation_error"),
    (b"\x00" * 5000, "audio/webm", 422, "audio_too_large"),
    (b"\x00" * 200_000, "audio/webm", 413, "payload_too_large"),
])
def test_bad_recordings_are_refused_and_nothing_is_stored(speaking, speaker, conversation, model, data,
                                                          content_type, status, code):
    response = speak(speaker, conversation, data, content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert turns_in(speaking, conversation) == 0
    assert model.calls(TRANSCRIPTIONS) == []


def test_bad_form_fields_are_422_naming_the_field(speaking, speaker, conversation, model):
    response = speak(speaker, conversation, client_message_id="x" * 65)
    assert response.status_code == 422, response.text
    assert "client_message_id" in response.json()["error"]["details"]["form"]
    no_audio = requests.post(f"{speaker.base_url}/api/v1/sessions/{conversation}/messages", headers=speaker.headers,
                             files={"file": ("clip.webm", WEBM, "audio/webm")}, timeout=10)
    assert no_audio.status_code == 422 and "audio" in no_audio.json()["error"]["details"]
    assert turns_in(speaking, conversation) == 0


def test_another_learners_session_is_404(speaking, speaker, conversation, model):
    stranger = register(speaking.base_url, speaking.ws_url)
    response = speak(stranger, conversation)
    assert response.status_code == 404, response.text
    assert turns_in(speaking, conversation) == 0
    assert model.calls(TRANSCRIPTIONS) == []
