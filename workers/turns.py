"""Turn pipeline tasks: thin wrappers over domain.pipeline."""
from __future__ import annotations

import uuid

from celery import signals

from workers.celery_app import celery
from workers.runtime import pipeline


@celery.task(name="turns.grammar")
def grammar(turn_id: str) -> None:
    pipeline().run_grammar(uuid.UUID(turn_id))


@celery.task(name="turns.moderation")
def moderation(turn_id: str) -> None:
    pipeline().run_moderation(uuid.UUID(turn_id))


@celery.task(name="turns.reply")
def reply(turn_id: str) -> None:
    pipeline().run_reply(uuid.UUID(turn_id))


@celery.task(name="turns.finalize")
def finalize(turn_id: str) -> None:
    pipeline().finalize(uuid.UUID(turn_id))


@signals.worker_process_init.connect
def _load_language_model(**_: object) -> None:
    # Load spaCy once per `nlp` process before the first task, not during a learner's turn.
    if "nlp" in (celery.amqp.queues.consume_from or {}):
        from domain.language import warm_up

        warm_up()
