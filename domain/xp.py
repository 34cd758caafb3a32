"""Experience points: a small reward for every turn, more for longer and cleaner ones."""
from __future__ import annotations

BASE_TURN_XP = 5
CLEAN_TURN_BONUS = 5
MAX_LENGTH_BONUS = 5


def for_turn(*, text: str, error_count: int, flagged: bool) -> int:
    """XP for one learner turn. A flagged message earns nothing; writing more (up to
    about 20 words) and writing it without errors each earn a bonus."""
    if flagged:
        return 0
    words = len(text.split())
    length_bonus = min(words // 4, MAX_LENGTH_BONUS)
    clean_bonus = CLEAN_TURN_BONUS if error_count == 0 and words >= 3 else 0
    return BASE_TURN_XP + length_bonus + clean_bonus
