"""The second labelled set (tests/data/fr_errors_second.jsonl) is the frozen output of its
generator, in the dev set's format, with the dev set's categories and levels."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
CATEGORIES = {"gender_agreement", "number_agreement", "subject_verb", "past_participle", "auxiliary",
              "tense_mood", "preposition", "contraction_elision", "spelling", "negation", "pronoun",
              "word_order"}


def _items(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_frozen_file_is_the_generators_output():
    done = subprocess.run([sys.executable, str(DATA / "make_second_set.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_format_size_and_mix():
    items = _items("fr_errors_second.jsonl")
    assert len(items) >= 400
    assert len({item["id"] for item in items}) == len(items)
    correct = sum(1 for item in items if not item["errors"])
    assert 0.25 <= correct / len(items) <= 0.35
    assert {item["level"] for item in items} == {"A1", "A2", "B1", "B2"}
    categories = Counter(error["category"] for item in items for error in item["errors"])
    assert set(categories) == CATEGORIES
    assert min(categories.values()) >= 10
    for item in items:
        assert set(item) == {"id", "text", "level", "errors"}
        for error in item["errors"]:
            assert item["text"][error["start"]:error["end"]] == error["wrong"]
            assert error["wrong"] != error["correction"]


def test_no_sentence_is_taken_from_the_dev_set():
    dev = {item["text"] for item in _items("fr_errors_dev.jsonl")}
    assert not dev & {item["text"] for item in _items("fr_errors_second.jsonl")}
