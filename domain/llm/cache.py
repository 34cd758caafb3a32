"""Redis cache of deterministic answers (JSON at temperature 0): the same question to the
same model is paid for once per TTL. A Redis outage only costs the cache."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging

import redis

from domain.llm.base import ChatRequest

log = logging.getLogger(__name__)


class AnswerCache:
    def __init__(self, redis_client: redis.Redis, *, ttl_seconds: int):
        self._redis = redis_client
        self._ttl = ttl_seconds

    @staticmethod
    def key(*, provider: str, model: str, request: ChatRequest, schema: dict) -> str:
        asked = {**dataclasses.asdict(request), "learner_id": None}  # the same answer for every learner
        material = json.dumps([provider, model, asked, schema], sort_keys=True, ensure_ascii=False)
        return "parlons:llm:cache:" + hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        try:
            raw = self._redis.get(key)
        except redis.RedisError:
            log.warning("LLM cache unavailable (Redis); asking the provider")
            return None
        return json.loads(raw) if raw is not None else None

    def put(self, key: str, answer: dict) -> None:
        if self._ttl <= 0:
            return
        try:
            self._redis.set(key, json.dumps(answer, ensure_ascii=False), ex=self._ttl)
        except redis.RedisError:
            log.warning("LLM cache unavailable (Redis); answer not cached")
