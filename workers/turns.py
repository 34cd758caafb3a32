"""Turn tasks: each calls one method of the turn pipeline (domain/turn_pipeline.py), or
transcribes a spoken turn before it (domain/audio_turns.py)."""
from __future__ import annotations

import uuid

from celery import signals

from domain import audio_turns, tasks
from domain.turns import AnalysisInput
from workers.celery_app import celery
from workers.runtime import turn_pipeline


@celery.task(name=tasks.TURN_ANALYSE)
def analyse_turn(turn_id: str, known: dict | None = None) -> None:
    """On `nlp`: the rules' analysis, then `turns.respond`."""
    turn_pipeline().analyse_turn(uuid.UUID(turn_id), AnalysisInput.from_dict(known) if known else None)


@celery.task(name=tasks.TURN_RESPOND)
def respond(turn_id: str, rules: dict) -> None:
    """On `llm`: moderation, the model's grammar pass and the reply, in parallel."""
    turn_pipeline().respond(uuid.UUID(turn_id), rules)


@celery.task(name=tasks.TURN_TRANSCRIBE)
def transcribe(turn_id: str) -> None:
    """On `llm`: a spoken turn's recording transcribed once, then `turns.analyse`."""
    audio_turns.transcribe(turn_pipeline(), uuid.UUID(turn_id))


@signals.celeryd_init.connect
def _load_language_model(options: dict, **_: object) -> None:
    # The `nlp` worker loads spaCy once, before forking its pool, so every child shares
    # the model and no learner's turn waits for it.
    if "nlp" in (options.get("queues") or ""):
        from domain.language import warm_up

        warm_up()
