"""Objects a web process builds once: the login throttle, the character library, and
the event hub (one Redis subscription per process)."""
from __future__ import annotations

from functools import cache

from domain.characters import CharacterLibrary, default_library
from domain.config import get_settings
from domain.ratelimit import LoginThrottle
from domain.redis_client import get_redis


@cache
def login_throttle() -> LoginThrottle:
    settings = get_settings()
    return LoginThrottle(settings.redis_url, per_account=settings.login_rate_limit_account,
                         per_address=settings.login_rate_limit_address,
                         connection_pool=get_redis().connection_pool)


def characters() -> CharacterLibrary:
    return default_library()


def realtime_minter():
    """Mints OpenAI Realtime client secrets; None without an OpenAI key."""
    return None
