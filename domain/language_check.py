"""The worker's side of POST /language/check: the web process does not load spaCy, so it
asks an `nlp` worker (workers/dispatch.analyse_now) and waits on a Redis list for this
answer."""
from __future__ import annotations

import json

from redis import Redis

from domain.language import analyse_grammar

_ANSWER_TTL_SECONDS = 60  # an analysis nobody collects (the caller gave up) expires


def answer(redis: Redis, text: str, language: str, reply_key: str, native_language: str | None = None) -> None:
    """Analyse a text for a caller waiting on `reply_key`."""
    with redis.pipeline() as pipe:
        pipe.rpush(reply_key, json.dumps(analyse_grammar(text, language, native_language)))
        pipe.expire(reply_key, _ANSWER_TTL_SECONDS).execute()
