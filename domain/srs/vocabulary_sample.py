"""The sample vocabulary `make run` loads: the project's French–English glossary
(domain/data/glossary_fr_en.csv, written for Parlons) ranked by how often the word is
used, from the `wordfreq` package's French frequencies.

A word's frequency is the sum over its forms (plural, feminine, every conjugated form
the grammar lexicon knows), so "être" ranks by "est", "suis", "était"... and not by its
infinitive alone. CEFR levels follow from the rank (see LEVEL_BANDS): an approximation
good enough to order what a learner meets first, not an official CEFR list.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from domain.language import grammar

GLOSSARY = Path(__file__).parents[1] / "data" / "glossary_fr_en.csv"
# (highest rank in the level, level): the first ~500 words are A1, and so on.
LEVEL_BANDS = ((500, "A1"), (1200, "A2"), (2200, "B1"), (3500, "B2"), (6000, "C1"))


def sample_rows(glossary: Path = GLOSSARY) -> list[dict[str, Any]]:
    """The glossary's words with their frequency rank and level, most frequent first."""
    from wordfreq import word_frequency

    with glossary.open(newline="", encoding="utf-8") as handle:
        entries = list(csv.DictReader(handle))
    frequency = {id(entry): sum(word_frequency(form, "fr") for form in forms(entry["lemma"], entry["pos"]))
                 for entry in entries}
    ranked = sorted(entries, key=lambda entry: (-frequency[id(entry)], entry["lemma"], entry["pos"]))
    return [{**entry, "gender": entry["gender"] or None, "frequency_rank": rank, "cefr_level": level_for(rank)}
            for rank, entry in enumerate(ranked, start=1)]


def level_for(rank: int) -> str:
    return next((level for highest, level in LEVEL_BANDS if rank <= highest), "C2")


def forms(lemma: str, pos: str) -> set[str]:
    """The word's forms that the grammar lexicon knows (at least the lemma itself)."""
    found = {lemma}
    if pos == "noun":
        found.add(grammar.pluralize(lemma))
    elif pos == "adjective":
        for spellings in (grammar.adjective_forms(lemma) or {}).values():
            found.update(spellings)
    elif pos == "verb":
        for tense in (grammar.paradigm(lemma) or {}).values():
            found.update(form for form in tense if form != "-")
        participle = grammar.past_participle(lemma)
        if participle:
            found.update({participle, participle + "e", participle + "s", participle + "es"})
    return found
