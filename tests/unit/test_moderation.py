"""The one moderation verdict (domain/moderation.py) without a model: the local check."""
from __future__ import annotations

import time

from domain import moderation
from domain.llm.chain import ProviderChain


def test_without_openai_the_verdict_is_the_local_checks():
    chain = ProviderChain([])
    assert moderation.verdict(chain, "Bonjour, je voudrais un café.", deadline=time.monotonic() + 5) == {
        "flagged": False, "categories": [], "source": "local"}
    assert moderation.verdict(chain, "T'es un connard.", deadline=time.monotonic() + 5) == {
        "flagged": True, "categories": ["harassment"], "source": "local"}


def test_openai_categories_are_named_as_the_local_check_names_them():
    assert moderation.local_category_names(
        ["harassment", "harassment/threatening", "self-harm/intent", "hate"]) == ["harassment", "self_harm", "hate"]
