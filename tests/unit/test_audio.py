"""domain/audio.py's pure decisions: which engine, and what an upload must be."""
from __future__ import annotations

import pytest

from domain import audio
from domain.config import load_settings
from domain.errors import Invalid


def _settings(**env: str):
    return load_settings({"PARLONS_ENV": "test", "DATABASE_URL": "postgresql://x/y", "REDIS_URL": "redis://x/0",
                          "JWT_SECRET_KEY": "k" * 40, **env})


@pytest.mark.parametrize("env, enabled", [
    ({"OPENAI_API_KEY": "sk-test", "PRIMARY_LLM_PROVIDER": "openai"}, True),
    ({"OPENAI_API_KEY": "sk-test", "PRIMARY_LLM_PROVIDER": "anthropic", "SECONDARY_LLM_PROVIDER": "openai"}, True),
    ({"OPENAI_API_KEY": "sk-test", "PRIMARY_LLM_PROVIDER": "offline", "SECONDARY_LLM_PROVIDER": ""}, False),
    ({"OPENAI_API_KEY": "", "PRIMARY_LLM_PROVIDER": "openai"}, False),
])
def test_openai_only_with_a_key_and_as_a_configured_provider(env, enabled):
    assert audio.openai_enabled(_settings(**env)) is enabled


def test_capabilities_without_openai_or_espeak(monkeypatch):
    monkeypatch.setattr(audio, "espeak_binary", lambda: None)
    caps = audio.capabilities(_settings(PRIMARY_LLM_PROVIDER="offline", SECONDARY_LLM_PROVIDER=""))
    assert (caps["tts"], caps["tts_engine"], caps["stt"], caps["voices"]) == (False, None, False, [])


def test_capabilities_with_espeak_only(monkeypatch):
    monkeypatch.setattr(audio, "espeak_binary", lambda: "/usr/bin/espeak-ng")
    caps = audio.capabilities(_settings(PRIMARY_LLM_PROVIDER="offline", SECONDARY_LLM_PROVIDER=""))
    assert (caps["tts"], caps["tts_engine"], caps["stt"]) == (True, "espeak-ng", False)


@pytest.mark.parametrize("data, content_type, code", [
    (b"x", "text/plain", "unsupported_audio"),
    (b"x", None, "unsupported_audio"),
    (b"", "audio/webm", "validation_error"),
    (b"x" * 101, "audio/webm", "audio_too_large"),
])
def test_bad_uploads(data, content_type, code):
    with pytest.raises(Invalid) as raised:
        audio.check_upload(data, content_type, _settings(AUDIO_MAX_UPLOAD_BYTES="100"))
    assert raised.value.code == code


def test_a_good_upload_names_its_media_type_without_parameters():
    assert audio.check_upload(b"x" * 100, "audio/webm;codecs=opus", _settings(AUDIO_MAX_UPLOAD_BYTES="100")) \
        == "audio/webm"
