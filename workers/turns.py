"""Turn pipeline tasks: thin wrappers over domain.pipeline."""
from __future__ import annotations

import uuid

from celery import signals

from domain.turns import AnalysisInput
from domain import tasks
from workers.celery_app import celery
from workers.runtime import pipeline


@celery.task(name=tasks.TURN_ANALYSE)
def analyse_turn(turn_id: str, known: dict | None = None) -> None:
    """On `nlp`: the rules' analysis, then `turns.respond`."""
    pipeline().analyse_turn(uuid.UUID(turn_id), AnalysisInput.from_dict(known) if known else None)


@celery.task(name=tasks.TURN_RESPOND)
def respond(turn_id: str, rules: dict) -> None:
    """On `llm`: moderation, the model's grammar pass and the reply, in parallel."""
    pipeline().respond(uuid.UUID(turn_id), rules)


@signals.celeryd_init.connect
def _load_language_model(options: dict, **_: object) -> None:
    # The `nlp` worker loads spaCy once, before forking its pool, so every child shares
    # the model and no learner's turn waits for it.
    if "nlp" in (options.get("queues") or ""):
        from domain.language import warm_up

        warm_up()


@celery.task(name=tasks.LANGUAGE_ANALYSE)
def analyse(text: str, language: str, reply_key: str, native_language: str | None = None) -> None:
    """For POST /language/check: the analysis, handed back through a Redis list."""
    pipeline().answer_analysis(text, language, reply_key, native_language)
