"""Settings from the environment (and an optional `.env`), read once per process.

Every variable is listed with its default in `.env.example`. In production mode a
missing required setting stops the process at start-up with one clear message.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parent.parent

# Development-only secrets: good enough on a laptop (`make run` prints the Flower login),
# refused in production.
_DEV_JWT_SECRET = "parlons-development-secret-change-me-0123456789"
DEV_FLOWER_LOGIN = "admin:parlons"

# Secrets production refuses by value: what the templates (.env.example, deploy/) ship or
# show, and the usual stand-ins. A long placeholder is still a placeholder.
_PLACEHOLDER_SECRETS = frozenset({
    _DEV_JWT_SECRET, DEV_FLOWER_LOGIN, "parlons", "parlons-demo",
    "replace-with-at-least-32-private-characters", "replace-with-user:password",
    "user:password", "admin:admin", "admin:password", "password", "secret", "admin", "changeme", "change-me",
    "pass", "test", "example", "xxx", "...",
})
# Words that only a stand-in contains ("change-me", "replace-with-...", "<your key>").
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "replace-with", "replace-me", "replace_me",
                        "placeholder", "your-", "<", "example", "...")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    env: str = "development"  # development | test | production
    database_url: str = ""
    redis_url: str = ""
    broker_url: str = ""  # defaults to redis_url
    jwt_secret_key: str = _DEV_JWT_SECRET
    jwt_access_token_minutes: int = 15
    jwt_refresh_token_days: int = 30
    login_rate_limit_account: str = "10/minute"
    login_rate_limit_address: str = "60/minute"
    # PostgreSQL. A request meets a database that is down or unreachable with a 503 within
    # about the connect timeout; a checkout waits at most the pool timeout when every
    # pooled connection is busy; one statement may run at most the statement timeout
    # (the nightly FSRS fit gets the long one, per transaction).
    database_connect_timeout_seconds: int = 2  # whole seconds (libpq's unit), at least 2
    database_pool_timeout_seconds: float = 2.0
    database_statement_timeout_seconds: float = 15.0
    database_long_statement_timeout_seconds: float = 600.0
    register_rate_limit_address: str = "20/hour"  # accounts created per client address
    # Reverse proxies in front of the web process that set X-Forwarded-For/-Proto/-Host
    # (0: none trusted, the TCP peer is the client). Behind one nginx or App Platform's
    # router: 1. More than the real number lets clients forge their address.
    trusted_proxy_hops: int = 0
    ws_token_check_seconds: float = 2.0  # how often a web process re-checks its sockets' tokens
    max_request_bytes: int = 64 * 1024
    max_json_depth: int = 32  # arrays/objects inside each other in a body or socket frame; ours need 3
    # Per-learner quotas (domain/quotas.py): each action per minute and per day, sized for
    # a keen learner (a message every two seconds, hours of practice); over one: 429.
    quota_turns_per_minute: int = 30
    quota_turns_per_day: int = 2000
    quota_hints_per_minute: int = 20
    quota_hints_per_day: int = 500
    quota_transcripts_per_minute: int = 120  # voice segments come often
    quota_transcripts_per_day: int = 5000
    quota_letters_per_minute: int = 5
    quota_letters_per_day: int = 50
    quota_journey_answers_per_minute: int = 20
    quota_journey_answers_per_day: int = 500
    quota_language_checks_per_minute: int = 60
    quota_language_checks_per_day: int = 2000
    quota_realtime_secrets_per_minute: int = 5
    quota_realtime_secrets_per_day: int = 100
    # Model tokens a learner may spend a day (providers' usage fields); past it their
    # turns are answered offline (degraded, reason budget_exhausted). ~200 full-context turns.
    quota_tokens_per_day: int = 500_000
    quota_sockets: int = 10  # sockets one learner holds open at once (the next is closed with 4429)
    quota_long_polls: int = 10  # GET /turns/{id}?wait= one learner has waiting at once
    quota_override_cache_seconds: float = 10.0  # how long a process keeps the learners' overrides
    max_message_chars: int = 2000
    turn_deadline_seconds: int = 60
    outbox_republish_after_seconds: int = 10
    outbox_max_attempts: int = 8  # sends or starts of one piece of work before it is given up (dead)
    sweep_interval_seconds: float = 5.0
    stage_lease_seconds: int = 15
    event_stream_maxlen: int = 200  # events kept per learner for replay (reply deltas leave at the result)
    event_stream_ttl_seconds: int = 24 * 3600  # a learner's replay window expires a day after their last event
    ws_ping_interval_seconds: int = 25
    ws_heartbeat_seconds: int = 30
    offline_reply_chunk_delay_ms: int = 0
    reply_delta_min_interval_ms: int = 50
    grammar_model_seconds: float = 8.0  # the model's correction pass, after which the rules stand alone
    language_check_timeout_seconds: float = 5.0  # POST /language/check waits this long for an nlp worker
    context_token_budget: int = 2000  # recent messages in a reply's prompt; older ones are summarized
    transcript_hint_delay_seconds: float = 2.0  # quiet after the learner spoke before a voice hint
    fsrs_enable_fuzzing: bool = True  # off in tests, so due dates are exact
    fsrs_learning_steps: str = "1m,10m"  # FSRS's defaults; units s, m, h, d
    fsrs_relearning_steps: str = "10m"
    fsrs_optimizer_min_reviews: int = 400  # below this a learner keeps FSRS-6's default parameters
    fsrs_optimizer_hour_utc: int = 3  # when the nightly fit runs
    penpal_reply_delay_seconds: float = 6 * 3600.0  # a reply arrives this long after the letter...
    penpal_reply_jitter_seconds: float = 3600.0  # ...plus up to this much at random (0: none)
    penpal_delivery_interval_seconds: float = 15.0  # how often beat delivers due replies
    session_idle_end_minutes: float = 60.0  # a session without activity this long is ended, with its summary
    session_idle_check_seconds: float = 60.0  # how often beat looks for such sessions
    metrics_token: str = field(default="", repr=False)  # when set, /metrics wants "Authorization: Bearer <it>"
    # Flower's login, user:password[,user:password...] (Flower reads it itself); production
    # refuses to start Flower without one, and every process refuses a placeholder.
    flower_basic_auth: str = field(default="", repr=False)
    openai_realtime_model: str = "gpt-realtime"
    log_level: str = "INFO"
    log_tasks: bool = False  # Celery's line per task received and succeeded (failures are always logged)
    task_events: bool = False  # the workers' task events, from which Flower lists tasks (~7 ms CPU per turn)
    primary_llm_provider: str = "openai"  # openai | anthropic | offline | empty
    secondary_llm_provider: str = "anthropic"
    openai_api_key: str = field(default="", repr=False)
    openai_api_base: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"
    openai_moderation_model: str = "omni-moderation-latest"
    openai_requests_per_minute: int = 500
    anthropic_api_key: str = field(default="", repr=False)
    anthropic_api_base: str = "https://api.anthropic.com"
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_requests_per_minute: int = 50
    llm_request_timeout_seconds: float = 20.0
    llm_max_retries: int = 2
    llm_keepalive_connections: int = 300  # per process and provider: ~3 calls in flight per turn
    llm_cache_ttl_seconds: int = 24 * 3600
    # A session's target words (domain/srs/targets.py): the learner's due cards, least
    # recallable first, then new words at their level; the reply is asked to use a few.
    session_target_due_words: int = 4
    session_target_new_words: int = 2
    notebook_card_after: int = 2  # occurrences of an error pattern that make it an error card
    notebook_retire_after_days: int = 21  # a card unseen this long, with this much stability, retires
    # Progress analytics (domain/analytics.py): a word counts as known while its card's
    # stability (days for recall to fall to 90%) is at least this.
    words_known_stability_days: float = 21.0
    # Outgoing mail (domain/mail.py). Without SMTP_URL mail is written to the log instead.
    smtp_url: str = ""  # smtp://user:pass@host:port (smtps:// for SSL from the first byte)
    smtp_starttls: bool = False  # upgrade a smtp:// connection with STARTTLS
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "Parlons <no-reply@parlons.local>"
    # Forgotten passwords (domain/password_reset.py); links in mail point at PUBLIC_BASE_URL.
    public_base_url: str = "http://localhost:5000"
    password_reset_token_minutes: int = 30
    password_reset_rate_limit_account: str = "3/hour"  # over it: still 202, nothing sent
    password_reset_rate_limit_address: str = "20/hour"  # over it: 429
    # Email verification (domain/email_verification.py): a link mailed at registration
    # (when SMTP_URL is set, or verification is required), valid EMAIL_VERIFICATION_HOURS.
    # Required: an unverified account cannot log in or refresh its tokens (403).
    require_email_verification: bool = False
    email_verification_hours: int = 48
    email_verification_rate_limit_account: str = "3/hour"  # resends; over it: still 202, nothing sent
    email_verification_rate_limit_address: str = "20/hour"  # resends; over it: 429
    data_export_link_hours: int = 48  # how long a data export link works (once)
    # Anki export and import (domain/anki.py): a file larger than ANKI_IMPORT_MAX_BYTES, or
    # with more than ANKI_IMPORT_MAX_ROWS cards, is refused (422); one with more than
    # ANKI_IMPORT_SYNC_MAX_ROWS cards or reviews, or larger than ANKI_IMPORT_SYNC_MAX_BYTES,
    # is imported by a task (202, `import_progress` events) instead of in the request.
    anki_import_max_bytes: int = 20 * 1024 * 1024
    anki_import_max_rows: int = 50_000
    anki_import_sync_max_rows: int = 200
    anki_import_sync_max_bytes: int = 1024 * 1024
    # Reminders (domain/reminders.py): Web Push with these VAPID keys (push is off without
    # the private and public key), checked by a beat job every REMINDER_CHECK_INTERVAL_SECONDS.
    vapid_private_key: str = ""  # base64url of the raw P-256 private key, or a PEM file's path
    vapid_public_key: str = ""  # base64url of the uncompressed P-256 public point (applicationServerKey)
    vapid_subject: str = "mailto:admin@localhost"  # the VAPID `sub` claim: mailto: or https: of the operator
    reminder_check_interval_seconds: float = 300.0
    reminder_default_hour: int = 19  # a learner's reminder hour until they choose one
    reminder_email: bool = True  # learners without a push subscription are reminded by email (needs SMTP_URL)
    # Assignments (domain/assignments.py): a student who has not completed an assigned unit
    # gets one `assignment_due` reminder once it is due within this many hours.
    assignment_reminder_hours: float = 24.0
    # Audio (domain/audio.py): OpenAI's speech and transcription endpoints when OpenAI is a
    # configured provider with a key, else espeak-ng for speech, else 503.
    audio_tts_model: str = "gpt-4o-mini-tts"
    audio_tts_voice: str = "coral"
    audio_stt_model: str = "gpt-4o-mini-transcribe"
    audio_timeout_seconds: float = 30.0
    audio_max_text_chars: int = 1000  # text sent to speech
    audio_max_upload_bytes: int = 5 * 1024 * 1024  # a recording sent to transcription
    audio_cache_ttl_seconds: int = 7 * 24 * 3600  # speech cached in Redis by engine, model, voice and text
    audio_cache_max_entry_bytes: int = 2 * 1024 * 1024  # larger audio is not cached
    quota_audio_per_minute: int = 30
    quota_audio_per_day: int = 500

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or self.redis_url


LLM_PROVIDER_NAMES = ("openai", "anthropic", "offline", "")

# Settings that production refuses to run without (the development defaults are unsafe
# or point at embedded servers that production does not start).
_REQUIRED_IN_PRODUCTION = ("database_url", "redis_url", "jwt_secret_key")


def load_settings(environ: dict[str, str] | None = None, *, for_flower: bool = False) -> Settings:
    """Build Settings from `environ` (default: os.environ after reading `.env`).
    `for_flower`: the process is Flower, which production refuses to run without a login."""
    if environ is None:
        load_dotenv(REPO_ROOT / ".env", override=False)
        environ = dict(os.environ)
    values: dict[str, object] = {}
    problems: list[str] = []
    for f in fields(Settings):
        raw = environ.get(f.name.upper())
        if raw is None:
            continue
        kind = type(f.default)
        try:
            values[f.name] = _bool(raw) if kind is bool else kind(raw)
        except ValueError:
            problems.append(f"{f.name.upper()}={raw!r} is not a valid {kind.__name__}")
    if environ.get("PARLONS_ENV"):
        values["env"] = environ["PARLONS_ENV"]
    settings = Settings(**values)
    if settings.env not in {"development", "test", "production"}:
        problems.append(f"PARLONS_ENV must be development, test or production, not {settings.env!r}")
    for name in ("primary_llm_provider", "secondary_llm_provider"):
        if getattr(settings, name) not in LLM_PROVIDER_NAMES:
            problems.append(f"{name.upper()} must be openai, anthropic, offline or empty, "
                            f"not {getattr(settings, name)!r}")
    if settings.is_production:
        missing = [n.upper() for n in _REQUIRED_IN_PRODUCTION if not environ.get(n.upper())]
        problems += [f"{name} is required when PARLONS_ENV=production" for name in missing]
        problems += _placeholder_problems(settings, skip=missing)
        if for_flower and not settings.flower_basic_auth:
            problems.append("FLOWER_BASIC_AUTH is required to run Flower when PARLONS_ENV=production "
                            "(user:password; Flower would otherwise serve without a login)")
    for name in ("database_url", "redis_url"):
        if not getattr(settings, name) and not problems:
            problems.append(
                f"{name.upper()} is not set: run through `make run`, which starts embedded "
                f"servers, or set it in the environment or .env"
            )
    if problems:
        raise ConfigError("Parlons cannot start:\n  - " + "\n  - ".join(problems))
    return settings


def is_placeholder(secret: str) -> bool:
    """Whether `secret` is a template's stand-in or a well-known default, not a secret."""
    lowered = secret.strip().lower()
    return lowered in _PLACEHOLDER_SECRETS or any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def _placeholder_problems(settings: Settings, *, skip: list[str]) -> list[str]:
    """Production's refusals of secrets that are set but are not private: each names its variable."""
    problems = []
    if "JWT_SECRET_KEY" not in skip and (is_placeholder(settings.jwt_secret_key)
                                         or len(settings.jwt_secret_key) < 32):
        problems.append("JWT_SECRET_KEY must be a private value of at least 32 characters "
                        "(e.g. `openssl rand -hex 32`), not a template's placeholder")
    if settings.flower_basic_auth and _flower_login_is_placeholder(settings.flower_basic_auth):
        problems.append("FLOWER_BASIC_AUTH must be user:password with a private password, not a placeholder")
    if settings.metrics_token and is_placeholder(settings.metrics_token):
        problems.append("METRICS_TOKEN must be a private value, not a placeholder")
    for name in ("database_url", "redis_url", "broker_url"):
        password = _url_password(getattr(settings, name))
        if password and is_placeholder(password):
            problems.append(f"{name.upper()} has a placeholder password")
    return problems


def _flower_login_is_placeholder(logins: str) -> bool:
    for login in logins.split(","):
        user, _, password = login.strip().partition(":")
        if not user or not password or is_placeholder(login) or is_placeholder(password):
            return True
    return False


def _url_password(url: str) -> str:
    """The password in a URL's user part (empty without one, or when it is a platform's
    ${...} reference, filled in at run time)."""
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password or ""
    except ValueError:
        return ""
    return "" if password.startswith("${") else password


@cache
def get_settings() -> Settings:
    """The process's settings; a configuration problem ends the process with its message
    (no stack trace: there is nothing to debug, only a setting to fix)."""
    try:
        return load_settings()
    except ConfigError as error:
        raise SystemExit(str(error)) from None
