"""What the features' background work shares: the settings, Redis, the event publisher,
the characters, the models (the provider chain and the offline provider) and a way to
hand work to another queue. A worker process builds one (workers/runtime.py); a unit
test builds one with fakes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from domain.characters import CharacterLibrary
from domain.config import Settings
from domain.events import EventPublisher
from domain.llm.chain import ProviderChain
from domain.llm.offline import OfflineProvider

# Calls with no deadline of their own (hints, summaries, moderation, journey scoring) give
# the models this long.
SIDE_CALL_SECONDS = 20.0


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    redis: Redis
    publisher: EventPublisher
    characters: CharacterLibrary
    chain: ProviderChain  # the configured models, in order; empty when none is
    offline: OfflineProvider
    send_task: Callable[[str, list, dict], None]  # send_task(name, args, kwargs): a task of domain/tasks.py
