"""What a worker process builds once: the runtime the features' background work shares,
and the turn pipeline on it."""
from __future__ import annotations

from functools import cache

from domain.characters import default_library
from domain.config import get_settings
from domain.llm.chain import get_chain
from domain.llm.offline import OfflineProvider
from domain.redis_client import get_publisher, get_redis
from domain.runtime import Runtime
from domain.turn_pipeline import TurnPipeline
from workers.dispatch import send


@cache
def runtime() -> Runtime:
    return Runtime(
        settings=get_settings(),
        redis=get_redis(),
        publisher=get_publisher(),
        characters=default_library(),
        chain=get_chain(),
        offline=OfflineProvider(),
        send_task=send,
    )


@cache
def turn_pipeline() -> TurnPipeline:
    return TurnPipeline(runtime())
