"""Speech for the characters' replies (text to speech) and the learner's recordings
(speech to text).

Text to speech: OpenAI's speech endpoint (through the openai SDK) when OpenAI is one of
the configured model providers and OPENAI_API_KEY is set; otherwise `espeak-ng` (WAV) when
the binary is on PATH; otherwise Unavailable (`tts_unavailable`). Audio is cached in Redis
under a hash of engine, model, voice and text for AUDIO_CACHE_TTL_SECONDS; an entry is at
most AUDIO_CACHE_MAX_ENTRY_BYTES (larger audio is not cached), so the cache is bounded by
the TTL times the learners' quota. A Redis outage only skips the cache.

Speech to text: OpenAI's transcription endpoint, same condition; otherwise Unavailable
(`stt_unavailable`). A recording sent as a turn is transcribed by the `llm` worker
(domain/audio_turns.py) with `transcribe_recording`. Both count against the learner's `audio` quota (per minute and per
day, QUOTA_AUDIO_PER_MINUTE / QUOTA_AUDIO_PER_DAY), counted in Redis as domain/quotas.py
counts its actions.
"""
from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from functools import cache

import redis
from limits import RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

from domain.config import Settings, get_settings
from domain.errors import Invalid, RateLimited, Unavailable, UpstreamFailed
from domain.redis_client import get_redis

log = logging.getLogger(__name__)

VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
UPLOAD_TYPES = ("audio/webm", "audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav", "audio/x-wav", "audio/wave",
                "audio/flac", "audio/m4a", "audio/x-m4a")
_EXTENSIONS = {"audio/webm": "webm", "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "mp4",
               "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/flac": "flac",
               "audio/m4a": "m4a", "audio/x-m4a": "m4a"}
_CACHE_PREFIX = "parlons:tts:"


@dataclass(frozen=True)
class Speech:
    audio: bytes
    content_type: str
    engine: str  # openai | espeak-ng
    cached: bool


def openai_enabled(settings: Settings) -> bool:
    return bool(settings.openai_api_key) and "openai" in (settings.primary_llm_provider,
                                                          settings.secondary_llm_provider)


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def capabilities(settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    tts = "openai" if openai_enabled(settings) else ("espeak-ng" if espeak_binary() else None)
    stt = "openai" if openai_enabled(settings) else None
    return {"tts": tts is not None, "tts_engine": tts, "stt": stt is not None, "stt_engine": stt,
            "voices": list(VOICES) if tts == "openai" else [], "max_text_chars": settings.audio_max_text_chars,
            "max_upload_bytes": settings.audio_max_upload_bytes, "upload_types": list(UPLOAD_TYPES)}


# --- quota ---------------------------------------------------------------------------------

@cache
def _limiter() -> FixedWindowRateLimiter:
    client = get_redis()
    return FixedWindowRateLimiter(RedisStorage(get_settings().redis_url, connection_pool=client.connection_pool,
                                               key_prefix="parlons:quota"))


def spend(user_id: uuid.UUID) -> None:
    """Count one audio request of the learner's; RateLimited when over the minute's or the day's."""
    settings = get_settings()
    for window, item_class in (("minute", RateLimitItemPerMinute), ("day", RateLimitItemPerDay)):
        limit = getattr(settings, f"quota_audio_per_{window}")
        item = item_class(limit)
        try:
            allowed = limit > 0 and _limiter().hit(item, "action", str(user_id), "audio")
        except redis.RedisError:
            log.warning("audio quota unavailable (Redis); letting the request through")
            return
        if not allowed:
            reset = _limiter().get_window_stats(item, "action", str(user_id), "audio").reset_time
            retry_after = max(1, int(reset - time.time()) + 1)
            raise RateLimited(f"You have made as many audio requests as allowed per {window}; "
                              f"try again in {retry_after} s.", code="quota_exceeded", retry_after=retry_after,
                              details={"quota": f"audio_per_{window}", "limit": limit,
                                       "retry_after_seconds": retry_after})


# --- text to speech ------------------------------------------------------------------------

def _client(settings: Settings):
    import openai
    return openai.OpenAI(api_key=settings.openai_api_key, base_url=settings.openai_api_base,
                         timeout=settings.audio_timeout_seconds, max_retries=1)


def synthesize(user_id: uuid.UUID, text: str, voice: str | None) -> Speech:
    settings = get_settings()
    text = text.strip()
    if not text:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={"text": ["Must not be empty."]})
    if len(text) > settings.audio_max_text_chars:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={"text": [f"At most {settings.audio_max_text_chars} characters."]})
    voice = voice or settings.audio_tts_voice
    if openai_enabled(settings):
        engine, model, content_type = "openai", settings.audio_tts_model, "audio/mpeg"
    elif espeak_binary():
        engine, model, content_type = "espeak-ng", "fr", "audio/wav"
    else:
        raise Unavailable("Text to speech is not available on this server (no OpenAI key, no espeak-ng).",
                          code="tts_unavailable")
    key = _CACHE_PREFIX + hashlib.sha256(f"{engine}\0{model}\0{voice}\0{text}".encode()).hexdigest()
    try:
        hit = get_redis().get(key)
    except redis.RedisError:
        hit = None
    if hit is not None:
        return Speech(hit, content_type, engine, True)
    spend(user_id)
    audio = _openai_speech(settings, text, voice) if engine == "openai" else _espeak(text)
    if len(audio) <= settings.audio_cache_max_entry_bytes:
        try:
            get_redis().set(key, audio, ex=settings.audio_cache_ttl_seconds)
        except redis.RedisError:
            log.warning("could not cache speech (Redis unavailable)")
    return Speech(audio, content_type, engine, False)


