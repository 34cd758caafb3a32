"""CEFR levels, the one list: A1 (beginner) to C2 (mastery), how they are spelled, and
the three bands the phrasebooks are written for.

Learners, the API and the database write levels upper-case ("B1"); clients may send
either case. Prompt files and phrasebooks are named by the lower-case, normalized form
("b1", `normalize_level`).
"""
from __future__ import annotations

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
NORMALIZED_LEVELS = tuple(level.lower() for level in LEVELS)
# What a client may send; stored upper-case.
ACCEPTED_LEVELS = LEVELS + NORMALIZED_LEVELS
# Normalized level -> its band: the offline phrasebooks (characters', hints', penpal's)
# have one section per band, not per level.
BANDS = {"a1": "a1a2", "a2": "a1a2", "b1": "b1b2", "b2": "b1b2", "c1": "c1c2", "c2": "c1c2"}
BAND_ORDER = tuple(dict.fromkeys(BANDS.values()))  # easiest first


def normalize_level(level: str) -> str:
    """'A1' or ' a1 ' -> 'a1'; anything that is not a CEFR level is a caller bug."""
    normalized = str(level).strip().lower()
    if normalized not in NORMALIZED_LEVELS:
        raise ValueError(f"unknown CEFR level {level!r}; expected one of {', '.join(NORMALIZED_LEVELS)}")
    return normalized
