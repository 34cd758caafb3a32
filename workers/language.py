"""The language check's task: the analysis for POST /language/check, on `nlp`."""
from __future__ import annotations

from domain import language_check, tasks
from workers.celery_app import celery
from workers.runtime import runtime


@celery.task(name=tasks.LANGUAGE_ANALYSE)
def analyse(text: str, language: str, reply_key: str, native_language: str | None = None) -> None:
    """The analysis, handed back through a Redis list."""
    language_check.answer(runtime().redis, text, language, reply_key, native_language)