def _openai_speech(settings: Settings, text: str, voice: str) -> bytes:
    import openai
    try:
        response = _client(settings).audio.speech.create(model=settings.audio_tts_model, voice=voice, input=text,
                                                         response_format="mp3")
        return response.read()
    except openai.OpenAIError as error:
        log.warning("OpenAI speech failed: %s", error)
        raise UpstreamFailed("The speech provider failed; try again shortly.", code="tts_failed") from error


def _espeak(text: str) -> bytes:
    try:
        done = subprocess.run([espeak_binary() or "espeak-ng", "-v", "fr", "--stdout", text], capture_output=True,
                              timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("espeak-ng failed: %s", error)
        raise UpstreamFailed("Speech synthesis failed.", code="tts_failed") from error
    return done.stdout


# --- speech to text ------------------------------------------------------------------------

def check_upload(data: bytes, content_type: str | None, settings: Settings | None = None, *,
                 field: str = "file") -> str:
    """The upload's media type (without parameters), or Invalid naming the form `field`."""
    settings = settings or get_settings()
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in UPLOAD_TYPES:
        raise Invalid("The file is not a supported audio type.", code="unsupported_audio",
                      details={field: [f"Content type must be one of {', '.join(UPLOAD_TYPES)}."]})
    if not data:
        raise Invalid("Some fields are missing or invalid.", code="validation_error",
                      details={field: ["The file is empty."]})
    if len(data) > settings.audio_max_upload_bytes:
        raise Invalid("The file is too large.", code="audio_too_large",
                      details={field: [f"At most {settings.audio_max_upload_bytes} bytes."]})
    return media


class TranscriptionRefused(UpstreamFailed):
    """The provider refused this recording (a 4xx other than 408, 409 and 429: bad or
    unreadable audio): asking again would be refused again."""


def transcribe(user_id: uuid.UUID, data: bytes, content_type: str | None) -> str:
    settings = get_settings()
    if not openai_enabled(settings):
        raise stt_unavailable()
    media = check_upload(data, content_type, settings)
    spend(user_id)
    return transcribe_recording(settings, data, media)


def stt_unavailable() -> Unavailable:
    return Unavailable("Speech to text is not available on this server (no OpenAI key).", code="stt_unavailable")


def transcribe_recording(settings: Settings, data: bytes, media: str) -> str:
    """The recording's text (stripped; may be empty), through OpenAI's transcription
    endpoint: one request (the SDK retries a 5xx, a 429 or a lost connection once).
    TranscriptionRefused when the provider refuses the recording itself, UpstreamFailed
    when it fails otherwise (worth asking again later)."""
    import openai
    try:
        result = _client(settings).audio.transcriptions.create(
            model=settings.audio_stt_model, file=(f"audio.{_EXTENSIONS.get(media, 'webm')}", data, media),
            language="fr")
    except openai.APIStatusError as error:
        log.warning("OpenAI transcription failed: %s", error)
        if 400 <= error.status_code < 500 and error.status_code not in (408, 409, 429):
            raise TranscriptionRefused("The transcription provider could not read the recording.",
                                       code="stt_failed", details={"provider_status": error.status_code}) from error
        raise UpstreamFailed("The transcription provider failed; try again shortly.", code="stt_failed") from error
    except openai.OpenAIError as error:
        log.warning("OpenAI transcription failed: %s", error)
        raise UpstreamFailed("The transcription provider failed; try again shortly.", code="stt_failed") from error
    return result.text.strip()
