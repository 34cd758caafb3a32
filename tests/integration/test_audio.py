"""Audio: speech for replies and transcription of recordings, through the loopback OpenAI
server (tests/support/fake_llm.py) on a web process pointed at it, and the offline answers
of the ordinary test stack (no key: 503, never a call)."""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.support.client import Learner, register
from tests.support.fake_llm import FakeLLM, FakeProvider
from tests.support.stack import Stack

WEBM = b"\x1aE\xdf\xa3" + b"\x00" * 600  # a WebM header and padding: the fake never decodes it


def _upload(learner: Learner, data: bytes, content_type: str = "audio/webm") -> requests.Response:
    return requests.post(learner.base_url + "/api/v1/audio/transcriptions", headers=learner.headers,
                         files={"file": ("clip.webm", data, content_type)}, timeout=20)


# --- offline: the ordinary test stack has no OpenAI key ------------------------------------------

def test_capabilities_say_what_is_missing_offline(learner):
    caps = learner.get("/api/v1/audio/capabilities").json()
    assert caps["stt"] is False and caps["stt_engine"] is None
    assert caps["tts"] is bool(shutil.which("espeak-ng"))


@pytest.mark.skipif(shutil.which("espeak-ng") is not None, reason="espeak-ng is installed: speech is available")
def test_speech_without_any_engine_is_503_tts_unavailable(learner):
    response = learner.post("/api/v1/audio/speech", {"text": "Bonjour !"})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "tts_unavailable"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_speech_offline_through_espeak_ng_is_wav_and_cached(learner):
    text = f"Bonjour, je suis Camille. {uuid.uuid4().hex[:6]}"
    first = learner.post("/api/v1/audio/speech", {"text": text})
    assert first.status_code == 200, first.text
    assert first.headers["Content-Type"] == "audio/wav" and first.content[:4] == b"RIFF"
    assert first.headers["X-Audio-Engine"] == "espeak-ng" and first.headers["X-Audio-Cached"] == "false"
    second = learner.post("/api/v1/audio/speech", {"text": text})
    assert second.content == first.content and second.headers["X-Audio-Cached"] == "true"


def test_transcription_offline_is_503_stt_unavailable(learner):
    response = _upload(learner, WEBM)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "stt_unavailable"


def test_audio_needs_a_token(stack):
    response = requests.post(stack.base_url + "/api/v1/audio/speech", json={"text": "Bonjour"}, timeout=10)
    assert response.status_code == 401
    assert requests.get(stack.base_url + "/api/v1/audio/capabilities", timeout=10).status_code == 401


@pytest.mark.parametrize("payload, field", [({}, "text"), ({"text": ""}, "text"), ({"text": "x" * 1001}, "text"),
                                            ({"text": "Salut", "voice": "robot"}, "voice")])
def test_bad_speech_requests_are_422(learner, payload, field):
    response = learner.post("/api/v1/audio/speech", payload)
    assert response.status_code == 422, response.text
    assert field in str(response.json()["error"]["details"])


# --- OpenAI: the web process pointed at the loopback server --------------------------------------

@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeLLM]:
    with FakeLLM() as servers:
        yield servers


@pytest.fixture(scope="module")
def openai_web(stack: Stack, openai_fake: FakeLLM) -> Iterator[Stack]:
    """The stack's web process with OpenAI configured (the fake), a small upload limit and
    a low audio quota; the ordinary web process again afterwards."""
    stack.restart_web(**openai_fake.openai.env(), PRIMARY_LLM_PROVIDER="openai", AUDIO_MAX_UPLOAD_BYTES="4000",
                      QUOTA_AUDIO_PER_MINUTE="4")
    try:
        yield stack
    finally:
        stack.restart_web()


@pytest.fixture
def model(openai_fake: FakeLLM) -> FakeProvider:
    openai_fake.openai.reset()
    openai_fake.openai.up()
    return openai_fake.openai


@pytest.fixture
def speaker(openai_web: Stack) -> Learner:
    return register(openai_web.base_url, openai_web.ws_url)


def test_capabilities_with_openai(speaker, model):
    caps = speaker.get("/api/v1/audio/capabilities").json()
    assert caps["tts"] and caps["tts_engine"] == "openai" and caps["stt"] and caps["stt_engine"] == "openai"
    assert "coral" in caps["voices"] and caps["max_upload_bytes"] == 4000


def test_speech_through_openai_is_cached_by_text_and_voice(speaker, model):
    text = f"Tu aimes le cinéma ? {uuid.uuid4().hex[:6]}"
    first = speaker.post("/api/v1/audio/speech", {"text": text, "voice": "nova"})
    assert first.status_code == 200, first.text
    assert first.headers["Content-Type"] == "audio/mpeg" and first.headers["X-Audio-Cached"] == "false"
    assert first.content == f"ID3fake-mp3|nova|{text}".encode()
    again = speaker.post("/api/v1/audio/speech", {"text": text, "voice": "nova"})
    assert again.content == first.content and again.headers["X-Audio-Cached"] == "true"
    other_voice = speaker.post("/api/v1/audio/speech", {"text": text, "voice": "onyx"})
    assert other_voice.content == f"ID3fake-mp3|onyx|{text}".encode()
    calls = model.calls("/v1/audio/speech")
    assert [(c.body["voice"], c.body["input"]) for c in calls] == [("nova", text), ("onyx", text)]
    assert all(c.body["model"] == "gpt-4o-mini-tts" for c in calls)


def test_transcription_through_openai(speaker, model):
    model.transcript_text = "Je voudrais un café, s'il vous plaît."
    response = _upload(speaker, WEBM)
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "Je voudrais un café, s'il vous plaît."}
    [call] = model.calls("/v1/audio/transcriptions")
    assert "gpt-4o-mini-transcribe" in call.body["raw"] and call.headers["content-type"].startswith("multipart/")


@pytest.mark.parametrize("data, content_type, status, code", [
    (WEBM, "text/plain", 422, "unsupported_audio"),
    (b"", "audio/webm", 422, "validation_error"),
    (b"\x00" * 5000, "audio/webm", 422, "audio_too_large"),
    (b"\x00" * 200_000, "audio/webm", 413, "payload_too_large"),
])
def test_bad_uploads_change_nothing_and_call_nobody(speaker, model, data, content_type, status, code):
    response = _upload(speaker, data, content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert model.calls("/v1/audio/transcriptions") == []


def test_upload_without_a_file_field_is_422(speaker, model):
    response = requests.post(speaker.base_url + "/api/v1/audio/transcriptions", headers=speaker.headers,
                             files={"nothing": (None, "here")}, timeout=10)  # multipart, no `file` part
    assert response.status_code == 422 and "file" in response.json()["error"]["details"]


def test_provider_failure_is_502(speaker, model):
    model.fail_next(5, status=500)
    response = speaker.post("/api/v1/audio/speech", {"text": f"Une panne {uuid.uuid4().hex[:6]}"})
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "tts_failed"


def test_audio_quota_per_learner(openai_web, model):
    learner = register(openai_web.base_url, openai_web.ws_url)
    other = register(openai_web.base_url, openai_web.ws_url)
    for number in range(4):
        assert learner.post("/api/v1/audio/speech", {"text": f"Phrase {number} {uuid.uuid4().hex}"}).status_code == 200
    refused = learner.post("/api/v1/audio/speech", {"text": f"Encore {uuid.uuid4().hex}"})
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "quota_exceeded" and "Retry-After" in refused.headers
    assert len(model.calls("/v1/audio/speech")) == 4
    assert other.post("/api/v1/audio/speech", {"text": f"Moi aussi {uuid.uuid4().hex}"}).status_code == 200
