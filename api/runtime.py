"""Objects a web process builds once: the login throttle, the character library, and
the event hub (one Redis subscription per process)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from domain.characters import CharacterLibrary, default_library
from domain.config import get_settings
from domain.errors import UpstreamFailed
from domain.llm.base import ProviderFailure
from domain.llm.chain import get_chain
from domain.login_throttle import LoginThrottle
from domain.redis_client import get_redis

T = TypeVar("T")


def per_process(build: Callable[[], T]) -> Callable[[], T]:
    """`build()` once per process: a forked child (gunicorn's workers) builds its own,
    as greenlets and Redis connections do not survive a fork."""
    built: dict[int, T] = {}

    def get() -> T:
        pid = os.getpid()
        if pid not in built:
            built.clear()
            built[pid] = build()
        return built[pid]

    get.__doc__ = build.__doc__
    return get


@cache
def login_throttle() -> LoginThrottle:
    settings = get_settings()
    return LoginThrottle(settings.redis_url, per_account=settings.login_rate_limit_account,
                         per_address=settings.login_rate_limit_address,
                         registrations_per_address=settings.register_rate_limit_address,
                         connection_pool=get_redis().connection_pool)


def characters() -> CharacterLibrary:
    return default_library()


def realtime_minter() -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """Mints an OpenAI Realtime client secret for a session config; None without an
    OpenAI key. A refusal or an outage is UpstreamFailed (502)."""
    openai = get_chain().openai
    if openai is None:
        return None

    def mint(session: dict[str, Any]) -> dict[str, Any]:
        try:
            secret = openai.create_realtime_client_secret(
                session, deadline=time.monotonic() + get_settings().llm_request_timeout_seconds)
        except ProviderFailure as failure:
            raise UpstreamFailed(f"OpenAI did not create the voice session: {failure.reason}",
                                 code="realtime_refused") from None
        return {"value": secret["value"], "expires_at": secret["expires_at"]}

    return mint
