from domain import xp


def test_flagged_turn_earns_nothing():
    assert xp.for_turn(text="un message assez long pour un bonus", error_count=0, flagged=True) == 0


def test_clean_and_longer_turns_earn_more():
    short_with_error = xp.for_turn(text="je vont", error_count=1, flagged=False)
    short_clean = xp.for_turn(text="je vais bien", error_count=0, flagged=False)
    long_clean = xp.for_turn(text=" ".join(["mot"] * 16), error_count=0, flagged=False)
    assert short_with_error < short_clean < long_clean


def test_length_bonus_is_capped():
    assert xp.for_turn(text="mot " * 200, error_count=1, flagged=False) == xp.BASE_TURN_XP + xp.MAX_LENGTH_BONUS
