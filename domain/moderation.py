"""The moderation verdict on anything a learner writes or says: turns, penpal letters,
journey answers and voice transcripts all ask here, so they are judged the same way.

OpenAI's moderation endpoint when the provider chain has OpenAI (a paid call: callers
make it only while they hold the work's claim, and store the verdict so a redelivery
does not ask again); else, and whenever that call fails, the local check
(domain/language/moderation.py). The verdict is `{flagged, categories, source}`, with
categories in the local check's vocabulary whoever spoke.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from domain.language import moderate
from domain.llm.base import ProviderFailure
from domain.llm.chain import ProviderChain
from domain.runtime import SIDE_CALL_SECONDS

log = logging.getLogger(__name__)


def verdict(chain: ProviderChain, text: str, *, deadline: float) -> dict[str, Any]:
    """Judge `text` by `deadline` (a time.monotonic() value; the provider gets at most
    SIDE_CALL_SECONDS). `source` says which check spoke: "openai" or "local"."""
    if chain.openai is not None:
        try:
            deadline = min(deadline, time.monotonic() + SIDE_CALL_SECONDS)
            found = chain.openai.moderate(text, deadline=deadline)
            return {"flagged": found["flagged"], "categories": local_category_names(found["categories"]),
                    "source": "openai"}
        except ProviderFailure as failure:
            log.warning("OpenAI moderation failed (%s); using the local check", failure.reason)
    return {**moderate(text).to_dict(), "source": "local"}


def local_category_names(openai_categories: list[str]) -> list[str]:
    """OpenAI's categories in the local check's vocabulary, so clients see one set:
    "self-harm/intent" -> "self_harm", "harassment/threatening" -> "harassment"."""
    names = (category.split("/")[0].replace("-", "_") for category in openai_categories)
    return list(dict.fromkeys(names))
