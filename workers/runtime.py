"""The pipeline as a worker process builds it once."""
from __future__ import annotations

from functools import cache

from domain.characters import default_library
from domain.config import get_settings
from domain.llm.chain import get_chain
from domain.llm.offline import OfflineProvider
from domain.pipeline import Pipeline
from domain.redis_client import get_publisher, get_redis
from workers.dispatch import send


@cache
def pipeline() -> Pipeline:
    return Pipeline(
        settings=get_settings(),
        redis=get_redis(),
        publisher=get_publisher(),
        characters=default_library(),
        chain=get_chain(),
        offline=OfflineProvider(),
        send_task=send,
    )
